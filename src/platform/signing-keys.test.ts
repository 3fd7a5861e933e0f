import { decodeHeader } from 'hono/utils/jwt/jwt'
import { verify } from 'hono/jwt'
import { describe, expect, it } from 'vitest'
import { generatePrivateKeyPem, generateSigningJwk, signEs512, signingKeys } from './signing-keys.ts'

describe('signEs512', () => {
  it('writes a JWT that hono/jwt verifies with the public key, its header naming the kid', async () => {
    const { privateJwk } = await generateSigningJwk()
    const keys = await signingKeys(JSON.stringify(privateJwk))
    const now = Math.floor(Date.now() / 1000)
    for (let i = 0; i < 2; i++) {
      // The second signature reuses the imported key.
      const token = await signEs512({ sub: `user-${i}`, iat: now, exp: now + 60 }, privateJwk)
      expect(decodeHeader(token)).toEqual({ alg: 'ES512', typ: 'JWT', kid: privateJwk.kid })
      expect(await verify(token, keys.verifyKeys.get(privateJwk.kid)!, { alg: 'ES512' })).toMatchObject({ sub: `user-${i}` })
    }
  })

  it('writes a signature another key does not verify', async () => {
    const { privateJwk } = await generateSigningJwk()
    const other = await signingKeys(await generatePrivateKeyPem())
    const now = Math.floor(Date.now() / 1000)
    const token = await signEs512({ sub: 'user', iat: now, exp: now + 60 }, privateJwk)
    await expect(verify(token, other.verifyKeys.get(other.kid)!, { alg: 'ES512' })).rejects.toThrow()
  })
})
