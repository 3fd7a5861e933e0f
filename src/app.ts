import type { Context } from 'hono'
import type { AppEnv } from './app-env.ts'
import { cacheTrust } from './middleware/cache-trust/index.ts'
import { authenticateApiKey } from './middleware/api-key/index.ts'
import { tenantCors } from './middleware/cors/index.ts'
import { authenticate } from './middleware/auth/index.ts'
import { jsonBody } from './middleware/json-body/index.ts'
import { refuseUnsafeText } from './middleware/text-input/index.ts'
import { rateLimit } from './middleware/rate-limit/index.ts'
import { requireMfaEnrolment } from './middleware/require-mfa/index.ts'
import { handleError, handleNotFound } from './middleware/request-context/errors.ts'
import { requestContext } from './middleware/request-context/index.ts'
import { resolveTenant } from './middleware/tenant/index.ts'
import { securityHeaders } from './middleware/security-headers/index.ts'
import { browserSignIn } from './sections/browser-session/sign-in.ts'
import { registerBrowserSessionRoutes } from './sections/browser-session/routes.ts'
import { registerHandoffRoutes } from './sections/handoff/routes.ts'
import { sectionRouter } from './openapi.ts'
import { accessTokenKey } from './identity/context.ts'
import { registerHealthRoutes } from './sections/health/routes.ts'
import { registerCurrentTenantRoutes } from './sections/tenant/routes.ts'
import { registerSignInOptionsRoute } from './sections/tenant/sign-in-options.ts'
import { registerTenantRoutes } from './sections/tenants/routes.ts'
import { registerAuthRoutes } from './sections/auth/routes.ts'
import { registerWorkspaceRoutes } from './sections/workspaces/routes.ts'
import { registerJwksRoutes } from './sections/jwks/routes.ts'
import { registerDocsRoutes } from './sections/docs/routes.ts'
import { registerMeRoutes } from './sections/me/routes.ts'
import { queueSessionChecks } from './identity/session-checks.ts'
import { registerDevRoutes } from './sections/dev/routes.ts'
import { registerAuditRoutes } from './sections/audit/routes.ts'
import { registerApiKeyRoutes } from './sections/api-keys/routes.ts'
import { registerOAuthRoutes } from './sections/oauth/routes.ts'
import { registerMfaRoutes } from './sections/mfa/routes.ts'
import { registerEmailFlowRoutes } from './sections/auth-email/routes.ts'
import { registerWebhookRoutes } from './sections/webhooks/routes.ts'
import { registerMemberRoutes } from './sections/members/routes.ts'
import { registerAuthzRoutes } from './sections/authz/routes.ts'
import { registerSigningKeyRoutes } from './sections/signing-keys/routes.ts'

type C = Context<AppEnv>

/** The head of /openapi.json (scripts/openapi.ts builds the same document without a server). */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Atrium API', version: '0.1.0', description: 'Multi-tenant identity and application backend.' },
}

/**
 * The whole request path, top to bottom:
 *   request id + logs + errors → security headers → JSON body rules → text rules → cache trust (pending effects)
 *   → tenant from subdomain → CORS → cookie sign-in → JWT → API key → rate limit (with the session's checks,
 *   one Redis round trip) → require-MFA (the tenant's `require_mfa`: enrol first) → sections, each route
 *   declaring its own gates (tenant host, sign-in, membership, permission, throttle) in its `middleware`.
 * /health and /openapi.json answer before tenant resolution, on every host; /.well-known/jwks.json
 * right after it (each host publishes its own keys).
 */
export function createApp() {
  const app = sectionRouter()
  app.onError(handleError)
  app.notFound(handleNotFound)

  app.use('*', requestContext())
  app.use('*', securityHeaders())
  app.use('*', jsonBody({ maxBytes: (c) => (c as C).get('config').MAX_BODY_BYTES }))
  // NUL and lone surrogates anywhere in the path, query or JSON body: 400 here, never a database error.
  app.use('*', refuseUnsafeText())

  registerHealthRoutes(app)
  registerDevRoutes(app)
  app.doc31('/openapi.json', OPENAPI_DOCUMENT)
  registerDocsRoutes(app)
  app.openAPIRegistry.registerComponent('securitySchemes', 'platformAdmin', {
    type: 'http', scheme: 'bearer', description: 'PLATFORM_ADMIN_TOKEN',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })

  // Redis is only trusted by an isolate that knows no committed change still owes it an effect.
  app.use('*', cacheTrust())
  app.use('*', resolveTenant((c) => {
    const config = (c as C).get('config')
    return { baseDomains: config.BASE_DOMAINS, allowHeader: config.ALLOW_TENANT_HEADER }
  }))
  // The tenant's own browser apps (settings.cors.allowed_origins); answers preflights itself.
  app.use('*', tenantCors())
  // The JWKS depends on the host (a tenant's own keys, or the platform's), and needs no credentials.
  registerJwksRoutes(app)
  // The web app's sign-in: the refresh token goes into an HttpOnly cookie (docs/browser-sessions.md).
  app.use('*', browserSignIn())
  app.use('*', authenticate({
    keyFor: (c, kid) => accessTokenKey(c as C, (c as C).var.tenant, kid),
    // A revoked session's access tokens stop working at once, not at expiry: checked in the rate
    // limiter's Redis round trip, with the tenant's authorization version.
    queueChecks: (c, claims) => queueSessionChecks(c as C, (c as C).var.tenant, claims),
  }))
  app.use('*', authenticateApiKey())
  // One Redis request: the limit's hit, the session's revocation, the tenant's authorization version.
  app.use('*', rateLimit({ limitFor: (c) => limitFor(c as C) }))
  // Whatever the limiter did not send (Redis down): the queued checks still answer before any route.
  app.use('*', async (c, next) => {
    await (c as C).get('round').settle()
    await next()
  })
  app.use('*', requireMfaEnrolment())

  registerCurrentTenantRoutes(app)
  registerSignInOptionsRoute(app)
  registerTenantRoutes(app)
  registerAuthRoutes(app)
  registerWorkspaceRoutes(app)
  registerBrowserSessionRoutes(app)
  registerHandoffRoutes(app)
  registerMeRoutes(app)
  registerAuditRoutes(app)
  registerApiKeyRoutes(app)
  registerOAuthRoutes(app)
  registerMfaRoutes(app)
  registerEmailFlowRoutes(app)
  registerWebhookRoutes(app)
  registerMemberRoutes(app)
  registerAuthzRoutes(app)
  registerSigningKeyRoutes(app)
  return app
}

/** The tenant's own limit (settings.rate_limit) or the deployment's default. */
function limitFor(c: C) {
  // c.get, not c.var: Hono builds a new object of every variable on each read of c.var.
  const own = c.get('tenant')?.settings.rate_limit as { max?: number; window_seconds?: number } | undefined
  const config = c.get('config')
  return {
    max: own?.max ?? config.RATE_LIMIT_MAX,
    windowSeconds: own?.window_seconds ?? config.RATE_LIMIT_WINDOW_SECONDS,
  }
}
