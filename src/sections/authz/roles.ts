import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import { FIXED_ROLES } from '../../authz/atrium-types.ts'
import { AuthzErrors } from '../../authz/errors.ts'
import { permissionProblem, assertGrantCeiling } from '../../authz/permissions.ts'
import { uuidv7, UUID_PATTERN } from '../../db/ids.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requirePermission, type PermissionContext } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, body, json, security } from '../../openapi.ts'
import { rowEventStatement } from '../../webhooks/outbox.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { changeActor, modelChange, textArray } from './changes.ts'
import { CreateRole, ForceQuery, iso, MAX_ROLES, Role, RoleName, UpdateRole } from './schemas.ts'

type C = PermissionContext
type Row = ReturnType<typeof tenantTables>['roles']['$inferSelect']

const tags = ['Authorization: roles']
const IdOrNameParam = z.object({ idOrName: z.string().min(1).max(100).openapi({ description: 'The role’s id or name', example: 'approver' }) })
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: RoleName.optional().openapi({ description: 'next_cursor of the previous page (roles come by name)' }),
})
/** Concurrent PATCHes of one role: re-read and re-validate this many times before answering 409. */
const UPDATE_ATTEMPTS = 3

function present(r: Row): z.infer<typeof Role> {
  return {
    id: r.id, name: r.name, description: r.description, permissions: r.permissions, built_in: r.builtIn,
    created_at: iso(r.createdAt)!, updated_at: iso(r.updatedAt)!,
  }
}

const tablesOf = (c: C) => tenantTables(c.var.tenant.schemaName)

/** A UUID is an id (role names cannot have that form, schemas.ts), anything else a name. */
export async function findRole(c: C, idOrName: string): Promise<Row> {
  const r = tablesOf(c).roles
  const [row] = await c.var.db.select().from(r).where(UUID_PATTERN.test(idOrName) ? eq(r.id, idOrName) : eq(r.name, idOrName)).limit(1)
  if (!row) throw fail(AuthzErrors, 'role_not_found', `No role ${JSON.stringify(idOrName)}.`)
  return row
}

/**
 * Every pattern must name a known type and action of the tenant (400 invalid_permission, all
 * problems in details), and the caller must hold each one tenant-wide: a role is a grant waiting
 * to be bound, so nobody writes one holding more than they hold (403 grant_exceeds_own).
 */
function assertGrantable(c: C, permissions: readonly string[]) {
  const engine = c.var.authz
  const problems = permissions.flatMap((permission) => {
    const problem = permissionProblem(permission, engine.catalog)
    return problem ? [{ permission, problem }] : []
  })
  if (problems.length) throw fail(AuthzErrors, 'invalid_permission', `${problems[0]!.problem}.`, { problems })
  assertGrantCeiling(engine.tenantWideGrants(c.var.subject), permissions)
}

/** /v1/roles: built-in owner, admin and member, and the tenant's custom roles (docs/api/authorization-roles.md). */
export function roleRoutes() {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('roles:create')] as const,
      summary: 'Create a custom role holding permission patterns (type:action, type:*, *:action, *:*)',
      request: body(CreateRole),
      responses: { 201: json(Role, 'The new role'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const input = c.req.valid('json')
      assertGrantable(c, input.permissions)
      const r = tablesOf(c).roles
      const id = uuidv7()
      const [rows] = ((await commitChange(changeDeps(c), modelChange(c, {
        statements: [
          c.var.db
            .insert(r)
            .select(sql`select ${id}::uuid, ${input.name}, ${input.description ?? null}, ${textArray(input.permissions)}, false, now(), now()
              where (select count(*) from ${r} where not ${r.builtIn}) < ${MAX_ROLES}`)
            .onConflictDoNothing()
            .returning(),
        ],
        audit: { action: 'role.created', targetType: 'role', targetId: id, details: { name: input.name, permissions: input.permissions } },
        when: sql`exists (select 1 from ${r} where ${r.id} = ${id})`,
        event: { type: 'role.created', data: { role: input.name, description: input.description ?? null, permissions: input.permissions } },
      }))).results) as [Row[]]
      if (rows[0]) return c.json(present(rows[0]), 201)
      const [taken] = await c.var.db.select({ id: r.id }).from(r).where(eq(r.name, input.name)).limit(1)
      if (taken) throw fail(AuthzErrors, 'role_exists', `A role ${JSON.stringify(input.name)} already exists.`, { id: taken.id })
      throw fail(AuthzErrors, 'role_limit_reached', undefined, { max: MAX_ROLES })
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('roles:read')] as const,
      summary: 'The tenant’s roles (built-in and custom), by name; cursor pagination',
      request: { query: ListQuery },
      responses: { 200: json(z.object({ data: z.array(Role), next_cursor: z.string().nullable() }), 'A page of roles'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const r = tablesOf(c).roles
      const rows = await c.var.db.select().from(r).where(cursor ? gt(r.name, cursor) : undefined).orderBy(asc(r.name)).limit(limit + 1)
      const page = rows.slice(0, limit)
      return c.json({ data: page.map(present), next_cursor: rows.length > limit ? page.at(-1)!.name : null }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{idOrName}', tags, security, middleware: [requirePermission('roles:read')] as const,
      summary: 'One role, by id or name',
      request: { params: IdOrNameParam },
      responses: { 200: json(Role, 'The role'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(present(await findRole(c, c.req.valid('param').idOrName)), 200),
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/{idOrName}', tags, security, middleware: [requirePermission('roles:update')] as const,
      summary: 'Rename a custom role, change its description or replace its permissions (the built-in member role’s permissions may change; owner and admin keep *:*)',
      request: { params: IdOrNameParam, ...body(UpdateRole) },
      responses: { 200: json(Role, 'The role as now stored'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { idOrName } = c.req.valid('param')
      const input = c.req.valid('json')
      const { roles: r, apiKeys: k } = tablesOf(c)
      for (let attempt = 1; ; attempt++) {
        const row = await findRole(c, idOrName)
        if (row.builtIn && input.name !== undefined && input.name !== row.name) throw fail(AuthzErrors, 'built_in_role', `The built-in role ${row.name} cannot be renamed.`)
        if (FIXED_ROLES.includes(row.name) && input.permissions !== undefined) throw fail(AuthzErrors, 'built_in_role', `The built-in role ${row.name} keeps every permission (*:*).`)
        // Only what the change adds is a new grant; keeping or removing permissions needs nothing.
        if (input.permissions) assertGrantable(c, input.permissions.filter((p) => !row.permissions.includes(p)))
        const rename = input.name !== undefined && input.name !== row.name ? input.name : undefined
        const set: Record<string, unknown> = { updatedAt: sql`now()` }
        if (rename) set.name = rename
        if (input.description !== undefined) set.description = input.description
        if (input.permissions !== undefined) set.permissions = textArray(input.permissions)
        const nameFree = rename ? sql`not exists (select 1 from ${r} o where o.name = ${rename})` : sql`true`
        const statements = [
          // Written only if nobody changed the role since it was validated above.
          c.var.db.update(r).set(set).where(and(eq(r.id, row.id), eq(r.updatedAt, row.updatedAt), nameFree)).returning(),
          // API keys hold roles by name: a renamed role stays theirs, in the same transaction.
          ...(rename
            ? [c.var.db.execute(sql`update ${k} set roles = array_replace(roles, ${row.name}, ${rename})
                where ${row.name} = any(roles) and exists (select 1 from ${r} where ${r.id} = ${row.id} and ${r.name} = ${rename})`)]
            : []),
        ]
        const final = { name: rename ?? row.name, description: input.description === undefined ? row.description : input.description, permissions: input.permissions ?? row.permissions }
        const [rows] = ((await commitChange(changeDeps(c), modelChange(c, {
          statements,
          audit: { action: 'role.updated', targetType: 'role', targetId: row.id, details: { name: final.name, previous_name: rename ? row.name : undefined, permissions: final.permissions } },
          when: sql`exists (select 1 from ${r} where ${r.id} = ${row.id} and ${r.updatedAt} = now())`,
          event: { type: 'role.updated', data: { role: final.name, description: final.description, permissions: final.permissions } },
        }))).results) as [Row[]]
        if (rows[0]) return c.json(present(rows[0]), 200)
        if (rename) {
          const [taken] = await c.var.db.select({ id: r.id }).from(r).where(eq(r.name, rename)).limit(1)
          if (taken) throw fail(AuthzErrors, 'role_exists', `A role ${JSON.stringify(rename)} already exists.`, { id: taken.id })
        }
        if (attempt >= UPDATE_ATTEMPTS) throw commonError('conflict', 'The role is being changed by someone else; try again.', { id: row.id })
      }
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{idOrName}', tags, security, middleware: [requirePermission('roles:delete')] as const,
      summary: 'Delete a custom role; refused (409) while bindings or API keys hold it, unless force=true, which also deletes its bindings and takes it from API keys',
      request: { params: IdOrNameParam, query: ForceQuery },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const row = await findRole(c, c.req.valid('param').idOrName)
      if (row.builtIn) throw fail(AuthzErrors, 'built_in_role', `The built-in role ${row.name} cannot be deleted.`)
      const force = c.req.valid('query').force === 'true'
      const { roles: r, roleBindings: b, apiKeys: k } = tablesOf(c)
      const db = c.var.db
      const bindingCount = sql`(select count(*)::int from ${b} where ${b.roleId} = ${row.id})`
      const keyNames = sql`(select coalesce(array_agg(${k.name} order by ${k.name}), '{}') from ${k} where ${row.name} = any(${k.roles}) and ${k.revokedAt} is null)`
      if (!force) {
        const used = await db.execute<{ bindings: number; api_keys: string[] }>(sql`select ${bindingCount} as bindings, ${keyNames} as api_keys`)
        const u = used.rows[0]!
        if (Number(u.bindings) || u.api_keys.length) throw fail(AuthzErrors, 'role_in_use', undefined, { bindings: Number(u.bindings), api_keys: u.api_keys })
      }
      // The guard is repeated in the delete itself: a binding written meanwhile keeps the role alive.
      const guard = force ? sql`` : sql`and ${bindingCount} = 0 and cardinality(${keyNames}) = 0`
      const results = (await commitChange(changeDeps(c), modelChange(c, {
        statements: [
          ...(force ? [db.execute(sql`update ${k} set roles = array_remove(roles, ${row.name}) where ${row.name} = any(roles)`)] : []),
          // Its bindings go with it (on delete cascade), each announced as if taken away by hand. Without force there are none.
          ...(force
            ? [rowEventStatement(db, c.var.tenant, {
                type: 'role.unassigned', actor: changeActor(c),
                from: sql`${b} b`,
                where: sql`b.role_id = ${row.id}`,
                payload: {
                  binding_id: sql`b.id`, role: sql`${row.name}::text`, subject: sql`jsonb_build_object('type', b.subject_type, 'id', b.subject_id)`,
                  resource_type: sql`b.resource_type`, resource_id: sql`b.resource_id`,
                },
              })]
            : []),
          db.execute(sql`delete from ${r} where ${r.id} = ${row.id} ${guard} returning ${r.id}`),
        ],
        audit: { action: 'role.deleted', targetType: 'role', targetId: row.id, details: { name: row.name, force } },
        when: sql`not exists (select 1 from ${r} where ${r.id} = ${row.id})`,
        event: { type: 'role.deleted', data: { role: row.name } },
      }))).results
      if (!(results.at(-1) as { rows: unknown[] }).rows.length) throw fail(AuthzErrors, 'role_in_use')
      return c.body(null, 204)
    },
  )

  return router
}
