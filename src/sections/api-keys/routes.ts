import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, isNull, lt, sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { changeDeps, commitChange, type Change } from '../../changes/commit.ts'
import { apiKeyRevoked, authzVersionChanged, type Effect } from '../../changes/effects.ts'
import { uuidv7 } from '../../db/ids.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { hashToken, randomToken } from '../../identity/secrets.ts'
import { API_KEY_PREFIX } from '../../identity/api-keys.ts'
import { requirePermission, type PermissionContext } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, json, security, body } from '../../openapi.ts'
import type { WebhookEvent, WebhookEventType } from '../../webhooks/outbox.ts'
import { assertAssignableRoles } from './assignable.ts'
import { ApiKey, ApiKeyErrors, ApiKeyPage, CreateApiKey, IdParam, ListQuery, present, type ApiKeyRow } from './schemas.ts'
import { idempotent, IdempotencyKeyHeader } from '../../middleware/idempotency/index.ts'

type C = PermissionContext

const tags = ['API keys']

const textArray = (values: readonly string[]) => sql`array[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]`

/** The caller (a user or an API key) as the actor of audit entries and events. */
const actorOf = (c: C) => ({ type: c.var.subject.type, id: c.var.subject.id })

/**
 * A change to api_keys, for `commitChange`: its audit entry (only if `when` holds) and event, and
 * the `authz_version` effect — the write bumped the model's version in its own transaction
 * (trigger, migrations/0006), published before the answer so the next check anywhere sees it.
 */
function keyChange(c: C, change: { statements: BatchItem<'pg'>[]; when: SQL; audit: { action: string; targetId: string; details?: Record<string, unknown> }; event: WebhookEvent<WebhookEventType>; effects?: Effect[]; marks?: BatchItem<'pg'>[] }): Change {
  const tenant = c.var.tenant
  const actor = actorOf(c)
  return {
    tenant,
    meta: requestMeta(c),
    statements: change.statements,
    audit: { ...change.audit, actorType: actor.type, actorId: actor.id, targetType: 'api_key', when: change.when },
    events: [{ ...change.event, actor }],
    effects: [authzVersionChanged(tenant), ...(change.effects ?? [])],
    marks: change.marks,
  }
}

/** Service accounts: /v1/api-keys (api_keys:read|create|revoke). The secret is shown once, stored as SHA-256. */
export function registerApiKeyRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('api_keys:create'), idempotent()] as const,
      summary: 'Create an API key holding roles of the tenant (no more than the caller holds); the secret is in this answer only',
      request: { headers: IdempotencyKeyHeader, ...body(CreateApiKey) },
      responses: { 201: json(ApiKey.extend({ secret: z.string() }), 'The key, with its secret'), ...errorResponses(400, 401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const roles = [...new Set(body.roles)]
      await assertAssignableRoles(c, roles)
      const tenant = c.var.tenant
      const t = tenantTables(tenant.schemaName)
      const secret = `${API_KEY_PREFIX}${randomToken()}`
      const id = uuidv7()
      const prefix = secret.slice(0, 12)
      const expiresAt = body.expires_at ? new Date(body.expires_at).toISOString() : null
      const createdBy = c.var.subject.id
      const exists = sql`exists (select 1 from ${t.apiKeys} where ${t.apiKeys.id} = ${id})`
      const [rows] = (await commitChange(changeDeps(c), keyChange(c, {
        statements: [
          // Only if every role still exists when the batch runs (a role deleted since it was checked).
          c.var.db
            .insert(t.apiKeys)
            .select(sql`select ${id}::uuid, ${body.name}, ${prefix}, ${await hashToken(secret)}, ${textArray(roles)}, ${createdBy}::uuid, now(), ${expiresAt}::timestamptz, null::timestamptz, null::timestamptz
              where (select count(*) from ${t.roles} where ${t.roles.name} = any(${textArray(roles)})) = ${roles.length}`)
            .returning(),
        ],
        when: exists,
        audit: { action: 'api_key.created', targetId: id, details: { name: body.name, roles } },
        event: { type: 'api_key.created', data: { api_key_id: id, name: body.name, prefix, roles, expires_at: expiresAt, created_by: createdBy } },
        marks: c.var.idempotency ? [c.var.idempotency.committed(`/v1/api-keys/${id}`, exists)] : [],
      }))).results as [ApiKeyRow[]]
      const row = rows[0]
      if (!row) {
        await assertAssignableRoles(c, roles) // names the role that went away
        throw commonError('conflict', 'A role changed while the key was being created; try again.')
      }
      return c.json({ ...present(row), secret }, 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('api_keys:read')] as const,
      summary: 'List API keys (newest first; no secrets)',
      request: { query: ListQuery },
      responses: { 200: json(ApiKeyPage, 'A page of keys'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const k = tenantTables(c.var.tenant.schemaName).apiKeys
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
      method: 'get', path: '/{id}', tags, security, middleware: [requirePermission('api_keys:read')] as const,
      summary: 'Get an API key (no secret)',
      request: { params: IdParam },
      responses: { 200: json(ApiKey, 'The key'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const k = tenantTables(c.var.tenant.schemaName).apiKeys
      const [row] = await c.var.db.select().from(k).where(eq(k.id, c.req.valid('param').id)).limit(1)
      if (!row) throw fail(ApiKeyErrors, 'api_key_not_found')
      return c.json(present(row), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{id}', tags, security, middleware: [requirePermission('api_keys:revoke')] as const,
      summary: 'Revoke an API key (it stops working, and stops being a subject of checks, at once); revoking it again changes nothing',
      request: { params: IdParam },
      responses: { 200: json(ApiKey, 'The revoked key'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const tenant = c.var.tenant
      const k = tenantTables(tenant.schemaName).apiKeys
      const id = c.req.valid('param').id
      // Revoked by this transaction (now() is its start): a second revocation records and emits nothing.
      const revokedNow = sql`exists (select 1 from ${k} where ${k.id} = ${id} and ${k.revokedAt} = now())`
      const [rows] = (await commitChange(changeDeps(c), keyChange(c, {
        statements: [c.var.db.update(k).set({ revokedAt: sql`coalesce(${k.revokedAt}, now())` }).where(eq(k.id, id)).returning()],
        when: revokedNow,
        audit: { action: 'api_key.revoked', targetId: id },
        event: { type: 'api_key.revoked', data: { api_key_id: id, revoked_by: c.var.subject.id } },
        // Its cached principal goes with the revocation, durably (applied again if Redis fails now).
        effects: [apiKeyRevoked(tenant, sql`select ${k.keyHash} from ${k} where ${k.id} = ${id}`)],
      }))).results as [ApiKeyRow[]]
      const row = rows[0]
      if (!row) throw fail(ApiKeyErrors, 'api_key_not_found')
      return c.json(present(row), 200)
    },
  )

  app.route('/v1/api-keys', router)
}
