import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm'
import { referencesIn, type Condition } from '../../authz/conditions.ts'
import type { Catalog } from '../../authz/engine.ts'
import { AuthzErrors } from '../../authz/errors.ts'
import { parsePermission, permissionProblem, assertGrantCeiling } from '../../authz/permissions.ts'
import { uuidv7, UUID_PATTERN } from '../../db/ids.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requirePermission, type PermissionContext } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, body, json, security } from '../../openapi.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { modelChange } from './changes.ts'
import { CreatePolicy, iso, Policy, PolicyName, UpdatePolicy } from './schemas.ts'

type C = PermissionContext
type Row = ReturnType<typeof tenantTables>['policies']['$inferSelect']
type Effect = 'allow' | 'deny'

const tags = ['Authorization: policies']
const IdOrNameParam = z.object({ idOrName: z.string().min(1).max(100).openapi({ description: 'The policy’s id or name', example: 'no-weekend-approvals' }) })
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: PolicyName.optional().openapi({ description: 'next_cursor of the previous page (policies come by name)' }),
})
/** Policies per tenant: each check evaluates every policy on its permission's patterns. */
const MAX_POLICIES = 1000
/** Concurrent PATCHes of one policy: re-read and re-validate this many times before answering 409. */
const UPDATE_ATTEMPTS = 3

function present(r: Row): z.infer<typeof Policy> {
  return {
    id: r.id, name: r.name, description: r.description, effect: r.effect, permission: r.permission,
    conditions: r.conditions ?? null, created_at: iso(r.createdAt)!, updated_at: iso(r.updatedAt)!,
  }
}

const tableOf = (c: C) => tenantTables(c.var.tenant.schemaName).policies

/** A UUID is an id (names cannot have that form, schemas.ts), anything else a name. */
async function findPolicy(c: C, idOrName: string): Promise<Row> {
  const p = tableOf(c)
  const [row] = await c.var.db.select().from(p).where(UUID_PATTERN.test(idOrName) ? eq(p.id, idOrName) : eq(p.name, idOrName)).limit(1)
  if (!row) throw fail(AuthzErrors, 'policy_not_found', `No policy ${JSON.stringify(idOrName)}.`)
  return row
}

/**
 * `resource.attributes.X` read by conditions on a permission that names one concrete type with
 * an attribute schema, where that schema does not declare X: a typo that would otherwise make
 * a deny apply always (unknown → applies) or an allow never.
 */
function undeclaredAttributes(catalog: Catalog, permission: string, conditions: unknown): string[] {
  const p = parsePermission(permission)
  const schema = p && p.type !== '*' ? catalog.get(p.type)?.attributes : null
  if (!schema || !conditions) return []
  const refs = referencesIn(conditions as Condition).filter((ref) => ref.startsWith('resource.attributes.') && !Object.hasOwn(schema, ref.split('.')[2]!))
  return [...new Set(refs)]
}

/** The checks every write makes on what it changes (the resulting policy, given which fields change). */
function assertWritable(c: C, policy: { effect: Effect; permission: string; conditions: unknown }, changed: { permission: boolean; conditions: boolean; grant: boolean }) {
  // The model requirePermission loaded for this request (at the current version).
  const engine = c.var.authz
  if (changed.permission) {
    const problem = permissionProblem(policy.permission, engine.catalog)
    if (problem) throw fail(AuthzErrors, 'invalid_permission', `${problem}.`, { permission: policy.permission })
  }
  if (changed.permission || changed.conditions) {
    const undeclared = undeclaredAttributes(engine.catalog, policy.permission, policy.conditions)
    if (undeclared.length) {
      const type = policy.permission.split(':')[0]!
      throw fail(AuthzErrors, 'invalid_conditions', `The conditions read ${undeclared.join(', ')}, which the resource type ${JSON.stringify(type)} does not declare.`, {
        undeclared, resource_type: type, declared: Object.keys(engine.catalog.get(type)?.attributes ?? {}),
      })
    }
  }
  // An allow policy grants its permission to everyone its conditions match: only to be written by
  // someone who holds that permission tenant-wide (a deny takes away, so anyone allowed may write it).
  if (policy.effect === 'allow' && changed.grant) assertGrantCeiling(engine.tenantWideGrants(c.var.subject), [policy.permission])
}

/**
 * SQL: the permission's concrete, tenant-registered type still exists with the action. Repeated
 * in the insert itself: a resource type deleted meanwhile leaves no policy naming it behind
 * (model changes of a tenant are serialised by the version bump, changes.ts).
 */
function permissionStillKnown(c: C, permission: string): SQL {
  const p = parsePermission(permission)
  if (!p || p.type === '*' || c.var.authz.catalog.get(p.type)?.builtIn) return sql`true`
  const t = tenantTables(c.var.tenant.schemaName).resourceTypes
  return sql`exists (select 1 from ${t} where ${t.name} = ${p.type} and (${p.action} = '*' or ${p.action} = any(${t.actions})))`
}

const conditionsJson = (conditions: unknown) => (conditions === null || conditions === undefined ? null : JSON.stringify(conditions))

/** /v1/policies: ABAC allow and deny rules (docs/api/authorization-policies.md). */
export function policyRoutes() {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('policies:create')] as const,
      summary: 'Create an allow or deny policy on a permission pattern, with optional JSON conditions',
      request: body(CreatePolicy),
      responses: { 201: json(Policy, 'The new policy'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const conditions = input.conditions ?? null
      assertWritable(c, { effect: input.effect, permission: input.permission, conditions }, { permission: true, conditions: true, grant: true })
      const p = tableOf(c)
      const id = uuidv7()
      const createdBy = c.var.subject.type === 'user' ? c.var.subject.id : null
      const [rows] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [
          c.var.db
            .insert(p)
            .select(sql`select ${id}::uuid, ${input.name}, ${input.description ?? null}, ${input.effect}, ${input.permission}, ${conditionsJson(conditions)}::jsonb, ${createdBy}::uuid, now(), now()
              where (select count(*) from ${p}) < ${MAX_POLICIES} and ${permissionStillKnown(c, input.permission)}`)
            .onConflictDoNothing()
            .returning(),
        ],
        audit: { action: 'policy.created', targetType: 'policy', targetId: id, details: { name: input.name, effect: input.effect, permission: input.permission } },
        when: sql`exists (select 1 from ${p} where ${p.id} = ${id})`,
        event: { type: 'policy.created', data: { policy_id: id, name: input.name, effect: input.effect, permission: input.permission, conditions } },
      }))).results) as [Row[]]
      if (rows[0]) return c.json(present(rows[0]), 201)
      const [taken] = await c.var.db.select({ id: p.id }).from(p).where(eq(p.name, input.name)).limit(1)
      if (taken) throw fail(AuthzErrors, 'policy_exists', `A policy ${JSON.stringify(input.name)} already exists.`, { id: taken.id })
      const [{ count }] = await c.var.db.select({ count: sql<number>`count(*)::int` }).from(p) as [{ count: number }]
      if (count >= MAX_POLICIES) throw fail(AuthzErrors, 'policy_limit_reached', undefined, { max: MAX_POLICIES })
      throw fail(AuthzErrors, 'invalid_permission', `The resource type of ${input.permission} was deleted meanwhile.`, { permission: input.permission })
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('policies:read')] as const,
      summary: 'The tenant’s policies, by name; cursor pagination',
      request: { query: ListQuery },
      responses: { 200: json(z.object({ data: z.array(Policy), next_cursor: z.string().nullable() }), 'A page of policies'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const p = tableOf(c)
      const rows = await c.var.db.select().from(p).where(cursor ? gt(p.name, cursor) : undefined).orderBy(asc(p.name)).limit(limit + 1)
      const page = rows.slice(0, limit)
      return c.json({ data: page.map(present), next_cursor: rows.length > limit ? page.at(-1)!.name : null }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{idOrName}', tags, security, middleware: [requirePermission('policies:read')] as const,
      summary: 'One policy, by id or name',
      request: { params: IdOrNameParam },
      responses: { 200: json(Policy, 'The policy'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(present(await findPolicy(c, c.req.valid('param').idOrName)), 200),
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/{idOrName}', tags, security, middleware: [requirePermission('policies:update')] as const,
      summary: 'Change any field of a policy; conditions: null removes them',
      request: { params: IdOrNameParam, ...body(UpdatePolicy) },
      responses: { 200: json(Policy, 'The policy as now stored'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { idOrName } = c.req.valid('param')
      const input = c.req.valid('json')
      const p = tableOf(c)
      for (let attempt = 1; ; attempt++) {
        const row = await findPolicy(c, idOrName)
        const next = {
          effect: input.effect ?? row.effect,
          permission: input.permission ?? row.permission,
          conditions: input.conditions === undefined ? row.conditions : input.conditions,
        }
        const changesGrant = input.effect !== undefined || input.permission !== undefined || input.conditions !== undefined
        assertWritable(c, next, { permission: input.permission !== undefined, conditions: input.conditions !== undefined, grant: changesGrant })
        const set: Record<string, unknown> = { updatedAt: sql`now()` }
        if (input.name !== undefined) set.name = input.name
        if (input.description !== undefined) set.description = input.description
        if (input.effect !== undefined) set.effect = input.effect
        if (input.permission !== undefined) set.permission = input.permission
        if (input.conditions !== undefined) set.conditions = input.conditions === null ? sql`null` : sql`${conditionsJson(input.conditions)}::jsonb`
        const nameFree = input.name === undefined ? sql`true` : sql`not exists (select 1 from ${p} o where o.name = ${input.name} and o.id <> ${row.id})`
        const [rows] = ((await commitChange(changeDeps(c), modelChange(c, {
          // Written only if nobody changed the policy since it was validated above.
          statements: [c.var.db.update(p).set(set).where(and(eq(p.id, row.id), eq(p.updatedAt, row.updatedAt), nameFree, input.permission ? permissionStillKnown(c, input.permission) : undefined)).returning()],
          audit: { action: 'policy.updated', targetType: 'policy', targetId: row.id, details: { name: input.name ?? row.name, changed: Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined) } },
          when: sql`exists (select 1 from ${p} where ${p.id} = ${row.id} and ${p.updatedAt} = now())`,
          event: { type: 'policy.updated', data: { policy_id: row.id, name: input.name ?? row.name, effect: next.effect, permission: next.permission, conditions: next.conditions ?? null } },
        }))).results) as [Row[]]
        if (rows[0]) return c.json(present(rows[0]), 200)
        if (input.name !== undefined) {
          const [taken] = await c.var.db.select({ id: p.id }).from(p).where(eq(p.name, input.name)).limit(1)
          if (taken && taken.id !== row.id) throw fail(AuthzErrors, 'policy_exists', `A policy ${JSON.stringify(input.name)} already exists.`, { id: taken.id })
        }
        if (attempt >= UPDATE_ATTEMPTS) throw commonError('conflict', 'The policy is being changed by someone else; try again.', { id: row.id })
      }
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{idOrName}', tags, security, middleware: [requirePermission('policies:delete')] as const,
      summary: 'Delete a policy',
      request: { params: IdOrNameParam },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const row = await findPolicy(c, c.req.valid('param').idOrName)
      const p = tableOf(c)
      const [deleted] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [c.var.db.delete(p).where(eq(p.id, row.id)).returning({ id: p.id })],
        audit: { action: 'policy.deleted', targetType: 'policy', targetId: row.id, details: { name: row.name, effect: row.effect, permission: row.permission } },
        when: sql`not exists (select 1 from ${p} where ${p.id} = ${row.id})`,
        event: { type: 'policy.deleted', data: { policy_id: row.id, name: row.name } },
      }))).results) as [{ id: string }[]]
      if (!deleted.length) throw fail(AuthzErrors, 'policy_not_found', `No policy ${JSON.stringify(row.name)}.`)
      return c.body(null, 204)
    },
  )

  return router
}
