import { z } from '@hono/zod-openapi'
import { KnownSettings } from './settings.ts'
import { TENANT_STATUSES } from '../db/public-schema.ts'
import type { Tenant } from './registry.ts'

/** A tenant's display name, wherever it is set (platform API, the tenant's own PATCH). */
export const TenantName = z.string().trim().min(1).max(200)

/**
 * Tenant settings as a request carries them: known settings are validated (src/tenancy/settings.ts),
 * unknown keys are kept as given (for the tenant's own use). The one schema of every write path.
 */
export const Settings = z
  // Every known key also takes null, which removes it in a PATCH.
  .looseObject(Object.fromEntries(Object.entries(KnownSettings.shape).map(([k, v]) => [k, v.nullable()])) as { [K in keyof typeof KnownSettings.shape]: z.ZodNullable<(typeof KnownSettings.shape)[K]> })
  .refine((s) => JSON.stringify(s).length <= 16_384, 'settings may be at most 16 KiB of JSON')
  .openapi({ description: 'Tenant settings (JSON object). PATCH merges them (RFC 7396: null removes a key).' })

/** The fields every view of a tenant starts with (the platform admin's and the tenant host's own). */
export const tenantFields = {
  id: z.uuid(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(TENANT_STATUSES),
  plan: z.string(),
}

export function presentTenantFields(t: Pick<Tenant, 'id' | 'slug' | 'name' | 'status' | 'plan'>) {
  return { id: t.id, slug: t.slug, name: t.name, status: t.status, plan: t.plan }
}
