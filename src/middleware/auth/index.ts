import type { MiddlewareHandler } from 'hono'
import { verify } from 'hono/jwt'
import { decodeHeader } from 'hono/utils/jwt/jwt'
import type { JWTPayload } from 'hono/utils/jwt/types'
import { commonError } from '../../errors.ts'
import type { SigningKeys } from '../../platform/signing-keys.ts'
import type { TenantVariables } from '../tenant/index.ts'

/** The claims of an Atrium access token (issued by the identity section). */
export interface AccessClaims extends JWTPayload {
  sub: string
  /** Tenant id: a token is accepted only on its own tenant's host. */
  tid?: string
  /** Session id. */
  sid?: string
  jti?: string
}

export interface AuthVariables {
  /** Verified access-token claims, or null when the request carries no JWT. */
  auth: AccessClaims | null
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Verified tokens, per isolate, by the SHA-256 of the token: a client repeats its access token on
 * every request, and the ES512 verification (≈1 ms of CPU in workerd) is then skipped. An entry
 * holds the claims and the key that verified them; it is used only while that same key is still in
 * the deployment's key set (a key removed from rotation stops its tokens at once) and until the
 * token's `exp`. The tenant binding and the session's revocation are checked on every request.
 * Bounded: the oldest entries go first.
 */
const verified = new Map<string, { claims: AccessClaims; key: CryptoKey }>()
const MAX_VERIFIED = 10_000

async function tokenDigest(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
}

function remember(digest: string, entry: { claims: AccessClaims; key: CryptoKey }) {
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!)
  verified.set(digest, entry)
}

export type RevocationCheck = (claims: AccessClaims) => Promise<boolean>

/**
 * Verify a bearer JWT when one is presented (ES512 only, keys by `kid`), and bind it to the
 * tenant resolved from the host. A request without a JWT goes on with `auth = null`: routes
 * declare themselves protected with `requireAuth()`. Other bearer credentials (the platform
 * admin token, API keys) are not JWT-shaped and are left to their own middleware.
 */
export function authenticate(options: {
  keys: (c: Parameters<MiddlewareHandler>[0]) => Promise<SigningKeys>
  isRevoked?: (c: Parameters<MiddlewareHandler>[0], claims: AccessClaims) => Promise<boolean>
}): MiddlewareHandler<{ Variables: AuthVariables & TenantVariables }> {
  return async function authenticateMiddleware(c, next) {
    const header = c.req.header('authorization')
    const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim()
    if (!token || !JWT_SHAPE.test(token)) {
      c.set('auth', null)
      return next()
    }
    const keys = await options.keys(c)
    let claims: AccessClaims
    try {
      const { kid } = decodeHeader(token)
      const key = kid ? keys.verifyKeys.get(kid) : keys.verifyKeys.get(keys.kid)
      if (!key) throw new Error('unknown signing key')
      const digest = await tokenDigest(token)
      const hit = verified.get(digest)
      if (hit && hit.key === key && hit.claims.exp! > Date.now() / 1000) {
        claims = hit.claims
      } else {
        if (hit) verified.delete(digest)
        claims = (await verify(token, key, { alg: 'ES512' })) as AccessClaims
        if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw new Error('missing sub or exp')
        remember(digest, { claims, key })
      }
    } catch (err) {
      const expired = err instanceof Error && err.name === 'JwtTokenExpired'
      throw commonError('invalid_token', expired ? 'The access token has expired.' : undefined)
    }
    const tenant = c.var.tenant
    if ((tenant?.id ?? undefined) !== (claims.tid ?? undefined)) {
      throw commonError('invalid_token', 'The access token was issued for another tenant.')
    }
    if (options.isRevoked && (await options.isRevoked(c, claims))) {
      throw commonError('invalid_token', 'The session of this access token has ended.')
    }
    c.set('auth', claims)
    await next()
  }
}

/** Declares a route protected: 401 unless a valid access token was presented. */
export function requireAuth(): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function requireAuthMiddleware(c, next) {
    if (!c.var.auth) throw commonError('unauthenticated')
    await next()
  }
}
