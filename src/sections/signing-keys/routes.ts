import { createRoute } from '@hono/zod-openapi'
import { desc, sql } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import { auditInsert, requestMeta, type AuditEvent } from '../../identity/audit.ts'
import { tenantKeyDeps } from '../../identity/context.ts'
import { requirePermission } from '../../middleware/permission/index.ts'
import { platformApi } from '../../middleware/platform-admin/index.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, json, security, platformAdminSecurity } from '../../openapi.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { findTenantById, type Tenant } from '../../tenancy/registry.ts'
import { loadTenantKeys, rotateTenantKey } from '../../tenancy/signing-keys.ts'
import { TenantIdParam } from '../tenants/schemas.ts'
import { present, SigningKeyList } from './schemas.ts'


/** Every key of the tenant, newest first (a tenant that predates per-tenant keys adopts one first). */
async function listKeys(c: AppScope, tenant: Tenant) {
  await loadTenantKeys(tenantKeyDeps(c), tenant)
  const t = tenantTables(tenant.schemaName)
  const rows = await c.var.db
    .select({ kid: t.signingKeys.kid, status: t.signingKeys.status, publicJwk: t.signingKeys.publicJwk, createdAt: t.signingKeys.createdAt, rotatedAt: t.signingKeys.rotatedAt, retiredAt: t.signingKeys.retiredAt })
    .from(t.signingKeys)
    .orderBy(desc(t.signingKeys.createdAt), sql`case ${t.signingKeys.status} when 'current' then 0 when 'previous' then 1 else 2 end`)
    .limit(100)
  return { data: rows.map(present) }
}

/** Rotate, with its audit entry in the rotation's batch. */
async function rotate(c: AppScope, tenant: Tenant, actor: Pick<AuditEvent, 'actorType' | 'actorId'>) {
  await rotateTenantKey(tenantKeyDeps(c), tenant, (key) => [
    auditInsert(c.var.db, tenant.schemaName, requestMeta(c), { ...actor, action: 'signing_key.rotated', targetType: 'signing_key', targetId: key.kid }),
  ])
  return listKeys(c, tenant)
}

async function platformTenant(c: AppScope, id: string) {
  const tenant = await findTenantById(c.var.db, id)
  if (!tenant || tenant.status === 'deleted') throw fail(TenantErrors, 'tenant_not_found')
  return tenant
}

/**
 * A tenant's access-token signing keys: on the platform host for the platform admin
 * (/v1/tenants/:id/signing-keys), on the tenant host behind signing_keys:read|rotate
 * (/v1/tenant/signing-keys). Only public halves are ever answered.
 */
export function registerSigningKeyRoutes(app: ReturnType<typeof sectionRouter>) {
  const platform = sectionRouter()
  const platformTags = ['Platform: tenants']
  
  platform.openapi(
    createRoute({
      method: 'get', path: '/{id}/signing-keys', middleware: platformApi(), tags: platformTags, security: platformAdminSecurity, summary: "A tenant's access-token signing keys (public halves)",
      request: { params: TenantIdParam },
      responses: { 200: json(SigningKeyList, 'Newest first'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await listKeys(c, await platformTenant(c, c.req.valid('param').id)), 200),
  )

  platform.openapi(
    createRoute({
      method: 'post', path: '/{id}/signing-keys/rotate', middleware: platformApi(), tags: platformTags, security: platformAdminSecurity,
      summary: "Rotate a tenant's signing key: a new current key; the current one stays valid as previous; the previous one is retired",
      request: { params: TenantIdParam },
      responses: { 200: json(SigningKeyList, 'The keys after the rotation'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await rotate(c, await platformTenant(c, c.req.valid('param').id), { actorType: 'platform_admin' }), 200),
  )
  app.route('/v1/tenants', platform)

  const tenantRouter = sectionRouter()
  const tags = ['Tenant']
    tenantRouter.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [tenantHostOnly(), requirePermission('signing_keys:read')] as const,
      summary: "This tenant's access-token signing keys (public halves)",
      responses: { 200: json(SigningKeyList, 'Newest first'), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await listKeys(c, c.var.tenant), 200),
  )
  tenantRouter.openapi(
    createRoute({
      method: 'post', path: '/rotate', tags, security, middleware: [tenantHostOnly(), requirePermission('signing_keys:rotate')] as const,
      summary: "Rotate this tenant's signing key: a new current key; the current one stays valid as previous; the previous one is retired",
      responses: { 200: json(SigningKeyList, 'The keys after the rotation'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const subject = c.var.subject
      return c.json(await rotate(c, c.var.tenant, { actorType: subject.type, actorId: subject.id }), 200)
    },
  )
  app.route('/v1/tenant/signing-keys', tenantRouter)
}
