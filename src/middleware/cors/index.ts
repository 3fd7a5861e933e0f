import type { MiddlewareHandler } from 'hono'
import { fail } from '../../errors.ts'
import { originAllowed } from '../../tenancy/cors-origins.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import type { TenantVariables } from '../tenant/index.ts'

/** What a tenant's browser app may send: every method the API has, and the headers it reads. */
export const CORS_ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-Id'] as const
/** Response headers a browser app may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['X-Request-Id', 'Location', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const
const PREFLIGHT_MAX_AGE_SECONDS = 600

export const CorsErrors = {
  cors_origin_not_allowed: [403, 'This origin is not in the tenant’s cors.allowed_origins.'],
} as const

function appendVary(headers: Headers) {
  const vary = headers.get('vary')
  if (!vary?.toLowerCase().split(/\s*,\s*/).includes('origin')) headers.set('vary', vary ? `${vary}, Origin` : 'Origin')
}

/**
 * CORS for the tenant's own browser apps, on its host: an `Origin` listed in the tenant's
 * `cors.allowed_origins` gets exactly that origin back, with credentials; any other origin (`null`,
 * a look-alike, every origin on the platform host) gets no CORS header at all, so the browser keeps
 * the answer from the page. Preflights are answered here (204, or 403 for an unlisted origin) and
 * never reach a route. Runs right after tenant resolution, so the answers of everything after it,
 * errors included, carry the headers.
 */
export function tenantCors(): MiddlewareHandler<{ Variables: TenantVariables }> {
  return async function tenantCorsMiddleware(c, next) {
    const origin = c.req.header('origin')
    const tenant = c.get('tenant')
    const allowed = origin !== undefined && tenant !== null && originAllowed(origin, effectiveSettings(tenant.settings).corsAllowedOrigins)
    const preflight = c.req.method === 'OPTIONS' && origin !== undefined && c.req.header('access-control-request-method') !== undefined
    if (preflight) {
      if (!allowed) throw fail(CorsErrors, 'cors_origin_not_allowed')
      const headers = new Headers({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': CORS_ALLOWED_METHODS.join(', '),
        'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      })
      appendVary(headers)
      return new Response(null, { status: 204, headers })
    }
    await next()
    // The answer depends on Origin whenever the tenant lists any, so shared caches must key on it.
    if (tenant && effectiveSettings(tenant.settings).corsAllowedOrigins.length) appendVary(c.res.headers)
    if (!allowed) return
    c.res.headers.set('access-control-allow-origin', origin)
    c.res.headers.set('access-control-allow-credentials', 'true')
    c.res.headers.set('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(', '))
  }
}
