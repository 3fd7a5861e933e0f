import { createRoute } from '@hono/zod-openapi'
import type { AppScope } from '../../app-env.ts'
import { idempotent, IdempotencyKeyHeader } from '../../middleware/idempotency/index.ts'
import { platformApi } from '../../middleware/platform-admin/index.ts'
import { errorResponses, sectionRouter, json, platformAdminSecurity, body } from '../../openapi.ts'
import {
  findTenantById,
  listTenants,
  purgeTenant,
  transitionTenant,
  type AuditContext,
  type Tenant,
} from '../../tenancy/registry.ts'
import { changeDeps } from '../../changes/commit.ts'
import { fail } from '../../errors.ts'
import { changeTenant } from '../../tenancy/change-tenant.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { CreateInvitationBody, InvitationSchema } from '../members/schemas.ts'
import { PLATFORM_ADMIN } from '../members/actor.ts'
import { createInvitation, presentInvitation } from '../members/invite.ts'
import { createTenant } from './create.ts'
import { CreatedTenant, CreateTenantBody, ListTenantsQuery, presentTenant, TenantIdParam, TenantPage, TenantSchema, UpdateTenantBody } from './schemas.ts'

const tags = ['Platform: tenants']

function auditContext(c: AppScope): AuditContext {
  return { actorType: 'platform_admin', ip: c.req.header('cf-connecting-ip') ?? null, userAgent: c.req.header('user-agent') ?? null }
}

/** A new tenant's slug may be cached as a miss (best effort: a miss lives MISS_TTL_SECONDS at most). */
async function afterCreate(c: AppScope, tenant: Tenant) {
  await c.var.tenants.invalidate(tenant)
}

/** The platform API: tenant lifecycle, on the platform host, for the platform admin. */
export function registerTenantRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security: platformAdminSecurity, middleware: [...platformApi(), idempotent()] as const,
      summary: 'Create a tenant (its registry row, schema and tables in one transaction), optionally with its owner (owner_email); accepts Idempotency-Key',
      request: { headers: IdempotencyKeyHeader, ...body(CreateTenantBody) },
      responses: { 201: json(CreatedTenant, 'The new tenant (with `owner` when owner_email was given)'), ...errorResponses(400, 401, 403, 409, 415, 422, 503) },
    }),
    async (c) => {
      const { tenant, owner } = await createTenant(c, c.req.valid('json'), auditContext(c))
      await afterCreate(c, tenant)
      c.header('Location', `/v1/tenants/${tenant.id}`)
      return c.json({ ...presentTenant(tenant), ...(owner ? { owner } : {}) }, 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/{id}/invitations', middleware: platformApi(), tags, security: platformAdminSecurity,
      summary: 'Invite someone into a tenant, with any role (owner included): the same invitation as POST /v1/invitations, by the platform admin',
      request: { params: TenantIdParam, ...body(CreateInvitationBody) },
      responses: { 201: json(InvitationSchema, 'The invitation (the token is only in the email)'), ...errorResponses(400, 401, 403, 404, 409, 415, 503) },
    }),
    async (c) => {
      const tenant = await findTenantById(c.var.db, c.req.valid('param').id)
      if (!tenant || tenant.status === 'deleted') throw fail(TenantErrors, 'tenant_not_found')
      if (tenant.status !== 'active') throw fail(TenantErrors, 'tenant_not_active', undefined, { status: tenant.status })
      const row = await createInvitation(c, tenant, PLATFORM_ADMIN, c.req.valid('json'))
      return c.json(presentInvitation(row), 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', middleware: platformApi(), tags, security: platformAdminSecurity, summary: 'List tenants (oldest first, cursor pagination)',
      request: { query: ListTenantsQuery },
      responses: { 200: json(TenantPage, 'A page of tenants'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor, status } = c.req.valid('query')
      const rows = await listTenants(c.var.db, { limit: limit + 1, after: cursor, status })
      const page = rows.slice(0, limit)
      const next = rows.length > limit ? page.at(-1)!.id : null
      return c.json({ data: page.map(presentTenant), next_cursor: next }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{id}', middleware: platformApi(), tags, security: platformAdminSecurity, summary: 'Get a tenant',
      request: { params: TenantIdParam },
      responses: { 200: json(TenantSchema, 'The tenant'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const tenant = await findTenantById(c.var.db, c.req.valid('param').id)
      if (!tenant) throw fail(TenantErrors, 'tenant_not_found')
      return c.json(presentTenant(tenant), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/{id}', middleware: platformApi(), tags, security: platformAdminSecurity, summary: 'Update name, plan or settings (settings merge per RFC 7396)',
      request: { params: TenantIdParam, ...body(UpdateTenantBody) },
      responses: { 200: json(TenantSchema, 'The updated tenant'), ...errorResponses(400, 401, 403, 404, 409, 415) },
    }),
    async (c) => {
      const tenant = await changeTenant(changeDeps(c), c.req.valid('param').id, c.req.valid('json'), auditContext(c))
      return c.json(presentTenant(tenant), 200)
    },
  )

  // Status transitions: suspend, resume, and the soft delete (its hosts answer 404 at once; purge drops the data later).
  for (const [method, path, action, summary, answer] of [
    ['post', '/{id}/suspend', 'suspend', 'Suspend a tenant: its hosts answer 403 tenant_suspended', 'The tenant'],
    ['post', '/{id}/resume', 'resume', 'Resume a suspended tenant', 'The tenant'],
    ['delete', '/{id}', 'delete', 'Soft-delete a tenant at once (its hosts answer 404); purge later drops its data', 'The deleted tenant'],
  ] as const) {
    router.openapi(
      createRoute({
        method, path, middleware: platformApi(), tags, security: platformAdminSecurity, summary,
        request: { params: TenantIdParam },
        responses: { 200: json(TenantSchema, answer), ...errorResponses(400, 401, 403, 404, 409) },
      }),
      async (c) => {
        const tenant = await transitionTenant(changeDeps(c), c.req.valid('param').id, action, auditContext(c))
        return c.json(presentTenant(tenant), 200)
      },
    )
  }

  router.openapi(
    createRoute({
      method: 'post', path: '/{id}/purge', middleware: platformApi(), tags, security: platformAdminSecurity,
      summary: 'Drop a deleted tenant’s schema and registry row (irreversible)',
      request: { params: TenantIdParam },
      responses: { 204: { description: 'Purged' }, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      await purgeTenant(changeDeps(c), c.req.valid('param').id)
      return c.body(null, 204)
    },
  )

  app.route('/v1/tenants', router)
}
