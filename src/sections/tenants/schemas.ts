import { z } from '@hono/zod-openapi'
import { TENANT_STATUSES } from '../../db/public-schema.ts'
import { SLUG_MESSAGES, slugProblem } from '../../tenancy/slug.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { presentTenantFields, Settings, tenantFields, TenantName } from '../../tenancy/settings-schema.ts'
import { Email } from '../../identity/schemas.ts'

export const Slug = z
  .string()
  .superRefine((slug, ctx) => {
    const problem = slugProblem(slug)
    if (problem) ctx.addIssue({ code: 'custom', message: SLUG_MESSAGES[problem], params: { reason: problem } })
  })
  .openapi({ example: 'acme', description: 'DNS label, 3–63 characters; becomes <slug>.<base domain>' })

const Name = TenantName
const Plan = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'a plan is a short lowercase identifier').openapi({ example: 'pro' })


export const CreateTenantBody = z
  .strictObject({
    slug: Slug,
    name: Name,
    plan: Plan.optional(),
    settings: Settings.optional(),
    owner_email: Email.optional().openapi({ description: 'The owner: an account with this verified address becomes owner at once; otherwise an owner invitation is mailed' }),
  })
  .openapi('CreateTenant')

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
    ...tenantFields,
    settings: z.record(z.string(), z.unknown()),
    schema_name: z.string(),
    placement: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi('Tenant')

export const TenantOwner = z
  .discriminatedUnion('status', [
    z.object({ status: z.literal('added'), user_id: z.uuid(), email: z.string() }),
    z.object({ status: z.literal('invited'), email: z.string(), invitation_id: z.uuid(), expires_at: z.string() }),
  ])
  .openapi('TenantOwner')

export const CreatedTenant = TenantSchema.extend({ owner: TenantOwner.optional() }).openapi('CreatedTenant')

export const TenantPage = z.object({ data: z.array(TenantSchema), next_cursor: z.string().nullable() }).openapi('TenantPage')

const iso = (pgTimestamp: string) => new Date(pgTimestamp).toISOString()

/** The platform admin's view of a tenant. */
export function presentTenant(t: Tenant): z.infer<typeof TenantSchema> {
  return {
    ...presentTenantFields(t),
    settings: t.settings,
    schema_name: t.schemaName,
    placement: t.placement,
    created_at: iso(t.createdAt),
    updated_at: iso(t.updatedAt),
    deleted_at: t.deletedAt ? iso(t.deletedAt) : null,
  }
}
