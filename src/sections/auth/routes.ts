import { createRoute, z } from '@hono/zod-openapi'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { refreshSession, revokeAllSessions, revokeSession } from '../../identity/sessions.ts'
import { requireAuth } from '../../middleware/auth/index.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, json, body, security } from '../../openapi.ts'
import { passwordLogin } from '../../identity/sign-in.ts'
import { platformPasswordLogin } from '../workspaces/platform-login.ts'
import { PlatformSignIn } from '../workspaces/schemas.ts'
import { registerOnPlatform, registerOnTenant } from './register.ts'
import { switchTenant } from './switch.ts'
import { MfaRequired, TokenResponse } from '../../identity/schemas.ts'
import { AddressClaim, LoginBody, RefreshBody, RegisterBody, RegisteredMfaRequired, RegisterResponse, RegistrationPending, SwitchBody } from './schemas.ts'

const tags = ['Auth']
const SwitchedTenant = z.object({ id: z.uuid(), slug: z.string() })

/** Accounts, sign-in, tokens and sessions: /v1/auth/*. */
export function registerAuthRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/register', tags, middleware: [credentialThrottle] as const,
      summary: 'Create an account. On the platform host: with a personal tenant it owns. On a tenant host: joining that tenant, if its sign-up policy allows.',
      request: body(RegisterBody),
      responses: {
        201: json(z.union([RegisterResponse, RegisteredMfaRequired]), 'Account created (or joined) and signed in; an existing account with TOTP on gets mfa_required instead of tokens'),
        202: json(z.union([RegistrationPending, AddressClaim]), 'Domain sign-up: the membership waits for the address to be verified (link mailed), no session; or the address is held by an unverified account: a takeover link went to it'),
        ...errorResponses(400, 401, 403, 409, 429),
      },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const tenant = c.var.tenant
      const result = tenant ? await registerOnTenant(c, tenant, input) : await registerOnPlatform(c, input)
      if ('verification_required' in result || 'address_claim' in result) return c.json(result, 202)
      return c.json(result, 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/login', tags, middleware: [credentialThrottle] as const,
      summary: 'Sign in with email and password. Tenant host: tokens, or an MFA challenge. Platform host: the user’s organizations and a selection credential (POST /v1/auth/select on the chosen one).',
      request: body(LoginBody),
      responses: { 200: json(z.union([TokenResponse, MfaRequired, PlatformSignIn]), 'Tokens, mfa_required with an mfa_token, or (platform host) workspaces with a selection_token'), ...errorResponses(400, 401, 429) },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json')
      const tenant = c.var.tenant
      return c.json(tenant ? await passwordLogin(c, tenant, email, password) : await platformPasswordLogin(c, email, password), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/refresh', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Exchange a refresh token for new tokens (rotation; a reused token ends its session)',
      request: body(RefreshBody),
      responses: { 200: json(TokenResponse, 'New tokens'), ...errorResponses(400, 401, 429) },
    }),
    async (c) => {
      const tenant = c.var.tenant
      return c.json(await refreshSession(await sessionDeps(c, tenant), tenant, c.req.valid('json').refresh_token, requestMeta(c)), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/logout', tags, security, middleware: [tenantHostOnly(), requireAuth()] as const,
      summary: 'End the current session', responses: { 204: { description: 'Signed out' }, ...errorResponses(401) },
    }),
    async (c) => {
      const auth = c.var.auth
      if (auth.sid) await revokeSession(await sessionDeps(c, c.var.tenant), c.var.tenant, auth.sid, 'logout', requestMeta(c), auth.sub, auth.sub)
      return c.body(null, 204)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/logout-all', tags, security, middleware: [tenantHostOnly(), requireAuth()] as const,
      summary: 'End every session of the user in this tenant, this one included',
      responses: { 200: json(z.object({ revoked: z.number() }), 'How many sessions ended'), ...errorResponses(401) },
    }),
    async (c) => {
      const ids = await revokeAllSessions(await sessionDeps(c, c.var.tenant), c.var.tenant, c.var.auth.sub, 'logout_all')
      return c.json({ revoked: ids.length }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/switch', tags, security, middleware: [tenantHostOnly(), requireAuth()] as const,
      summary: 'New tokens for another tenant the user belongs to (org switcher); the session keeps the source session\'s end and MFA level',
      request: body(SwitchBody),
      responses: {
        200: json(z.union([TokenResponse.extend({ tenant: SwitchedTenant }), MfaRequired.extend({ tenant: SwitchedTenant })]), 'Tokens for the other tenant, or an MFA challenge to complete on its host'),
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => c.json(await switchTenant(c, c.req.valid('json').tenant), 200),
  )

  app.route('/v1/auth', router)
}

