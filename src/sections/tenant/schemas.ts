import { z } from '@hono/zod-openapi'
import type { Tenant } from '../../tenancy/registry.ts'
import { presentTenantFields, Settings, tenantFields, TenantName } from '../../tenancy/settings-schema.ts'

/**
 * Settings the platform keeps to itself: `rate_limit` is the deployment's quota for the tenant (a
 * tenant raising its own would defeat it), and `oauth` holds encrypted provider secrets written
 * only through /v1/oauth-providers. A tenant's PATCH naming them is refused; its view omits `oauth`.
 */
export const PLATFORM_MANAGED_SETTINGS = ['rate_limit', 'oauth'] as const

export const OwnSettings = Settings.superRefine((settings, ctx) => {
  for (const key of PLATFORM_MANAGED_SETTINGS) {
    if (Object.hasOwn(settings, key)) ctx.addIssue({ code: 'custom', path: [key], message: key === 'oauth' ? 'set provider apps with PUT /v1/oauth-providers/{provider}' : 'set by the platform, not by the tenant' })
  }
})

export const UpdateOwnTenantBody = z
  .strictObject({ name: TenantName.optional(), settings: OwnSettings.optional() })
  .refine((b) => b.name !== undefined || b.settings !== undefined, 'send at least one of name, settings')
  .openapi('UpdateOwnTenant')

export const CurrentTenant = z
  .object({
    ...tenantFields,
    created_at: z.string(),
    role: z.string().nullable().optional().openapi({ description: 'Signed-in callers only: the caller’s built-in role here (null for an API key or a non-member)' }),
    permissions: z.array(z.string()).optional().openapi({ description: 'Signed-in callers only: Atrium’s own permissions the caller holds tenant-wide (e.g. members:invite)' }),
    settings: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Only for callers holding tenant:update: the settings they may change (without oauth)' }),
  })
  .openapi('CurrentTenant')

/** What any client of a tenant host may know about it: no settings, no internals. */
export function presentCurrentTenant(t: Tenant): z.infer<typeof CurrentTenant> {
  return { ...presentTenantFields(t), created_at: new Date(t.createdAt).toISOString() }
}

/** The settings as the tenant's own admins see them: everything but the encrypted provider apps. */
export function ownSettingsView(t: Tenant): Record<string, unknown> {
  const { oauth: _secrets, ...rest } = t.settings
  return rest
}
