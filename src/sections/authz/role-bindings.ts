import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm'
import { AuthzErrors } from '../../authz/errors.ts'
import { assertGrantCeiling } from '../../authz/permissions.ts'
import { uuidv7 } from '../../db/ids.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import { requirePermission, type PermissionContext } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, body, json, security } from '../../openapi.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { modelChange } from './changes.ts'
import { CreateRoleBinding, iso, RoleBinding, RoleBindingQuery } from './schemas.ts'

type C = PermissionContext

const tags = ['Authorization: role bindings']
const IdParam = z.object({ id: z.uuid() })

interface Row {
  id: string
  subjectType: 'user' | 'api_key'
  subjectId: string
  role: string
  resourceType: string | null
  resourceId: string | null
  expiresAt: Date | string | null
  createdBy: string | null
  createdAt: Date | string
}

function present(b: Row): z.infer<typeof RoleBinding> {
  const expiresAt = iso(b.expiresAt === null ? null : String(b.expiresAt instanceof Date ? b.expiresAt.toISOString() : b.expiresAt))
  return {
    id: b.id, subject: { type: b.subjectType, id: b.subjectId }, role: b.role, resource_type: b.resourceType, resource_id: b.resourceId,
    expires_at: expiresAt, expired: expiresAt !== null && new Date(expiresAt).getTime() <= Date.now(),
    created_by: b.createdBy, created_at: iso(String(b.createdAt instanceof Date ? b.createdAt.toISOString() : b.createdAt))!,
  }
}

/** Bindings with their role's name, filtered. */
function selectBindings(c: C, where: SQL | undefined) {
  const { roleBindings: b, roles: r } = tenantTables(c.var.tenant.schemaName)
  return c.var.db
    .select({ id: b.id, subjectType: b.subjectType, subjectId: b.subjectId, role: r.name, resourceType: b.resourceType, resourceId: b.resourceId, expiresAt: b.expiresAt, createdBy: b.createdBy, createdAt: b.createdAt })
    .from(b)
    .innerJoin(r, eq(r.id, b.roleId))
    .where(where)
}

async function findBinding(c: C, id: string): Promise<Row> {
  const b = tenantTables(c.var.tenant.schemaName).roleBindings
  const [row] = await selectBindings(c, eq(b.id, id)).limit(1)
  if (!row) throw fail(AuthzErrors, 'role_binding_not_found', `No role binding ${id}.`)
  return row
}

/** SQL: the subject is still an active member or a live API key (repeated inside the insert). */
function subjectStillThere(c: C, subject: { type: 'user' | 'api_key'; id: string }): SQL {
  const { members: m, apiKeys: k } = tenantTables(c.var.tenant.schemaName)
  return subject.type === 'user'
    ? sql`exists (select 1 from ${m} where ${m.userId} = ${subject.id} and ${m.status} = 'active')`
    : sql`exists (select 1 from ${k} where ${k.id} = ${subject.id} and ${k.revokedAt} is null and (${k.expiresAt} is null or ${k.expiresAt} > now()))`
}

/**
 * /v1/role-bindings: who holds which role, tenant-wide or on one resource instance, optionally
 * until an expiry (docs/api/authorization-roles.md).
 */
export function roleBindingRoutes() {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('role_bindings:create')] as const,
      summary: 'Give a member or an API key a role, tenant-wide or on one resource, optionally until expires_at',
      request: body(CreateRoleBinding),
      responses: { 201: json(RoleBinding, 'The new binding'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const engine = c.var.authz
      // Only this tenant's members and live keys are subjects: a user of another tenant cannot be bound here.
      if (!engine.isSubject(input.subject)) {
        throw fail(AuthzErrors, 'unknown_subject', `${input.subject.type} ${input.subject.id} is not ${input.subject.type === 'user' ? 'an active member' : 'an active API key'} of this organization.`, { subject: input.subject })
      }
      if (input.role === 'owner') throw fail(AuthzErrors, 'built_in_role', 'Ownership is a member’s role: change it with PATCH /v1/members/{userId}.')
      if (input.resource_type !== undefined && !engine.catalog.get(input.resource_type)) {
        throw fail(AuthzErrors, 'unknown_resource_type', `Unknown resource type ${JSON.stringify(input.resource_type)}.`, { resource_type: input.resource_type })
      }
      const { roles: r, roleBindings: b } = tenantTables(c.var.tenant.schemaName)
      const [role] = await c.var.db.select({ id: r.id, permissions: r.permissions }).from(r).where(eq(r.name, input.role)).limit(1)
      if (!role) throw fail(AuthzErrors, 'unknown_role', `Unknown role ${JSON.stringify(input.role)}.`, { role: input.role })
      assertGrantCeiling(engine.tenantWideGrants(c.var.subject), role.permissions, input.role)

      const id = uuidv7()
      const createdBy = c.var.subject.type === 'user' ? c.var.subject.id : null
      const [inserted] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [
          c.var.db
            .insert(b)
            .select(sql`select ${id}::uuid, ${input.subject.type}, ${input.subject.id}::uuid, ${r.id}, ${input.resource_type ?? null}, ${input.resource_id ?? null},
                ${input.expires_at ?? null}::timestamptz, ${createdBy}::uuid, now()
              from ${r} where ${r.name} = ${input.role} and ${subjectStillThere(c, input.subject)}`)
            .onConflictDoNothing()
            .returning({ id: b.id }),
        ],
        audit: {
          action: 'role_binding.created', targetType: 'role_binding', targetId: id,
          details: { subject: input.subject, role: input.role, resource_type: input.resource_type ?? null, resource_id: input.resource_id ?? null, expires_at: input.expires_at ?? null },
        },
        when: sql`exists (select 1 from ${b} where ${b.id} = ${id})`,
        event: {
          type: 'role.assigned',
          data: { binding_id: id, role: input.role, subject: input.subject, resource_type: input.resource_type ?? null, resource_id: input.resource_id ?? null, expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null },
        },
      }))).results) as [{ id: string }[]]
      if (inserted[0]) return c.json(present(await findBinding(c, id)), 201)
      const [duplicate] = await selectBindings(c, and(
        eq(b.subjectType, input.subject.type), eq(b.subjectId, input.subject.id), eq(r.name, input.role),
        sql`coalesce(${b.resourceType}, '') = ${input.resource_type ?? ''}`, sql`coalesce(${b.resourceId}, '') = ${input.resource_id ?? ''}`,
      )).limit(1)
      if (duplicate) throw fail(AuthzErrors, 'role_binding_exists', undefined, { id: duplicate.id })
      // The role was deleted or the subject left meanwhile.
      throw fail(AuthzErrors, 'unknown_role', `The role ${JSON.stringify(input.role)} or the subject is gone.`, { role: input.role, subject: input.subject })
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('role_bindings:read')] as const,
      summary: 'Role bindings, oldest first, filtered by subject, role or resource; expired ones are listed with expired: true',
      request: { query: RoleBindingQuery },
      responses: { 200: json(z.object({ data: z.array(RoleBinding), next_cursor: z.string().nullable() }), 'A page of bindings'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const { roleBindings: b, roles: r } = tenantTables(c.var.tenant.schemaName)
      const where = and(
        q.subject_type ? eq(b.subjectType, q.subject_type) : undefined,
        q.subject_id ? eq(b.subjectId, q.subject_id) : undefined,
        q.role ? eq(r.name, q.role) : undefined,
        q.resource_type ? eq(b.resourceType, q.resource_type) : undefined,
        q.resource_id ? eq(b.resourceId, q.resource_id) : undefined,
        q.cursor ? gt(b.id, q.cursor) : undefined,
      )
      const rows = await selectBindings(c, where).orderBy(asc(b.id)).limit(q.limit + 1)
      const page = rows.slice(0, q.limit)
      return c.json({ data: page.map(present), next_cursor: rows.length > q.limit ? page.at(-1)!.id : null }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{id}', tags, security, middleware: [requirePermission('role_bindings:read')] as const,
      summary: 'One role binding',
      request: { params: IdParam },
      responses: { 200: json(RoleBinding, 'The binding'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(present(await findBinding(c, c.req.valid('param').id)), 200),
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{id}', tags, security, middleware: [requirePermission('role_bindings:delete')] as const,
      summary: 'Take a role binding away; the next check anywhere no longer sees it',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const binding = await findBinding(c, c.req.valid('param').id)
      const b = tenantTables(c.var.tenant.schemaName).roleBindings
      const [deleted] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [c.var.db.delete(b).where(eq(b.id, binding.id)).returning({ id: b.id })],
        audit: { action: 'role_binding.deleted', targetType: 'role_binding', targetId: binding.id, details: { subject: { type: binding.subjectType, id: binding.subjectId }, role: binding.role, resource_type: binding.resourceType, resource_id: binding.resourceId } },
        when: sql`not exists (select 1 from ${b} where ${b.id} = ${binding.id})`,
        event: {
          type: 'role.unassigned',
          data: { binding_id: binding.id, role: binding.role, subject: { type: binding.subjectType, id: binding.subjectId }, resource_type: binding.resourceType, resource_id: binding.resourceId },
        },
      }))).results) as [{ id: string }[]]
      if (!deleted.length) throw fail(AuthzErrors, 'role_binding_not_found', `No role binding ${binding.id}.`)
      return c.body(null, 204)
    },
  )

  return router
}
