import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { userHasMfa } from '../../identity/mfa/status.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'

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
