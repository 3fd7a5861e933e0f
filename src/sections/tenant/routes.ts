import { createRoute, z } from '@hono/zod-openapi'
import { TENANT_STATUSES } from '../../db/public-schema.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, type sectionRouter } from '../../openapi.ts'
import type { Tenant } from '../../tenancy/registry.ts'

const CurrentTenant = z
  .object({ id: z.uuid(), slug: z.string(), name: z.string(), status: z.enum(TENANT_STATUSES), plan: z.string(), created_at: z.string() })
  .openapi('CurrentTenant')

/** What any client of a tenant host may know about it: no settings (they may hold credentials), no internals. */
function presentCurrentTenant(t: Tenant): z.infer<typeof CurrentTenant> {
  return { id: t.id, slug: t.slug, name: t.name, status: t.status, plan: t.plan, created_at: new Date(t.createdAt).toISOString() }
}

/** GET /v1/tenant on a tenant host: the tenant the host names. */
export function registerCurrentTenantRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/tenant', tags: ['Tenant'], summary: 'The tenant this host belongs to',
      middleware: [tenantHostOnly()] as const,
      responses: { 200: { description: 'The tenant', content: { 'application/json': { schema: CurrentTenant } } }, ...errorResponses(403, 404, 429) },
    }),
    (c) => c.json(presentCurrentTenant(c.var.tenant!), 200),
  )
}
