import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { uuidv7 } from '../../db/ids.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import { auditInsert, requestMeta } from '../../identity/audit.ts'
import { hashToken, randomToken } from '../../identity/secrets.ts'
import { API_KEY_PREFIX, forgetApiKey } from '../../middleware/api-key/index.ts'
import { requireMember } from '../../middleware/membership/index.ts'
import { errorResponses, sectionRouter } from '../../openapi.ts'

const ApiKeyErrors = {
  api_key_not_found: [404, 'No such API key.'],
  invalid_role: [400, 'Unknown role.'],
} as const

const tags = ['API keys']
const security = [{ bearer: [] }]
const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } })

/** Roles an API key may hold. Owner stays with people: a key cannot own a tenant. */
const ASSIGNABLE_BUILT_IN = ['admin', 'member']

const CreateApiKey = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    roles: z.array(z.string().min(1).max(100)).min(1).max(20),
    expires_at: z.iso.datetime({ offset: true }).optional().refine((v) => !v || new Date(v).getTime() > Date.now(), 'must be in the future'),
  })
  .openapi('CreateApiKey')

const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the secret, to recognise it' }),
    roles: z.array(z.string()),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey')

type Row = typeof tenantTables extends (s: string) => infer T ? T extends { apiKeys: infer K } ? K extends { $inferSelect: infer R } ? R : never : never : never
const iso = (v: string | null) => (v ? new Date(v).toISOString() : null)
function present(k: Row): z.infer<typeof ApiKey> {
  return { id: k.id, name: k.name, prefix: k.prefix, roles: k.roles, created_at: iso(k.createdAt)!, expires_at: iso(k.expiresAt), last_used_at: iso(k.lastUsedAt), revoked_at: iso(k.revokedAt) }
}

/** Roles must exist in the tenant: built-in ones now; custom roles once the authorization model knows them. */
async function assertAssignable(c: Context<AppEnv>, roles: string[]) {
  const known = await knownRoles(c)
  const unknown = roles.filter((r) => !known.has(r))
  if (unknown.length) throw fail(ApiKeyErrors, 'invalid_role', `Unknown or unassignable role: ${unknown.join(', ')}.`, { roles: unknown })
}

async function knownRoles(c: Context<AppEnv>): Promise<Set<string>> {
  const t = tenantTables(c.var.tenant!.schemaName) as Record<string, unknown>
  const names = new Set(ASSIGNABLE_BUILT_IN)
  const roles = t.roles as { name: unknown; builtIn?: unknown } | undefined
  if (roles) {
    const rows = (await c.var.db.select({ name: roles.name } as never).from(roles as never)) as { name: string }[]
    for (const r of rows) if (r.name !== 'owner') names.add(r.name)
  }
  return names
}

/** Service accounts: /v1/api-keys (tenant admins). The secret is shown once, stored as SHA-256. */
export function registerApiKeyRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()
  router.use('*', requireMember('admin'))

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, summary: 'Create an API key; the secret is in this answer only',
      request: { body: { required: true, content: { 'application/json': { schema: CreateApiKey } } } },
      responses: { 201: json(ApiKey.extend({ secret: z.string() }), 'The key, with its secret'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const roles = [...new Set(body.roles)]
      await assertAssignable(c, roles)
      const tenant = c.var.tenant!
      const secret = `${API_KEY_PREFIX}${randomToken()}`
      const k = tenantTables(tenant.schemaName).apiKeys
      const id = uuidv7()
      const [rows] = await c.var.db.batch([
        c.var.db.insert(k).values({ id, name: body.name, prefix: secret.slice(0, 12), keyHash: await hashToken(secret), roles, createdBy: c.var.auth?.sub ?? null, expiresAt: body.expires_at ? new Date(body.expires_at).toISOString() : null }).returning(),
        auditInsert(c.var.db, tenant.schemaName, requestMeta(c), { action: 'api_key.created', actorId: c.var.auth?.sub, targetType: 'api_key', targetId: id, details: { name: body.name, roles } }),
      ])
      return c.json({ ...present(rows[0]!), secret }, 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, summary: 'List API keys (newest first; no secrets)',
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.uuid().optional(), include_revoked: z.enum(['true', 'false']).default('false') }) },
      responses: { 200: json(z.object({ data: z.array(ApiKey), next_cursor: z.string().nullable() }), 'A page of keys'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const k = tenantTables(c.var.tenant!.schemaName).apiKeys
      const rows = await c.var.db
        .select()
        .from(k)
        .where(and(q.cursor ? lt(k.id, q.cursor) : undefined, q.include_revoked === 'true' ? undefined : isNull(k.revokedAt)))
        .orderBy(desc(k.id))
        .limit(q.limit + 1)
      const page = rows.slice(0, q.limit)
      return c.json({ data: page.map(present), next_cursor: rows.length > q.limit ? page.at(-1)!.id : null }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{id}', tags, security, summary: 'Get an API key (no secret)',
      request: { params: z.object({ id: z.uuid() }) },
      responses: { 200: json(ApiKey, 'The key'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const k = tenantTables(c.var.tenant!.schemaName).apiKeys
      const [row] = await c.var.db.select().from(k).where(eq(k.id, c.req.valid('param').id)).limit(1)
      if (!row) throw fail(ApiKeyErrors, 'api_key_not_found')
      return c.json(present(row), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{id}', tags, security, summary: 'Revoke an API key (it stops working at once)',
      request: { params: z.object({ id: z.uuid() }) },
      responses: { 200: json(ApiKey, 'The revoked key'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const tenant = c.var.tenant!
      const k = tenantTables(tenant.schemaName).apiKeys
      const id = c.req.valid('param').id
      const meta = requestMeta(c)
      const [rows] = await c.var.db.batch([
        c.var.db.update(k).set({ revokedAt: sql`coalesce(${k.revokedAt}, now())` as unknown as string }).where(eq(k.id, id)).returning(),
        // Recorded only if the key exists: the audit row is conditional on it, in the same transaction.
        c.var.db.execute(sql`insert into ${sql.identifier(tenant.schemaName)}.audit_log (id, actor_type, actor_id, action, target_type, target_id, ip, user_agent)
          select ${uuidv7()}, 'user', ${c.var.auth?.sub ?? null}, 'api_key.revoked', 'api_key', ${id}, ${meta.ip}::inet, ${meta.userAgent}
          where exists (select 1 from ${k} where ${k.id} = ${id})`),
      ])
      const row = rows[0]
      if (!row) throw fail(ApiKeyErrors, 'api_key_not_found')
      await forgetApiKey(c, tenant, row.keyHash)
      return c.json(present(row), 200)
    },
  )

  app.route('/v1/api-keys', router)
}
