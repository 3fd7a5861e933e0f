import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm'
import { auditFrom, changeDeps, commitChange, type ChangeAudit } from '../../changes/commit.ts'
import { uuidv7 } from '../../db/ids.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { encryptSecret } from '../../identity/secrets.ts'
import { requirePermission, type PermissionContext } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, json, security, body } from '../../openapi.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { claimDeliveries, deliverClaimed, LEASE_SECONDS, type ClaimedDelivery, type DeliveryDeps } from '../../webhooks/deliver.ts'
import { directEventStatements } from '../../webhooks/outbox.ts'
import { newWebhookSecret } from '../../webhooks/sign.ts'
import { webhookUrlProblem } from '../../webhooks/url.ts'
import { idempotent, IdempotencyKeyHeader } from '../../middleware/idempotency/index.ts'
import {
  AttemptResult, CreatedWebhook, CreateWebhook, Delivery, DeliveryIdParam, DeliveryQuery, MAX_WEBHOOKS_PER_TENANT, page, PageQuery,
  UpdateWebhook, Webhook, WebhookErrors, WebhookIdParam,
} from './schemas.ts'

type C = PermissionContext

/** The caller (a user or an API key), as the actor of audit entries and events. */
const actorOf = (c: C) => ({ type: c.var.subject.type, id: c.var.subject.id })
type Tables = ReturnType<typeof tenantTables>
type WebhookRow = Tables['webhooks']['$inferSelect']

const tags = ['Webhooks']
const iso = (v: string | null) => (v ? new Date(v).toISOString() : null)

function present(w: WebhookRow): z.infer<typeof Webhook> {
  return { id: w.id, url: w.url, events: w.events, description: w.description, enabled: w.enabled, created_at: iso(w.createdAt)!, updated_at: iso(w.updatedAt)! }
}

interface DeliveryView {
  id: string
  webhookId: string
  eventId: string
  eventType: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  lastStatusCode: number | null
  lastError: string | null
  nextAttemptAt: string
  deliveredAt: string | null
  createdAt: string
}

function presentDelivery(d: DeliveryView): z.infer<typeof Delivery> {
  return {
    id: d.id, webhook_id: d.webhookId, event_id: d.eventId, event_type: d.eventType, status: d.status, attempts: Number(d.attempts),
    last_status_code: d.lastStatusCode, last_error: d.lastError, next_attempt_at: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    delivered_at: iso(d.deliveredAt), created_at: iso(d.createdAt)!,
  }
}

function assertUrl(c: C, url: string) {
  const problem = webhookUrlProblem(url, c.var.config.ENVIRONMENT)
  if (problem) throw fail(WebhookErrors, 'invalid_webhook_url', `The webhook URL ${problem}.`, { url, reason: problem })
}

/** The audit entry of a change to webhook `webhookId` by the caller, for `commitChange` (written only if `when` holds). */
function webhookAudit(c: C, action: string, webhookId: string, details: Record<string, unknown>, when?: SQL): ChangeAudit {
  const actor = actorOf(c)
  return { action, actorType: actor.type, actorId: actor.id, targetType: 'webhook', targetId: webhookId, details, when }
}

/** SQL: the webhook exists (after the change, in its transaction). */
const webhookExists = (c: C, webhookId: string) => sql`exists (select 1 from ${sql.identifier(c.var.tenant.schemaName)}.webhooks where id = ${webhookId})`

async function findWebhook(c: C, id: string): Promise<WebhookRow> {
  const w = tenantTables(c.var.tenant.schemaName).webhooks
  const [row] = await c.var.db.select().from(w).where(eq(w.id, id)).limit(1)
  if (!row) throw fail(WebhookErrors, 'webhook_not_found')
  return row
}

/** Attempt claimed deliveries now, inside the request, and answer the (single) outcome. */
async function attemptNow(c: C, tenant: Tenant, claimed: ClaimedDelivery[]) {
  const deps: DeliveryDeps = { db: c.var.db, logger: c.var.logger, config: c.var.config }
  const [result] = await deliverClaimed(deps, tenant, claimed)
  if (!result) throw fail(WebhookErrors, 'delivery_not_found')
  const { delivery: d, outcome, row } = result
  const view: DeliveryView = row
    ? { id: row.id, webhookId: row.webhook_id, eventId: row.event_id, eventType: d.type, status: row.status, attempts: row.attempts, lastStatusCode: row.last_status_code, lastError: row.last_error, nextAttemptAt: row.next_attempt_at, deliveredAt: row.delivered_at, createdAt: row.created_at }
    : { id: d.id, webhookId: d.webhookId, eventId: d.eventId, eventType: d.type, status: 'pending', attempts: d.attempts, lastStatusCode: outcome.statusCode, lastError: outcome.error, nextAttemptAt: new Date().toISOString(), deliveredAt: null, createdAt: d.eventCreatedAt }
  return { delivered: outcome.delivered, status_code: outcome.statusCode, error: outcome.error, delivery: presentDelivery(view) }
}

/** /v1/webhooks: endpoints that receive the tenant's events, signed (webhooks:read|create|update|delete|test). */
export function registerWebhookRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()
  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('webhooks:create'), idempotent()] as const, summary: 'Create a webhook; its signing secret is in this answer only',
      request: { headers: IdempotencyKeyHeader, ...body(CreateWebhook) },
      responses: { 201: json(CreatedWebhook, 'The webhook, with its secret'), ...errorResponses(400, 401, 403, 409, 422) },
    }),
    async (c) => {
      const body = c.req.valid('json')
      assertUrl(c, body.url)
      const tenant = c.var.tenant
      const t = tenantTables(tenant.schemaName)
      const id = uuidv7()
      const secret = newWebhookSecret()
      const secretEnc = await encryptSecret(c.var.config.DATA_ENCRYPTION_KEY, secret, `webhook:${id}`)
      const events = sql.join(body.events.map((e) => sql`${e}`), sql`, `)
      const { results } = await commitChange(changeDeps(c), {
        tenant,
        meta: requestMeta(c),
        statements: [
          // Conditional on the tenant's count, in the same statement: no read-then-write race past the limit.
          c.var.db
            .insert(t.webhooks)
            .select(sql`select ${id}::uuid, ${body.url}, array[${events}]::text[], ${secretEnc}, true, ${body.description ?? null}, now(), now()
              where (select count(*) from ${t.webhooks}) < ${MAX_WEBHOOKS_PER_TENANT}`)
            .returning(),
        ],
        audit: webhookAudit(c, 'webhook.created', id, { url: body.url, events: body.events }, webhookExists(c, id)),
        marks: c.var.idempotency ? [c.var.idempotency.committed(`/v1/webhooks/${id}`, webhookExists(c, id))] : [],
      })
      const row = (results[0] as WebhookRow[])[0]
      if (!row) throw fail(WebhookErrors, 'webhook_limit_reached', undefined, { max: MAX_WEBHOOKS_PER_TENANT })
      return c.json({ ...present(row), secret }, 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('webhooks:read')] as const, summary: 'List webhooks (newest first; no secrets)',
      request: { query: PageQuery },
      responses: { 200: json(page(Webhook, 'WebhookPage'), 'A page of webhooks'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const w = tenantTables(c.var.tenant.schemaName).webhooks
      const rows = await c.var.db.select().from(w).where(q.cursor ? lt(w.id, q.cursor) : undefined).orderBy(desc(w.id)).limit(q.limit + 1)
      const data = rows.slice(0, q.limit)
      return c.json({ data: data.map(present), next_cursor: rows.length > q.limit ? data.at(-1)!.id : null }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{id}', tags, security, middleware: [requirePermission('webhooks:read')] as const, summary: 'Get a webhook (no secret)',
      request: { params: WebhookIdParam },
      responses: { 200: json(Webhook, 'The webhook'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(present(await findWebhook(c, c.req.valid('param').id)), 200),
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/{id}', tags, security, middleware: [requirePermission('webhooks:update')] as const, summary: 'Change the URL, the events, the description, or enable/disable',
      request: { params: WebhookIdParam, ...body(UpdateWebhook) },
      responses: { 200: json(Webhook, 'The updated webhook'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      if (body.url !== undefined) assertUrl(c, body.url)
      const w = tenantTables(c.var.tenant.schemaName).webhooks
      const { results } = await commitChange(changeDeps(c), {
        tenant: c.var.tenant,
        meta: requestMeta(c),
        statements: [
          c.var.db
            .update(w)
            .set({ url: body.url, events: body.events, enabled: body.enabled, description: body.description, updatedAt: sql`now()` })
            .where(eq(w.id, id))
            .returning(),
        ],
        audit: webhookAudit(c, 'webhook.updated', id, { fields: Object.keys(body) }, webhookExists(c, id)),
      })
      const row = (results[0] as WebhookRow[])[0]
      if (!row) throw fail(WebhookErrors, 'webhook_not_found')
      return c.json(present(row), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{id}', tags, security, middleware: [requirePermission('webhooks:delete')] as const, summary: 'Delete a webhook and its pending deliveries',
      request: { params: WebhookIdParam },
      responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const tenant = c.var.tenant
      const auditId = uuidv7()
      const actor = actorOf(c)
      // One statement: the entry is written from the deleted row, so only if there was one.
      const { results } = await commitChange(changeDeps(c), {
        tenant,
        audit: { writtenBy: auditId },
        statements: [c.var.db.execute(sql`
          with deleted as (delete from ${sql.identifier(tenant.schemaName)}.webhooks where id = ${id} returning id),
          logged as (${auditFrom(tenant.schemaName, sql`deleted`, requestMeta(c), auditId, { action: 'webhook.deleted', actorType: actor.type, actorId: actor.id, targetType: 'webhook', targetId: id })})
          select id from deleted`)],
      })
      if (!(results[0] as { rows: unknown[] }).rows.length) throw fail(WebhookErrors, 'webhook_not_found')
      return c.body(null, 204)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/{id}/test', tags, security, middleware: [requirePermission('webhooks:test')] as const,
      summary: 'Send a webhook.test event to this webhook only, now, and answer the outcome of the attempt (retried like any delivery if it fails)',
      request: { params: WebhookIdParam },
      responses: { 200: json(AttemptResult, 'The outcome of the attempt'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const tenant = c.var.tenant
      const event = directEventStatements(c.var.db, tenant, id, {
        type: 'webhook.test',
        data: { webhook_id: id, message: 'This is a test event from Atrium.' },
        actor: actorOf(c),
      }, LEASE_SECONDS)
      await c.var.db.batch([...event.statements])
      const claimed = await claimDeliveries(c.var.db, tenant, { limit: 1, force: { deliveryId: event.deliveryId, webhookId: id } })
      if (!claimed.length) throw fail(WebhookErrors, 'webhook_not_found')
      return c.json(await attemptNow(c, tenant, claimed), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/{id}/deliveries', tags, security, middleware: [requirePermission('webhooks:read')] as const, summary: 'Deliveries of a webhook, newest first: status, attempts, last answer, next attempt',
      request: { params: WebhookIdParam, query: DeliveryQuery },
      responses: { 200: json(page(Delivery, 'WebhookDeliveryPage'), 'A page of deliveries'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const q = c.req.valid('query')
      await findWebhook(c, id)
      const t = tenantTables(c.var.tenant.schemaName)
      const d = t.webhookDeliveries
      const rows = await c.var.db
        .select({ delivery: d, eventType: t.webhookEvents.type })
        .from(d)
        .innerJoin(t.webhookEvents, eq(t.webhookEvents.id, d.eventId))
        .where(and(eq(d.webhookId, id), q.cursor ? lt(d.id, q.cursor) : undefined, q.status ? eq(d.status, q.status) : undefined))
        .orderBy(desc(d.id))
        .limit(q.limit + 1)
      const data = rows.slice(0, q.limit)
      return c.json({
        data: data.map((r) => presentDelivery({ ...r.delivery, eventType: r.eventType })),
        next_cursor: rows.length > q.limit ? data.at(-1)!.delivery.id : null,
      }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/{id}/deliveries/{deliveryId}/retry', tags, security, middleware: [requirePermission('webhooks:update')] as const,
      summary: 'Attempt a delivery again now, whatever its status, and answer the outcome',
      request: { params: DeliveryIdParam },
      responses: { 200: json(AttemptResult, 'The outcome of the attempt'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid('param')
      const tenant = c.var.tenant
      const claimed = await claimDeliveries(c.var.db, tenant, { limit: 1, force: { deliveryId, webhookId: id } })
      if (!claimed.length) throw fail(WebhookErrors, 'delivery_not_found')
      return c.json(await attemptNow(c, tenant, claimed), 200)
    },
  )

  app.route('/v1/webhooks', router)
}
