import { createRoute, z } from '@hono/zod-openapi'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, type sectionRouter, json } from '../../openapi.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { presentProviders } from '../oauth/provider-settings.ts'
import { PROVIDERS } from '../oauth/schemas.ts'

const SignInOptions = z
  .object({
    name: z.string(),
    logo_url: z.string().nullable().openapi({ description: 'settings.branding.logo_url' }),
    signup_policy: z.enum(['open', 'invite_only', 'domain']),
    password_min_length: z.number(),
    require_mfa: z.boolean(),
    social_providers: z.array(z.enum(PROVIDERS)).openapi({ description: 'Social sign-in providers configured and enabled for this tenant' }),
  })
  .openapi('SignInOptions')

/**
 * GET /v1/tenant/sign-in-options on a tenant host: what its sign-in and sign-up pages offer.
 * Public, like the pages themselves; no credential or internal setting (the sign-up domains
 * stay private: the API tells a refused address when it tries).
 */
export function registerSignInOptionsRoute(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/tenant/sign-in-options', tags: ['Tenant'], summary: 'What the tenant’s sign-in and sign-up pages offer',
      middleware: [tenantHostOnly()] as const,
      responses: { 200: json(SignInOptions, 'The options'), ...errorResponses(403, 404, 429) },
    }),
    (c) => {
      const tenant = c.var.tenant
      const settings = effectiveSettings(tenant.settings)
      return c.json(
        {
          name: tenant.name,
          logo_url: settings.logoUrl,
          signup_policy: settings.signupPolicy,
          password_min_length: settings.passwordMinLength,
          require_mfa: settings.requireMfa,
          social_providers: presentProviders(c, tenant).filter((p) => p.available).map((p) => p.provider),
        },
        200,
      )
    },
  )
}
