import { Hono } from 'hono'
import { sign } from 'hono/jwt'
import { describe, expect, it } from 'vitest'
import { generatePrivateKeyPem, signingKeys } from '../../platform/signing-keys.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { handleError } from '../request-context/errors.ts'
import type { VerificationKey } from '../../platform/signing-keys.ts'
import { authenticate, requireAuth, type AuthVariables } from './index.ts'

const TENANT_A = { id: '018f0000-0000-7000-8000-00000000000a' } as Tenant
const TENANT_B = { id: '018f0000-0000-7000-8000-00000000000b' } as Tenant
const oldKey = await generatePrivateKeyPem()
/** The deployment's key (the Worker's JWT_PRIVATE_KEY binding). */
const deploymentKey = await generatePrivateKeyPem()

/** Keys by kid, the way the app chooses them on a host that trusts the deployment key (and `previous`). */
function platformKeys(previous?: string, extra: Omit<VerificationKey, 'key'> = {}) {
  return async (_c: unknown, kid: string | undefined): Promise<VerificationKey | undefined> => {
    const keys = await signingKeys(deploymentKey, previous)
    const key = keys.verifyKeys.get(kid ?? keys.kid)
    return key && { key, ...extra }
  }
}

function appFor(tenant: Tenant | null, previous?: string, extra: Omit<VerificationKey, 'key'> = {}) {
  const app = new Hono<{ Variables: AuthVariables & { tenant: Tenant | null } }>()
  app.onError(handleError)
  app.use('*', async (c, next) => {
    c.set('tenant', tenant)
    await next()
  })
  app.use('*', authenticate({ keyFor: platformKeys(previous, extra) }))
  app.get('/open', (c) => c.json({ auth: c.var.auth }))
  app.get('/protected', requireAuth(), (c) => c.json({ sub: c.var.auth.sub }))
  return app
}

async function token(claims: Record<string, unknown>, key: string = deploymentKey) {
  const keys = await signingKeys(key)
  const now = Math.floor(Date.now() / 1000)
  return sign({ sub: 'user-1', iat: now, exp: now + 60, ...claims }, keys.privateJwk, 'ES512')
}

async function get(app: ReturnType<typeof appFor>, path: string, bearer?: string) {
  const res = await app.request(path, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} })
  return { status: res.status, body: (await res.json()) as any }
}

describe('JWT middleware', () => {
  it('accepts a valid ES512 token on its own tenant host and exposes the claims', async () => {
    const res = await get(appFor(TENANT_A), '/protected', await token({ tid: TENANT_A.id }))
    expect(res).toEqual({ status: 200, body: { sub: 'user-1' } })
  })

  it('puts the kid of the signing key in the header', async () => {
    const t = await token({ tid: TENANT_A.id })
    const header = JSON.parse(atob(t.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')))
    expect(header).toMatchObject({ alg: 'ES512', kid: (await signingKeys(deploymentKey)).kid })
  })

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 120
    const res = await get(appFor(TENANT_A), '/open', await token({ tid: TENANT_A.id, iat: past - 60, exp: past }))
    expect(res.status).toBe(401)
    expect(res.body.error).toEqual({ code: 'invalid_token', message: 'The access token has expired.' })
  })

  it('refuses a token signed with another algorithm (HS256 with the public key as secret, and ES256)', async () => {
    const keys = await signingKeys(deploymentKey)
    const hs = await sign({ sub: 'x', tid: TENANT_A.id, exp: Math.floor(Date.now() / 1000) + 60 }, JSON.stringify(keys.publicJwks[0]), 'HS256')
    expect((await get(appFor(TENANT_A), '/open', hs)).status).toBe(401)
    const es256 = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])) as CryptoKeyPair
    const jwk = await crypto.subtle.exportKey('jwk', es256.privateKey)
    const es = await sign({ sub: 'x', tid: TENANT_A.id, exp: Math.floor(Date.now() / 1000) + 60 }, { ...jwk, alg: 'ES256' } as never, 'ES256')
    expect((await get(appFor(TENANT_A), '/open', es)).status).toBe(401)
  })

  it('refuses a token whose tenant claim names another tenant, or any tenant on the platform host', async () => {
    const forB = await token({ tid: TENANT_B.id })
    const res = await get(appFor(TENANT_A), '/open', forB)
    expect(res.status).toBe(401)
    expect(res.body.error.message).toBe('The access token was issued for another tenant.')
    expect((await get(appFor(null), '/open', forB)).status).toBe(401)
    expect((await get(appFor(TENANT_A), '/open', await token({})))).toMatchObject({ status: 401 })
  })

  it('refuses a tampered payload and a token signed by an unknown key', async () => {
    const t = await token({ tid: TENANT_A.id })
    const [h, , s] = t.split('.')
    const forged = btoa(JSON.stringify({ sub: 'admin', tid: TENANT_A.id, exp: 9_999_999_999 })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    expect((await get(appFor(TENANT_A), '/open', `${h}.${forged}.${s}`)).status).toBe(401)
    expect((await get(appFor(TENANT_A), '/open', await token({ tid: TENANT_A.id }, oldKey))).status).toBe(401)
  })

  it('accepts a token from the previous key while it is listed for rotation', async () => {
    const old = await signingKeys(oldKey)
    const previous = JSON.stringify({ keys: old.publicJwks })
    const res = await get(appFor(TENANT_A, previous), '/protected', await token({ tid: TENANT_A.id }, oldKey))
    expect(res.status).toBe(200)
  })

  it('checks the audience, the issuer and the issue time the chosen key demands', async () => {
    const strict = appFor(TENANT_A, undefined, { audience: 'atrium:a', issuer: (iss) => iss === 'https://a.example', issuedBefore: Math.floor(Date.now() / 1000) + 30 })
    const good = { tid: TENANT_A.id, aud: 'atrium:a', iss: 'https://a.example' }
    expect((await get(strict, '/protected', await token(good))).status).toBe(200)
    expect((await get(strict, '/protected', await token({ ...good, aud: ['other', 'atrium:a'] }))).status).toBe(200)
    for (const bad of [{ aud: 'atrium:b' }, { aud: undefined }, { iss: 'https://b.example' }, { iss: undefined }]) {
      const res = await get(strict, '/open', await token({ ...good, ...bad }))
      expect(res.status, JSON.stringify(bad)).toBe(401)
    }
    const now = Math.floor(Date.now() / 1000)
    const replaced = appFor(TENANT_A, undefined, { issuedBefore: now - 30 })
    expect((await get(replaced, '/protected', await token({ tid: TENANT_A.id, iat: now - 60 }))).status).toBe(200)
    expect((await get(replaced, '/protected', await token({ tid: TENANT_A.id, iat: now }))).status).toBe(401)
    expect((await get(replaced, '/protected', await token({ tid: TENANT_A.id, iat: undefined }))).status).toBe(401)
  })

  it('lets requests without a token through to public routes, and stops them at protected ones', async () => {
    expect(await get(appFor(TENANT_A), '/open')).toEqual({ status: 200, body: { auth: null } })
    const res = await get(appFor(TENANT_A), '/protected')
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('unauthenticated')
  })

  it('leaves bearer credentials that are not JWTs to other middleware', async () => {
    expect(await get(appFor(TENANT_A), '/open', 'atr_not_a_jwt')).toEqual({ status: 200, body: { auth: null } })
  })

  it('accepts a token it verified before only until its exp, while its key stays in the key set, on its own tenant', async () => {
    const app = appFor(TENANT_A)
    const now = Math.floor(Date.now() / 1000)
    const shortLived = await token({ tid: TENANT_A.id, iat: now, exp: now + 2 })
    expect((await get(app, '/protected', shortLived)).status).toBe(200)
    expect((await get(app, '/protected', shortLived)).status).toBe(200)
    // Cached or not, the tenant binding is checked on every request.
    expect((await get(appFor(TENANT_B), '/open', shortLived)).body.error.message).toBe('The access token was issued for another tenant.')
    // A key that leaves the key set stops its cached tokens at once.
    const old = await signingKeys(oldKey)
    const fromOld = await token({ tid: TENANT_A.id }, oldKey)
    expect((await get(appFor(TENANT_A, JSON.stringify({ keys: old.publicJwks })), '/protected', fromOld)).status).toBe(200)
    expect((await get(appFor(TENANT_A), '/protected', fromOld)).status).toBe(401)
    // What the host requires of its tokens (here an audience) is checked on remembered tokens too.
    expect((await get(appFor(TENANT_A, undefined, { audience: 'atrium:elsewhere' }), '/protected', shortLived)).status).toBe(401)
    // Past its exp the cached token is refused as expired.
    await new Promise((r) => setTimeout(r, (now + 3) * 1000 - Date.now()))
    const expired = await get(app, '/protected', shortLived)
    expect(expired.status).toBe(401)
    expect(expired.body.error.message).toBe('The access token has expired.')
  })

  it('checks the session’s revocation on every request, cached token or not', async () => {
    let revoked = false
    const app = new Hono<{ Variables: AuthVariables & { tenant: Tenant | null } }>()
    app.onError(handleError)
    app.use('*', async (c, next) => {
      c.set('tenant', TENANT_A)
      await next()
    })
    app.use('*', authenticate({ keyFor: platformKeys(), isRevoked: async () => revoked }))
    app.get('/protected', requireAuth(), (c) => c.json({ sub: c.var.auth.sub }))
    const t = await token({ tid: TENANT_A.id, sid: 'session-1' })
    expect((await app.request('/protected', { headers: { authorization: `Bearer ${t}` } })).status).toBe(200)
    revoked = true
    const res = await app.request('/protected', { headers: { authorization: `Bearer ${t}` } })
    expect(res.status).toBe(401)
    expect(((await res.json()) as any).error.message).toBe('The session of this access token has ended.')
  })
})
