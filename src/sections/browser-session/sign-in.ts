import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { SESSION_HEADER, setSessionCookie } from './cookie.ts'
import { BrowserSessionErrors } from './errors.ts'
import { isSameOrigin } from './same-origin.ts'

/**
 * The endpoints that answer a new session's tokens for the host's own tenant. With
 * `X-Atrium-Session: cookie` their answer keeps the access token in the body and moves the
 * refresh token into the session cookie; without it they answer exactly as documented.
 */
export const BROWSER_SIGN_IN_PATHS = new Set([
  '/v1/auth/login',
  '/v1/auth/register',
  '/v1/auth/mfa/verify',
  '/v1/auth/magic-link/verify',
  '/v1/invitations/accept',
  '/v1/auth/session/handoff',
])

/**
 * Cookie sign-in for the web app, on top of the JSON sign-in endpoints (docs/browser-sessions.md).
 * A request asking for it must come from this origin (no login CSRF: another page cannot sign
 * a visitor in to an account of its choosing). Only a tenant host gets a cookie: the tokens are
 * then the host's own tenant's.
 */
export function browserSignIn(): MiddlewareHandler<AppEnv> {
  return async function browserSignInMiddleware(c, next) {
    if (c.req.method !== 'POST' || c.req.header(SESSION_HEADER) !== 'cookie' || !BROWSER_SIGN_IN_PATHS.has(c.req.path)) return next()
    if (!isSameOrigin(c)) throw fail(BrowserSessionErrors, 'cross_site_request')
    await next()
    if (!c.var.tenant || c.res.status < 200 || c.res.status >= 300) return
    if (!c.res.headers.get('content-type')?.includes('application/json')) return
    const body = (await c.res.clone().json()) as Record<string, unknown>
    if (typeof body.refresh_token !== 'string') return
    const { refresh_token: refreshToken, ...rest } = body
    const headers = new Headers(c.res.headers)
    headers.delete('content-length')
    headers.set('cache-control', 'no-store')
    c.res = new Response(JSON.stringify(rest), { status: c.res.status, headers })
    setSessionCookie(c, refreshToken)
  }
}
