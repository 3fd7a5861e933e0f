import { z } from '@hono/zod-openapi'
import { TENANT_STATUSES } from '../../db/public-schema.ts'
import { SLUG_MESSAGES, slugProblem } from '../../tenancy/slug.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { KnownSettings } from '../../tenancy/settings.ts'

export const Slug = z
  .string()
  .superRefine((slug, ctx) => {
    const problem = slugProblem(slug)
    if (problem) ctx.addIssue({ code: 'custom', message: SLUG_MESSAGES[problem], params: { reason: problem } })
  })
  .openapi({ example: 'acme', description: 'DNS label, 3–63 characters; becomes <slug>.<base domain>' })

const Name = z.string().trim().min(1).max(200)
const Plan = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'a plan is a short lowercase identifier').openapi({ example: 'pro' })

/** Known settings are validated (src/tenancy/settings.ts); unknown keys are kept as given (for the tenant's own use). */
export const Settings = z
  // Every known key also takes null, which removes it in a PATCH.
  .looseObject(Object.fromEntries(Object.entries(KnownSettings.shape).map(([k, v]) => [k, v.nullable()])) as { [K in keyof typeof KnownSettings.shape]: z.ZodNullable<(typeof KnownSettings.shape)[K]> })
  .refine((s) => JSON.stringify(s).length <= 16_384, 'settings may be at most 16 KiB of JSON')
  .openapi({ description: 'Tenant settings (JSON object). PATCH merges them (RFC 7396: null removes a key).' })

export const CreateTenantBody = z.strictObject({ slug: Slug, name: Name, plan: Plan.optional(), settings: Settings.optional() }).openapi('CreateTenant')

export const UpdateTenantBody = z
  .strictObject({ name: Name.optional(), plan: Plan.optional(), settings: Settings.optional() })
  .refine((b) => Object.keys(b).length > 0, 'send at least one of name, plan, settings')
  .openapi('UpdateTenant')

export const TenantIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

export const ListTenantsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional().openapi({ description: 'next_cursor of the previous page' }),
  status: z.enum(TENANT_STATUSES).optional(),
})

export const TenantSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(TENANT_STATUSES),
    plan: z.string(),
    settings: z.record(z.string(), z.unknown()),
    schema_name: z.string(),
    placement: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi('Tenant')

export const TenantPage = z.object({ data: z.array(TenantSchema), next_cursor: z.string().nullable() }).openapi('TenantPage')

const iso = (pgTimestamp: string) => new Date(pgTimestamp).toISOString()

/** The platform admin's view of a tenant. */
export function presentTenant(t: Tenant): z.infer<typeof TenantSchema> {
  return {
    id: t.id,
    slug: t.slug,
    name: t.name,
    status: t.status,
    plan: t.plan,
    settings: t.settings,
    schema_name: t.schemaName,
    placement: t.placement,
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
    deleted_at: t.deletedAt ? iso(t.deletedAt) : null,
  }
}
