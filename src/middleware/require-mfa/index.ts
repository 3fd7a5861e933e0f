import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { hasTotpEnabled } from '../../identity/mfa-challenge.ts'
import type { Database } from '../../platform/database.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Redis } from '../../platform/redis.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'

/**
 * "This user has TOTP on", cached in Redis so a tenant with `require_mfa` pays one Redis read
 * per request instead of a query. Only the positive answer is cached (a user who just enrolled
 * is never held back by a stale "no"); it is deleted when MFA is turned off.
 */
export const mfaEnabledKey = (userId: string) => `mfa:enabled:${userId}`
const CACHE_TTL_SECONDS = 300

type Deps = { db: Database; redis: Redis; logger: Logger }

export async function userHasMfa(deps: Deps, userId: string): Promise<boolean> {
  try {
    if (await deps.redis.get(mfaEnabledKey(userId))) return true
  } catch (err) {
    deps.logger.warn('MFA status cache unavailable; reading the database', { err })
  }
  const enabled = await hasTotpEnabled(deps.db, userId)
  if (enabled) await rememberMfaEnabled(deps, userId)
  return enabled
}

/** After enrolment: the next request need not read the database. Best effort. */
export async function rememberMfaEnabled(deps: Pick<Deps, 'redis' | 'logger'>, userId: string) {
  try {
    await deps.redis.set(mfaEnabledKey(userId), 1, { ex: CACHE_TTL_SECONDS })
  } catch (err) {
    deps.logger.warn('could not cache MFA status', { err })
  }
}

/**
 * After MFA is turned off. Best effort, logged as an error on failure: the stale "yes" then lets
 * the user past require_mfa until it expires (CACHE_TTL_SECONDS at most).
 */
export async function forgetMfaEnabled(deps: Pick<Deps, 'redis' | 'logger'>, userId: string) {
  try {
    await deps.redis.del(mfaEnabledKey(userId))
  } catch (err) {
    deps.logger.error('could not clear the cached MFA status', { err, user: userId })
  }
}

/** What a user who still has to enrol may call: the enrolment itself, signing out, refreshing, and reading who they are. */
function allowedBeforeEnrolment(method: string, path: string): boolean {
  if (path === '/v1/me/mfa' || path.startsWith('/v1/me/mfa/')) return true
  if (path === '/v1/auth/logout' || path === '/v1/auth/refresh') return true
  return (method === 'GET' || method === 'HEAD') && (path === '/v1/me' || path === '/v1/me/')
}

/**
 * Tenant setting `require_mfa`: a signed-in user without TOTP gets
 * `403 mfa_enrolment_required` everywhere but the enrolment endpoints (and sign-out,
 * refresh, GET /v1/me). Runs after authentication; requests without a user token (anonymous,
 * API keys, the platform host) and tenants without the setting go through untouched, without
 * a query.
 */
export function requireMfaEnrolment(): MiddlewareHandler<AppEnv> {
  return async function requireMfaEnrolmentMiddleware(c, next) {
    const tenant = c.get('tenant')
    const auth = c.get('auth')
    if (!tenant || !auth || !effectiveSettings(tenant.settings).requireMfa) return next()
    if (allowedBeforeEnrolment(c.req.method, c.req.path)) return next()
    if (!(await userHasMfa(c.var, auth.sub))) throw fail(IdentityErrors, 'mfa_enrolment_required')
    await next()
  }
}
