import { createRoute, z } from '@hono/zod-openapi'
import { asc, eq, sql } from 'drizzle-orm'
import { ATRIUM_RESOURCE_TYPES, isAtriumResourceType } from '../../authz/atrium-types.ts'
import { referencesIn, type Condition } from '../../authz/conditions.ts'
import { AuthzErrors } from '../../authz/errors.ts'
import type { AttributeSchema } from '../../authz/snapshot.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import { requirePermission, type PermissionContext } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, body, json, security } from '../../openapi.ts'
import { rowEventStatement } from '../../webhooks/outbox.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { changeActor, modelChange, textArray } from './changes.ts'
import { CreateResourceType, ForceQuery, iso, MAX_RESOURCE_TYPES, ResourceType, TypeName, UpdateResourceType } from './schemas.ts'

type C = PermissionContext
type Row = ReturnType<typeof tenantTables>['resourceTypes']['$inferSelect']

const tags = ['Authorization: resource types']
const NameParam = z.object({ name: TypeName })

function present(r: Row): z.infer<typeof ResourceType> {
  return {
    name: r.name, description: r.description, actions: r.actions, permissions: r.actions.map((a) => `${r.name}:${a}`),
    attributes: r.attributes ?? null, built_in: false, created_at: iso(r.createdAt), updated_at: iso(r.updatedAt),
  }
}

function presentBuiltIn(name: keyof typeof ATRIUM_RESOURCE_TYPES): z.infer<typeof ResourceType> {
  const t = ATRIUM_RESOURCE_TYPES[name]
  return { name, description: t.description, actions: [...t.actions], permissions: t.actions.map((a) => `${name}:${a}`), attributes: null, built_in: true, created_at: null, updated_at: null }
}

async function findType(c: C, name: string): Promise<Row> {
  const t = tenantTables(c.var.tenant.schemaName).resourceTypes
  const [row] = await c.var.db.select().from(t).where(eq(t.name, name)).limit(1)
  if (!row) throw fail(AuthzErrors, 'resource_type_not_found', `No resource type ${JSON.stringify(name)}.`)
  return row
}

function refuseBuiltIn(name: string) {
  if (isAtriumResourceType(name)) throw fail(AuthzErrors, 'built_in_resource_type', `${JSON.stringify(name)} is one of Atrium’s own resource types and cannot be changed.`)
}

/** Policies on this type whose conditions read attributes the new schema does not declare. */
async function undeclaredAttributeReads(c: C, type: string, schema: AttributeSchema | null) {
  if (!schema) return []
  const p = tenantTables(c.var.tenant.schemaName).policies
  const rows = await c.var.db.select({ name: p.name, conditions: p.conditions }).from(p).where(sql`split_part(${p.permission}, ':', 1) = ${type}`)
  return rows.flatMap((r) => (r.conditions ? referencesIn(r.conditions as Condition) : [])
    .filter((ref) => ref.startsWith('resource.attributes.') && !Object.hasOwn(schema, ref.split('.')[2]!))
    .map((ref) => ({ policy: r.name, reference: ref })))
}

/** SQL: whether roles, policies or bindings name the type (wildcard `*:action` patterns do not count). */
const usage = (s: ReturnType<typeof sql.identifier>, name: string) => ({
  roles: sql`(select coalesce(array_agg(r.name order by r.name), '{}') from ${s}.roles r where exists (select 1 from unnest(r.permissions) p where split_part(p, ':', 1) = ${name}))`,
  policies: sql`(select coalesce(array_agg(p.name order by p.name), '{}') from ${s}.policies p where split_part(p.permission, ':', 1) = ${name})`,
  bindings: sql`(select count(*)::int from ${s}.role_bindings b where b.resource_type = ${name})`,
})

/** /v1/resource-types: the types of the tenant's own resources, their actions and attribute schemas. */
export function resourceTypeRoutes() {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('resource_types:create')] as const,
      summary: 'Register a resource type; each action becomes the permission type:action',
      request: body(CreateResourceType),
      responses: { 201: json(ResourceType, 'The new type'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const input = c.req.valid('json')
      if (isAtriumResourceType(input.name)) throw fail(AuthzErrors, 'reserved_resource_type', `${JSON.stringify(input.name)} is one of Atrium’s own resource types.`)
      const t = tenantTables(c.var.tenant.schemaName).resourceTypes
      const [rows] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [
          c.var.db
            .insert(t)
            .select(sql`select ${input.name}, ${input.description ?? null}, ${textArray(input.actions)}, ${input.attributes ? JSON.stringify(input.attributes) : null}::jsonb, now(), now()
              where (select count(*) from ${t}) < ${MAX_RESOURCE_TYPES}`)
            .onConflictDoNothing()
            .returning(),
        ],
        audit: { action: 'resource_type.created', targetType: 'resource_type', targetId: input.name, details: { actions: input.actions } },
        when: sql`exists (select 1 from ${t} where ${t.name} = ${input.name} and ${t.createdAt} = now())`,
      }))).results) as [Row[]]
      if (rows[0]) return c.json(present(rows[0]), 201)
      const [existing] = await c.var.db.select({ name: t.name }).from(t).where(eq(t.name, input.name)).limit(1)
      if (existing) throw fail(AuthzErrors, 'resource_type_exists', `A resource type ${JSON.stringify(input.name)} already exists.`)
      throw fail(AuthzErrors, 'resource_type_limit_reached', undefined, { max: MAX_RESOURCE_TYPES })
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('resource_types:read')] as const,
      summary: 'Every resource type: Atrium’s own (built_in) and the tenant’s, by name',
      responses: { 200: json(z.object({ data: z.array(ResourceType) }), 'All types'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const t = tenantTables(c.var.tenant.schemaName).resourceTypes
      const rows = await c.var.db.select().from(t).orderBy(asc(t.name))
      const all = [...(Object.keys(ATRIUM_RESOURCE_TYPES) as (keyof typeof ATRIUM_RESOURCE_TYPES)[]).map(presentBuiltIn), ...rows.map(present)]
      return c.json({ data: all.sort((a, b) => (a.name < b.name ? -1 : 1)) }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{name}', tags, security, middleware: [requirePermission('resource_types:read')] as const,
      summary: 'One resource type',
      request: { params: NameParam },
      responses: { 200: json(ResourceType, 'The type'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      if (isAtriumResourceType(name)) return c.json(presentBuiltIn(name), 200)
      return c.json(present(await findType(c, name)), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/{name}', tags, security, middleware: [requirePermission('resource_types:update')] as const,
      summary: 'Add actions, change the description or replace the attribute schema (actions are never removed)',
      request: { params: NameParam, ...body(UpdateResourceType) },
      responses: { 200: json(ResourceType, 'The type as now stored'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      refuseBuiltIn(name)
      const input = c.req.valid('json')
      await findType(c, name)
      if (input.attributes !== undefined) {
        const reads = await undeclaredAttributeReads(c, name, input.attributes)
        if (reads.length) throw fail(AuthzErrors, 'invalid_resource_attributes', `Policy ${JSON.stringify(reads[0]!.policy)} reads ${reads[0]!.reference}, which the new schema does not declare.`, { reads })
      }
      const t = tenantTables(c.var.tenant.schemaName).resourceTypes
      const set: Record<string, unknown> = { updatedAt: sql`now()` }
      // Appended in the order given, after the existing ones; computed in the statement so concurrent additions all stay.
      if (input.add_actions) set.actions = sql`${t.actions} || array(select a from unnest(${textArray(input.add_actions)}) with ordinality as n(a, i) where a <> all(${t.actions}) order by i)`
      if (input.description !== undefined) set.description = input.description
      if (input.attributes !== undefined) set.attributes = input.attributes
      const [rows] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [c.var.db.update(t).set(set).where(eq(t.name, name)).returning()],
        audit: { action: 'resource_type.updated', targetType: 'resource_type', targetId: name, details: { add_actions: input.add_actions ?? [], attributes_changed: input.attributes !== undefined } },
        when: sql`exists (select 1 from ${t} where ${t.name} = ${name} and ${t.updatedAt} = now())`,
      }))).results) as [Row[]]
      if (!rows[0]) throw fail(AuthzErrors, 'resource_type_not_found', `No resource type ${JSON.stringify(name)}.`)
      return c.json(present(rows[0]), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{name}', tags, security, middleware: [requirePermission('resource_types:delete')] as const,
      summary: 'Delete a resource type; refused (409) while roles, policies or bindings name it, unless force=true, which also removes its permissions from roles and deletes its policies and instance bindings',
      request: { params: NameParam, query: ForceQuery },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      refuseBuiltIn(name)
      const force = c.req.valid('query').force === 'true'
      await findType(c, name)
      const tenant = c.var.tenant
      const s = sql.identifier(tenant.schemaName)
      const db = c.var.db
      const used = usage(s, name)
      if (!force) {
        const inUse = await db.execute<{ roles: string[]; policies: string[]; bindings: number }>(sql`select ${used.roles} as roles, ${used.policies} as policies, ${used.bindings} as bindings`)
        const u = inUse.rows[0]!
        if (u.roles.length || u.policies.length || Number(u.bindings)) throw fail(AuthzErrors, 'resource_type_in_use', undefined, { roles: u.roles, policies: u.policies, bindings: Number(u.bindings) })
      }
      // The guard is repeated in the delete itself: a role written meanwhile keeps the type alive.
      const guard = force ? sql`` : sql`and cardinality(${used.roles}) = 0 and cardinality(${used.policies}) = 0 and ${used.bindings} = 0`
      const t = tenantTables(tenant.schemaName)
      const actor = changeActor(c)
      const statements = [
        ...(force
          ? [
              // What the cascade takes away is announced like the same change made by hand, in the same batch, read
              // before the rows change (model writes of a tenant are serialised by the version bump).
              rowEventStatement(db, tenant, {
                type: 'role.updated', actor,
                from: sql`${s}.roles r`,
                where: sql`exists (select 1 from unnest(r.permissions) p where split_part(p, ':', 1) = ${name})`,
                payload: { role: sql`r.name`, description: sql`r.description`, permissions: sql`to_jsonb(array(select p from unnest(r.permissions) p where split_part(p, ':', 1) <> ${name}))` },
              }),
              rowEventStatement(db, tenant, {
                type: 'policy.deleted', actor,
                from: sql`${s}.policies p`,
                where: sql`split_part(p.permission, ':', 1) = ${name}`,
                payload: { policy_id: sql`p.id`, name: sql`p.name` },
              }),
              rowEventStatement(db, tenant, {
                type: 'role.unassigned', actor,
                from: sql`${s}.role_bindings b join ${s}.roles r on r.id = b.role_id`,
                where: sql`b.resource_type = ${name}`,
                payload: {
                  binding_id: sql`b.id`, role: sql`r.name`, subject: sql`jsonb_build_object('type', b.subject_type, 'id', b.subject_id)`,
                  resource_type: sql`b.resource_type`, resource_id: sql`b.resource_id`,
                },
              }),
              db.execute(sql`update ${s}.roles set permissions = array(select p from unnest(permissions) p where split_part(p, ':', 1) <> ${name}), updated_at = now()
                where exists (select 1 from unnest(permissions) p where split_part(p, ':', 1) = ${name})`),
              db.execute(sql`delete from ${s}.policies where split_part(permission, ':', 1) = ${name}`),
              db.execute(sql`delete from ${s}.role_bindings where resource_type = ${name}`),
            ]
          : []),
        db.execute(sql`delete from ${s}.resource_types where name = ${name} ${guard} returning name`),
      ]
      const results = (await commitChange(changeDeps(c), modelChange(c, {
        statements,
        audit: { action: 'resource_type.deleted', targetType: 'resource_type', targetId: name, details: { force } },
        when: sql`not exists (select 1 from ${t.resourceTypes} where ${t.resourceTypes.name} = ${name})`,
      }))).results
      const deleted = (results.at(-1) as { rows: unknown[] }).rows.length
      if (!deleted) throw fail(AuthzErrors, 'resource_type_in_use')
      return c.body(null, 204)
    },
  )

  return router
}
