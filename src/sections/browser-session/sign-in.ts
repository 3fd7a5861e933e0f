import type { Context } from 'hono'
import type { MiddlewareHandler } from 'hono'
import { decode } from 'hono/jwt'
import type { AppEnv, AppScope } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { revokeSession } from '../../identity/sessions.ts'
import { findTenantById } from '../../tenancy/registry.ts'
import { createHandoff } from '../handoff/handoff.ts'
import { endChallenge, findChallenge } from '../../identity/mfa/challenge.ts'
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
 * Endpoints that may answer a session of another host — a new organization's: platform sign-up,
 * a new organization from the workspace picker (platform host) or from the org switcher
 * (POST /v1/me/tenants on a tenant host). In cookie mode that session is not handed to the
 * page: a handoff to the organization's host instead.
 */
export const PLATFORM_HANDOFF_PATHS = new Set(['/v1/auth/register', '/v1/auth/workspaces', '/v1/me/tenants'])

/**
 * Cookie sign-in for the web app, on top of the JSON sign-in endpoints (docs/browser-sessions.md).
 * A request asking for it must come from this origin (no login CSRF: another page cannot sign
 * a visitor in to an account of its choosing). Only a tenant host gets a cookie: the tokens are
 * then the host's own tenant's.
 */
export function browserSignIn(): MiddlewareHandler<AppEnv> {
  return async function browserSignInMiddleware(c, next) {
    if (c.req.method !== 'POST' || c.req.header(SESSION_HEADER) !== 'cookie') return next()
    const onTenantHost = BROWSER_SIGN_IN_PATHS.has(c.req.path)
    const handsOver = PLATFORM_HANDOFF_PATHS.has(c.req.path)
    if (!onTenantHost && !handsOver) return next()
    if (!isSameOrigin(c)) throw fail(BrowserSessionErrors, 'cross_site_request')
    await next()
    if (c.res.status < 200 || c.res.status >= 300) return
    if (!c.res.headers.get('content-type')?.includes('application/json')) return
    const body = (await c.res.clone().json()) as Record<string, unknown>
    const answeredTenant = (body.tenant as { id?: unknown } | undefined)?.id
    const otherHost = handsOver && typeof answeredTenant === 'string' && answeredTenant !== c.var.tenant?.id
    if (otherHost && body.mfa_required === true) {
      // The challenge belongs to the other host: its page asks for the code after the handoff instead.
      const { mfa_required: _required, mfa_token: mfaToken, ...rest } = body
      return replaceBody(c, { ...rest, ...(await handOverChallenge(c, answeredTenant, String(mfaToken))) })
    }
    if (typeof body.refresh_token !== 'string') return
    const { refresh_token: refreshToken, access_token: accessToken, ...rest } = body
    if (otherHost) {
      replaceBody(c, { ...rest, ...(await handOver(c, String(accessToken), rest)) })
    } else if (c.var.tenant && onTenantHost) {
      replaceBody(c, { access_token: accessToken, ...rest })
      setSessionCookie(c, refreshToken)
    }
  }
}

function replaceBody<E extends AppEnv>(c: Context<E>, body: Record<string, unknown>) {
  const headers = new Headers(c.res.headers)
  headers.delete('content-length')
  headers.set('cache-control', 'no-store')
  c.res = new Response(JSON.stringify(body), { status: c.res.status, headers })
}

/**
 * An answer that asked for MFA on the new organization: the challenge is ended here (it was never
 * shown), and the handoff carries no MFA, so the organization's host asks for the code itself.
 */
async function handOverChallenge(c: AppScope, tenantId: string, mfaToken: string) {
  const [tenant, challenge] = await Promise.all([findTenantById(c.var.db, tenantId), findChallenge(c.var.redis, mfaToken)])
  if (!tenant || !challenge || challenge.tenantId !== tenant.id) throw new Error('handoff of an unknown tenant or challenge')
  await endChallenge(c.var.redis, challenge)
  const { url, expires_in: expiresIn } = await createHandoff(c, tenant, challenge.userId, false)
  return { handoff: { url, expires_in: expiresIn } }
}

/**
 * A sign-up, or a new organization, opened a session of the new organization, whose host is another origin:
 * that session is closed again, and the page gets a handoff code for the organization's host
 * instead (no token of it stays in the platform page).
 */
async function handOver(c: AppScope, accessToken: string, answer: Record<string, unknown>) {
  const payload = decode(accessToken).payload as { sub: string; sid: string; tid: string }
  const tenant = await findTenantById(c.var.db, payload.tid)
  if (!tenant || (answer.tenant as { id?: string } | undefined)?.id !== tenant.id) throw new Error('platform sign-up answered tokens of another tenant')
  await revokeSession(await sessionDeps(c, tenant), tenant, payload.sid, 'handed_off', requestMeta(c), payload.sub, payload.sub)
  const { url, expires_in: expiresIn } = await createHandoff(c, tenant, payload.sub, false)
  return { handoff: { url, expires_in: expiresIn } }
}
