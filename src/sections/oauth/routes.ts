import { createRoute, z } from '@hono/zod-openapi'
import { generateCodeVerifier, generateState } from 'arctic'
import type { Context } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { AppError, commonError, fail } from '../../errors.ts'
import { tenantUrl } from '../../tenancy/hosts.ts'
import { selfService } from '../../middleware/membership/index.ts'
import { requirePermission } from '../../middleware/permission/index.ts'
import { tenantHostOnly, type TenantHostVariables } from '../../middleware/tenant/index.ts'
import { ErrorSchema, errorResponses, sectionRouter, json, security, body } from '../../openapi.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { MfaRequired, TokenResponse } from '../../identity/schemas.ts'
import { setSessionCookie } from '../browser-session/cookie.ts'
import { signInWithProfile } from './accounts.ts'
import { OAuthErrors } from './errors.ts'
import { bindBrowser, safeRedirect, sameBrowser, savePendingSignIn, takePendingSignIn } from './flow.ts'
import { linkIdentity, listIdentities, unlinkIdentity } from './identities.ts'
import { callbackUrl, deleteProviderSettings, presentProviders, putProviderSettings } from './provider-settings.ts'
import { oauthProvider, providerCredentials } from './providers.ts'
import { CallbackQuery, IdentityView, isProviderId, LinkStartBody, ProviderParam, ProviderSettingsBody, ProviderView, StartQuery, type ProviderId } from './schemas.ts'

const providerError = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } })

function providerFrom(value: string): ProviderId {
  if (!isProviderId(value)) throw fail(OAuthErrors, 'unknown_provider')
  return value
}

/** A browser result goes in the fragment: never sent to a server, not in Referer headers. */
function redirectWithFragment<E extends AppEnv>(c: Context<E>, target: string, result: object) {
  const url = new URL(target)
  url.hash = new URLSearchParams(Object.entries(result).map(([k, v]) => [k, String(v)])).toString()
  c.header('Cache-Control', 'no-store')
  c.header('Referrer-Policy', 'no-referrer')
  return c.redirect(url.toString(), 302)
}

/**
 * The provider's authorization URL for a new flow, its state (and PKCE verifier) kept in Redis for
 * the callback. A flow whose result goes to a browser page is bound to this browser (bindBrowser).
 */
async function authorizationFor<E extends AppEnv & { Variables: TenantHostVariables }>(c: Context<E>, provider: ProviderId, flow: { redirectTo: string | null; cookieSession?: boolean; linkUserId?: string }) {
  const tenant = c.var.tenant
  const client = oauthProvider(provider, await providerCredentials(c.var.config, tenant, provider), callbackUrl(c, tenant, provider))
  const state = generateState()
  const codeVerifier = client.pkce ? generateCodeVerifier() : null
  const browserHash = flow.redirectTo ? await bindBrowser(c) : null
  await savePendingSignIn(c, state, { tenantId: tenant.id, provider, codeVerifier, browserHash, ...flow })
  return client.authorizationUrl(state, codeVerifier ?? '').toString()
}

/** Sign in with Google, GitHub, Facebook or TikTok (/v1/auth/oauth/*): redirect, then callback. */
function signInRoutes() {
  const router = sectionRouter()
  const tags = ['Social sign-in']

  router.openapi(
    createRoute({
      method: 'get', path: '/{provider}', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Start a social sign-in: redirects the browser to the provider (state and, for Google and TikTok, PKCE)',
      request: { params: ProviderParam, query: StartQuery },
      responses: {
        302: { description: 'To the provider’s authorization page', headers: { Location: { schema: { type: 'string' } } } },
        ...errorResponses(400, 404, 429, 503),
      },
    }),
    async (c) => {
      const tenant = c.var.tenant
      const provider = providerFrom(c.req.valid('param').provider)
      const query = c.req.valid('query')
      const redirectTo = query.redirect_to === undefined ? null : safeRedirect(new URL(tenantUrl(c, tenant)).origin, query.redirect_to)
      if (query.session === 'cookie' && !redirectTo) throw commonError('validation_failed', 'session=cookie needs redirect_to.')
      const authorizationUrl = await authorizationFor(c, provider, { redirectTo, cookieSession: query.session === 'cookie' })
      c.header('Cache-Control', 'no-store')
      return c.redirect(authorizationUrl, 302)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{provider}/callback', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Where the provider sends the browser back: checks the state (once), exchanges the code, finds, links or creates the account, joins the tenant and signs in',
      description: 'Answers JSON tokens (or an MFA challenge). When the sign-in was started with redirect_to, redirects there instead with the same fields, or error and error_description, in the URL fragment.',
      request: { params: ProviderParam, query: CallbackQuery },
      responses: {
        200: json(z.union([TokenResponse, MfaRequired]), 'Tokens, or mfa_required with an mfa_token'),
        302: { description: 'To redirect_to, with the result in the fragment', headers: { Location: { schema: { type: 'string' } } } },
        ...errorResponses(400, 401, 403, 404, 409, 429, 503),
        502: providerError('The provider failed or answered unexpectedly'),
      },
    }),
    async (c) => {
      const tenant = c.var.tenant
      const provider = providerFrom(c.req.valid('param').provider)
      const query = c.req.valid('query')
      if (query.code === undefined && query.error === undefined) throw commonError('validation_failed', 'The callback needs code (or error) with state.')
      // From here the state is spent, whatever happens next.
      const pending = await takePendingSignIn(c, tenant.id, provider, query.state)
      if (pending.browserHash && !(await sameBrowser(c, pending.browserHash))) throw fail(OAuthErrors, 'browser_mismatch')
      try {
        if (query.error !== undefined || query.code === undefined) throw fail(OAuthErrors, 'oauth_denied', undefined, { provider_error: query.error ?? null })
        const client = oauthProvider(provider, await providerCredentials(c.var.config, tenant, provider), callbackUrl(c, tenant, provider))
        const tokens = await client.exchangeCode(query.code, pending.codeVerifier)
        const profile = await client.fetchProfile(tokens)
        // Linking, started by a signed-in user (POST /v1/me/identities/:provider): no sign-in, the result goes back to the page.
        if (pending.linkUserId) return redirectWithFragment(c, pending.redirectTo!, await linkIdentity(c, tenant, pending.linkUserId, provider, profile))
        const result = await signInWithProfile(c, tenant, provider, profile)
        if (pending.redirectTo && pending.cookieSession && 'refresh_token' in result) {
          const { refresh_token: refreshToken, ...rest } = result
          setSessionCookie(c, refreshToken)
          return redirectWithFragment(c, pending.redirectTo, rest)
        }
        if (pending.redirectTo) return redirectWithFragment(c, pending.redirectTo, result)
        return c.json(result, 200)
      } catch (err) {
        if (pending.redirectTo && err instanceof AppError) return redirectWithFragment(c, pending.redirectTo, { error: err.code, error_description: err.message })
        throw err
      }
    },
  )
  return router
}

/** The signed-in user's linked social accounts (/v1/me/identities). */
function identityRoutes() {
  const router = sectionRouter()
  const tags = ['Me']

  router.openapi(
    createRoute({
      method: 'get', path: '/', middleware: selfService(), tags, security, summary: 'Social accounts linked to the signed-in user',
      responses: { 200: json(z.object({ data: z.array(IdentityView) }), 'Linked identities, oldest first'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json({ data: await listIdentities(c.var.db, c.var.auth.sub) }, 200),
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/{provider}', middleware: selfService(), tags, security,
      summary: 'Link a social account to mine: the provider’s authorization URL, for a top-level navigation; the callback links it and returns to redirect_to (default /account) with `linked` or `error` in the fragment',
      request: { params: ProviderParam, ...body(LinkStartBody) },
      responses: {
        201: json(z.object({ authorization_url: z.string() }).openapi('IdentityLinkStart'), 'Where to send the browser (the flow is bound to it by a cookie)'),
        ...errorResponses(400, 401, 403, 404, 409, 503),
      },
    }),
    async (c) => {
      const tenant = c.var.tenant
      const provider = providerFrom(c.req.valid('param').provider)
      const userId = c.var.auth.sub
      if ((await listIdentities(c.var.db, userId)).some((i) => i.provider === provider)) throw fail(OAuthErrors, 'provider_already_linked')
      const redirectTo = safeRedirect(new URL(tenantUrl(c, tenant)).origin, c.req.valid('json').redirect_to ?? '/account')
      c.header('Cache-Control', 'no-store')
      return c.json({ authorization_url: await authorizationFor(c, provider, { redirectTo, linkUserId: userId }) }, 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{provider}', middleware: selfService(), tags, security,
      summary: 'Unlink a social account; refused (409 last_sign_in_method) when it is the last way to sign in',
      request: { params: ProviderParam },
      responses: { 204: { description: 'Unlinked' }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      await unlinkIdentity(c, c.var.tenant, c.var.auth.sub, providerFrom(c.req.valid('param').provider))
      return c.body(null, 204)
    },
  )
  return router
}

/** The tenant's own OAuth apps (/v1/oauth-providers): oauth_providers:read|update|delete. */
function providerSettingsRoutes() {
  const router = sectionRouter()
  const tags = ['OAuth providers']

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('oauth_providers:read')] as const,
      summary: 'Every provider with its state on this tenant (own app, platform default or none); never secrets',
      responses: { 200: json(z.object({ data: z.array(ProviderView) }), 'The four providers'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json({ data: presentProviders(c, c.var.tenant) }, 200),
  )

  router.openapi(
    createRoute({
      method: 'put', path: '/{provider}', tags, security, middleware: [requirePermission('oauth_providers:update')] as const,
      summary: 'Set the tenant’s own OAuth app for a provider (the client secret is stored encrypted)',
      request: { params: ProviderParam, ...body(ProviderSettingsBody) },
      responses: { 200: json(ProviderView, 'The provider as now set'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(await putProviderSettings(c, providerFrom(c.req.valid('param').provider), c.req.valid('json')), 200),
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{provider}', tags, security, middleware: [requirePermission('oauth_providers:delete')] as const,
      summary: 'Remove the tenant’s own OAuth app for a provider (the platform default applies again, if any)',
      request: { params: ProviderParam },
      responses: { 204: { description: 'Removed' }, ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      await deleteProviderSettings(c, providerFrom(c.req.valid('param').provider))
      return c.body(null, 204)
    },
  )
  return router
}

/** Social sign-in, linked identities and the tenant's provider settings. */
export function registerOAuthRoutes(app: ReturnType<typeof sectionRouter>) {
  app.route('/v1/auth/oauth', signInRoutes())
  app.route('/v1/me/identities', identityRoutes())
  app.route('/v1/oauth-providers', providerSettingsRoutes())
}
