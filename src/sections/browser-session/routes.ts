import { createRoute, z } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import { tenantTables } from '../../db/tenant-schema.ts'
import { AppError, fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { hashToken } from '../../identity/secrets.ts'
import { refreshSession, revokeSession } from '../../identity/sessions.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, json } from '../../openapi.ts'
import { clearSessionCookie, sessionCookie, setSessionCookie } from './cookie.ts'
import { BrowserSessionErrors } from './errors.ts'
import { sameOriginBrowser } from './same-origin.ts'
import { MfaRequired } from '../../identity/schemas.ts'
import { redeemHandoff } from '../handoff/handoff.ts'

const tags = ['Browser session']
const SessionHeader = z.object({
  'x-atrium-session': z.literal('cookie').openapi({ description: 'Names the cookie session; the endpoint refuses requests without it' }),
})

export const BrowserAccessToken = z
  .object({ access_token: z.string(), expires_in: z.number(), token_type: z.literal('Bearer') })
  .openapi('BrowserAccessToken')

/** The web app's session on a tenant host, carried by the HttpOnly cookie: /v1/auth/session/*. */
export function registerBrowserSessionRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/refresh', tags, middleware: [tenantHostOnly(), sameOriginBrowser()] as const,
      summary: 'A new access token from the session cookie (the cookie’s refresh token rotates)',
      request: { headers: SessionHeader },
      responses: { 200: json(BrowserAccessToken, 'A new access token; the cookie holds the next refresh token'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const presented = sessionCookie(c)
      if (!presented) throw fail(BrowserSessionErrors, 'no_browser_session')
      const tenant = c.var.tenant
      try {
        const tokens = await refreshSession(await sessionDeps(c, tenant), tenant, presented, requestMeta(c))
        setSessionCookie(c, tokens.refresh_token)
        c.header('Cache-Control', 'no-store')
        return c.json({ access_token: tokens.access_token, expires_in: tokens.expires_in, token_type: tokens.token_type }, 200)
      } catch (err) {
        // A refused cookie is of no further use: drop it, so the page shows the sign-in form.
        if (err instanceof AppError && err.status === 401) clearSessionCookie(c)
        throw err
      }
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/logout', tags, middleware: [tenantHostOnly(), sameOriginBrowser()] as const,
      summary: 'Sign out: ends the cookie’s session and clears the cookie',
      request: { headers: SessionHeader },
      responses: { 204: { description: 'Signed out (also when there was no session)' }, ...errorResponses(400, 403) },
    }),
    async (c) => {
      const presented = sessionCookie(c)
      clearSessionCookie(c)
      if (presented) {
        const tenant = c.var.tenant
        const t = tenantTables(tenant.schemaName)
        const [known] = await c.var.db
          .select({ sessionId: t.refreshTokens.sessionId, userId: t.sessions.userId })
          .from(t.refreshTokens)
          .innerJoin(t.sessions, eq(t.sessions.id, t.refreshTokens.sessionId))
          .where(eq(t.refreshTokens.tokenHash, await hashToken(presented)))
          .limit(1)
        if (known) await revokeSession(await sessionDeps(c, tenant), tenant, known.sessionId, 'logout', requestMeta(c), known.userId, known.userId)
      }
      return c.body(null, 204)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/handoff', tags, middleware: [tenantHostOnly(), sameOriginBrowser()] as const,
      summary: 'Redeem an org switcher’s handoff code on its tenant’s host: a session cookie here, or the MFA step first',
      request: {
        headers: SessionHeader,
        body: { required: true, content: { 'application/json': { schema: z.strictObject({ code: z.string().min(32).max(128) }).openapi('RedeemHandoff') } } },
      },
      responses: {
        200: json(z.union([BrowserAccessToken, MfaRequired]), 'Signed in (the refresh token is in the cookie), or mfa_required'),
        ...errorResponses(400, 403, 503),
      },
    }),
    async (c) => {
      c.header('Cache-Control', 'no-store')
      // The sign-in middleware (browserSignIn) moves the refresh token into the cookie.
      return c.json((await redeemHandoff(c, c.req.valid('json').code)) as z.infer<typeof BrowserAccessToken>, 200)
    },
  )

  app.route('/v1/auth/session', router)
}
