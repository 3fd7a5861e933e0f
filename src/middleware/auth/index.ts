import type { MiddlewareHandler } from 'hono'
import { verify } from 'hono/jwt'
import { decode, decodeHeader } from 'hono/utils/jwt/jwt'
import type { JWTPayload } from 'hono/utils/jwt/types'
import { commonError } from '../../errors.ts'
import type { TenantVariables } from '../tenant/index.ts'
import type { VerificationKey } from '../../platform/signing-keys.ts'

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
 * holds the claims and the key that verified them; it is used only while `keyFor` still answers
 * that same key for the token's `kid` on this host (a key rotated out stops its tokens at once) and
 * until the token's `exp`. The audience, issuer and key-replacement rules, the tenant binding and
 * the session's revocation are checked on every request.
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


class WrongTenant extends Error {}

/** A token is accepted only on its own tenant's host (`tid`), and a token without `tid` only on the platform host. */
function claimsNameTenant(claims: JWTPayload, tenant: { id: string } | null): boolean {
  return (tenant?.id ?? undefined) === (claims.tid ?? undefined)
}

function audienceMatches(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected))
}

/**
 * Verify a bearer JWT when one is presented (ES512 only, the key chosen by `kid`: `keyFor`
 * decides which keys count on this host and what else their tokens must carry), and bind it
 * to the tenant resolved from the host. A request without a JWT goes on with `auth = null`:
 * routes declare themselves protected with `requireAuth()`. Other bearer credentials (the
 * platform admin token, API keys) are not JWT-shaped and are left to their own middleware.
 */
export function authenticate(options: {
  keyFor: (c: Parameters<MiddlewareHandler>[0], kid: string | undefined) => Promise<VerificationKey | undefined>
  isRevoked?: (c: Parameters<MiddlewareHandler>[0], claims: AccessClaims) => Promise<boolean>
  /**
   * Called with the verified claims before the rest of the chain runs: queues what must still be
   * checked (the app queues the session's revocation in the request's Redis round, answered by
   * the rate limiter's round trip: src/identity/session-checks.ts).
   */
  queueChecks?: (c: Parameters<MiddlewareHandler>[0], claims: AccessClaims) => void
}): MiddlewareHandler<{ Variables: AuthVariables & TenantVariables }> {
  return async function authenticateMiddleware(c, next) {
    const header = c.req.header('authorization')
    const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim()
    if (!token || !JWT_SHAPE.test(token)) {
      c.set('auth', null)
      return next()
    }
    const tenant = c.get('tenant')
    let claims: AccessClaims
    try {
      // Only for the answer (the token is refused either way): another tenant's token names a
      // key this tenant does not have, and would otherwise get the generic message.
      if (!claimsNameTenant(decode(token).payload, tenant)) throw new WrongTenant()
      const { kid } = decodeHeader(token)
      const verification = await options.keyFor(c, typeof kid === 'string' ? kid : undefined)
      if (!verification) throw new Error('unknown signing key')
      const digest = await tokenDigest(token)
      const hit = verified.get(digest)
      if (hit && hit.key === verification.key && hit.claims.exp! > Date.now() / 1000) {
        claims = hit.claims
      } else {
        if (hit) verified.delete(digest)
        claims = (await verify(token, verification.key, { alg: 'ES512' })) as AccessClaims
        if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw new Error('missing sub or exp')
        remember(digest, { claims, key: verification.key })
      }
      // Checked on every request, remembered or not: what the key's host requires of its tokens.
      if (verification.audience !== undefined && !audienceMatches(claims.aud, verification.audience)) throw new Error('wrong audience')
      if (verification.issuer && !verification.issuer(claims.iss)) throw new Error('wrong issuer')
      if (verification.issuedBefore !== undefined && !(typeof claims.iat === 'number' && claims.iat < verification.issuedBefore)) throw new Error('issued after its key was replaced')
    } catch (err) {
      if (err instanceof WrongTenant) throw commonError('invalid_token', 'The access token was issued for another tenant.')
      const expired = err instanceof Error && err.name === 'JwtTokenExpired'
      throw commonError('invalid_token', expired ? 'The access token has expired.' : undefined)
    }
    if (!claimsNameTenant(claims, tenant)) {
      throw commonError('invalid_token', 'The access token was issued for another tenant.')
    }
    if (options.isRevoked && (await options.isRevoked(c, claims))) {
      throw commonError('invalid_token', 'The session of this access token has ended.')
    }
    options.queueChecks?.(c, claims)
    c.set('auth', claims)
    await next()
  }
}

/** Declares a route protected: 401 unless a valid access token was presented. */
/** Behind `requireAuth`: the verified claims are there. */
export interface SignedInVariables {
  auth: AccessClaims
}

/** Routes for a signed-in user; gives the route's context non-null `auth`. */
export function requireAuth(): MiddlewareHandler<{ Variables: SignedInVariables }> {
  return async function requireAuthMiddleware(c, next) {
    if (!c.get('auth')) throw commonError('unauthenticated')
    await next()
  }
}
