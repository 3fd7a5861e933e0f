import type { MiddlewareHandler } from 'hono'
import type { AppEnv, AppScope } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { BrowserSessionErrors } from './errors.ts'
import { SESSION_HEADER } from './cookie.ts'

/**
 * Whether a request comes from a page of this very origin. `Origin` is sent by every browser
 * on a POST (Fetch standard, "append a request `Origin` header"); when a client leaves it out,
 * `Sec-Fetch-Site: same-origin` is accepted instead. Anything else — another tenant's host
 * (same *site* as this one, so SameSite=Lax alone would let its cookie through), another
 * site, `null` (sandboxed frames, data: URLs) — is cross-site.
 */
export function isSameOrigin(c: AppScope): boolean {
  const origin = c.req.header('origin')
  if (origin !== undefined) return origin === new URL(c.req.url).origin
  return c.req.header('sec-fetch-site') === 'same-origin'
}

/**
 * Guard of every endpoint a session cookie can authenticate or set: the request must name the
 * cookie session (a custom header, which no form or cross-origin request can send without a
 * CORS preflight) and come from this origin.
 */
export function sameOriginBrowser(): MiddlewareHandler<AppEnv> {
  return async function sameOriginBrowserMiddleware(c, next) {
    if (c.req.header(SESSION_HEADER) !== 'cookie') throw fail(BrowserSessionErrors, 'session_header_required')
    if (!isSameOrigin(c)) throw fail(BrowserSessionErrors, 'cross_site_request')
    await next()
  }
}
