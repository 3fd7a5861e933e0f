import { sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { uuidv7 } from '../db/ids.ts'
import type { Database } from '../platform/database.ts'
import type { Tenant } from '../tenancy/registry.ts'

/**
 * The outbox: an event is written in the same batch (the same transaction) as the change that
 * caused it, together with one pending delivery per enabled webhook subscribed to its type.
 * Nothing is read first: both inserts select from `webhooks`, so a tenant without a matching
 * webhook writes nothing at all. Delivery happens later (deliver.ts): right after the answer,
 * and from the scheduler for whatever is still due.
 *
 * The catalogue below is the contract with receivers (docs/api/webhooks.md lists the same
 * payloads); add a type here before emitting it.
 */
export interface WebhookEventPayloads {
  'member.invited': { invitation_id: string; email: string; role: string; expires_at: string; invited_by: string | null }
  'member.joined': { user_id: string; email: string; role: string; via: 'signup' | 'invitation' | 'oauth' | 'platform_signup' | (string & {}) }
  'member.removed': { user_id: string; role: string; removed_by: string | null }
  'member.role_changed': { user_id: string; previous_role: string; role: string; changed_by: string | null }
  'role.created': { role: string; description: string | null; permissions: string[] }
  'role.updated': { role: string; description: string | null; permissions: string[] }
  'role.deleted': { role: string }
  'role.assigned': { binding_id: string; role: string; subject: { type: 'user' | 'api_key'; id: string }; resource_type: string | null; resource_id: string | null; expires_at: string | null }
  'role.unassigned': { binding_id: string; role: string; subject: { type: 'user' | 'api_key'; id: string }; resource_type: string | null; resource_id: string | null }
  'policy.created': { policy_id: string; name: string; effect: 'allow' | 'deny'; permission: string; conditions: unknown }
  'policy.updated': { policy_id: string; name: string; effect: 'allow' | 'deny'; permission: string; conditions: unknown }
  'policy.deleted': { policy_id: string; name: string }
  'user.login': { user_id: string; session_id: string; mfa: boolean }
  'user.locked': { user_id: string; email: string; lock_seconds: number }
  'user.password_changed': { user_id: string; via: 'change' | 'password_reset'; other_sessions_ended: boolean }
  'user.deleted': { user_id: string }
  'api_key.created': { api_key_id: string; name: string; prefix: string; roles: string[]; expires_at: string | null; created_by: string | null }
  'api_key.revoked': { api_key_id: string; revoked_by: string | null }
  'webhook.test': { webhook_id: string; message: string }
}

export type WebhookEventType = keyof WebhookEventPayloads

/** Types a webhook can subscribe to (`webhook.test` is only ever sent by POST /v1/webhooks/:id/test). */
export const SUBSCRIBABLE_EVENT_TYPES = [
  'member.invited',
  'member.joined',
  'member.removed',
  'member.role_changed',
  'role.created',
  'role.updated',
  'role.deleted',
  'role.assigned',
  'role.unassigned',
  'policy.created',
  'policy.updated',
  'policy.deleted',
  'user.login',
  'user.locked',
  'user.password_changed',
  'user.deleted',
  'api_key.created',
  'api_key.revoked',
] as const satisfies readonly Exclude<WebhookEventType, 'webhook.test'>[]

/** What a subscription may name: a type, a group (`member.*`) or everything (`*`). */
export function isSubscribable(name: string): boolean {
  if (name === '*') return true
  if (name.endsWith('.*')) return SUBSCRIBABLE_EVENT_TYPES.some((t) => t.startsWith(name.slice(0, -1)))
  return (SUBSCRIBABLE_EVENT_TYPES as readonly string[]).includes(name)
}

export interface WebhookActor {
  type: 'user' | 'api_key' | 'platform_admin' | 'system'
  id: string | null
}

export interface WebhookEvent<T extends WebhookEventType> {
  type: T
  data: WebhookEventPayloads[T]
  actor?: WebhookActor | null
  /** Emit only if this holds, evaluated in the same transaction (e.g. "the row still exists"). */
  when?: SQL
}

/**
 * A new, time-ordered (v7) id computed inside Postgres, for rows created by INSERT … SELECT
 * (one per matching webhook, so they cannot be generated beforehand). Postgres ≥ 18 has uuidv7().
 */
const UUIDV7_SQL = sql.raw(
  `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`,
)

/** The column name the delivery insert answers with, so `deliveryIdsIn` can find it in batch results. */
const DELIVERY_ID_COLUMN = 'webhook_delivery_id'

/** SQL: webhook `w` is subscribed to `type`. */
export function subscribedTo(type: string): SQL {
  const group = `${type.split('.')[0]}.*`
  return sql`(${type} = any(w.events) or ${group} = any(w.events) or '*' = any(w.events))`
}

/**
 * The two statements that record `event` in `tenant`'s outbox, for the batch of the change
 * that caused it. After the batch, pass its results to `deliverAfterResponse` (deliver.ts).
 */
export function eventStatements<T extends WebhookEventType>(db: Database, tenant: Pick<Tenant, 'schemaName'>, event: WebhookEvent<T>): BatchItem<'pg'>[] {
  const s = sql.identifier(tenant.schemaName)
  const id = uuidv7()
  const condition = event.when ? sql` and (${event.when})` : sql``
  return [
    db.execute(sql`
      insert into ${s}.webhook_events (id, type, payload, actor_type, actor_id)
      select ${id}, ${event.type}, ${JSON.stringify(event.data)}::jsonb, ${event.actor?.type ?? null}, ${event.actor?.id ?? null}
      where exists (select 1 from ${s}.webhooks w where w.enabled and ${subscribedTo(event.type)})${condition}`),
    db.execute(sql`
      insert into ${s}.webhook_deliveries (id, webhook_id, event_id)
      select ${UUIDV7_SQL}, w.id, e.id
      from ${s}.webhooks w join ${s}.webhook_events e on e.id = ${id}
      where w.enabled and ${subscribedTo(event.type)}
      returning id as ${sql.identifier(DELIVERY_ID_COLUMN)}`),
  ]
}

/**
 * One event of `type` per row of `from … where` (e.g. the policies a cascade is about to delete),
 * its payload built in SQL from the row, with its deliveries: for rows that only the transaction
 * knows, so the events cannot be listed beforehand. One statement (a writable CTE, so the
 * deliveries see the events just inserted); put it in the batch BEFORE the statement that changes
 * those rows. Results go to `deliverAfterResponse` like those of `eventStatements`. The alias `w`
 * is taken (webhooks).
 */
export function rowEventStatement<T extends WebhookEventType>(
  db: Database,
  tenant: Pick<Tenant, 'schemaName'>,
  event: { type: T; from: SQL; where: SQL; payload: { [K in keyof WebhookEventPayloads[T]]-?: SQL }; actor?: WebhookActor | null },
): BatchItem<'pg'> {
  const s = sql.identifier(tenant.schemaName)
  const fields = Object.entries(event.payload as Record<string, SQL>).map(([key, value]) => sql`${key}::text, ${value}`)
  return db.execute(sql`
    with e as (
      insert into ${s}.webhook_events (id, type, payload, actor_type, actor_id)
      select ${UUIDV7_SQL}, ${event.type}, jsonb_build_object(${sql.join(fields, sql`, `)}), ${event.actor?.type ?? null}, ${event.actor?.id ?? null}
      from ${event.from}
      where (${event.where}) and exists (select 1 from ${s}.webhooks w where w.enabled and ${subscribedTo(event.type)})
      returning id)
    insert into ${s}.webhook_deliveries (id, webhook_id, event_id)
    select ${UUIDV7_SQL}, w.id, e.id
    from ${s}.webhooks w cross join e
    where w.enabled and ${subscribedTo(event.type)}
    returning id as ${sql.identifier(DELIVERY_ID_COLUMN)}`)
}

/**
 * One event for one webhook, whatever it subscribes to and whether it is enabled: the test
 * endpoint. The delivery starts not yet due (a lease away), so the scheduler leaves it to the
 * caller, who claims it at once (`claimDeliveries` with `force`).
 */
export function directEventStatements<T extends WebhookEventType>(db: Database, tenant: Pick<Tenant, 'schemaName'>, webhookId: string, event: WebhookEvent<T>, leaseSeconds: number) {
  const s = sql.identifier(tenant.schemaName)
  const eventId = uuidv7()
  const deliveryId = uuidv7()
  return {
    eventId,
    deliveryId,
    statements: [
      db.execute(sql`
        insert into ${s}.webhook_events (id, type, payload, actor_type, actor_id)
        select ${eventId}, ${event.type}, ${JSON.stringify(event.data)}::jsonb, ${event.actor?.type ?? null}, ${event.actor?.id ?? null}
        where exists (select 1 from ${s}.webhooks where id = ${webhookId})`),
      db.execute(sql`
        insert into ${s}.webhook_deliveries (id, webhook_id, event_id, next_attempt_at)
        select ${deliveryId}, w.id, e.id, now() + make_interval(secs => ${leaseSeconds})
        from ${s}.webhooks w join ${s}.webhook_events e on e.id = ${eventId}
        where w.id = ${webhookId}
        returning id`),
    ] as const,
  }
}

interface RawResult {
  fields?: Array<{ name: string }>
  rows?: unknown[]
}

/**
 * The ids of the deliveries created by `eventStatements` in a batch, found in its results
 * wherever they sit (the HTTP driver answers batch rows as arrays, with the column names in
 * `fields`).
 */
export function deliveryIdsIn(batchResults: readonly unknown[]): string[] {
  const ids: string[] = []
  for (const result of batchResults) {
    if (!result || typeof result !== 'object' || Array.isArray(result)) continue
    const { fields, rows } = result as RawResult
    if (!Array.isArray(fields) || fields.length !== 1 || fields[0]?.name !== DELIVERY_ID_COLUMN || !Array.isArray(rows)) continue
    for (const row of rows) {
      const value = Array.isArray(row) ? row[0] : (row as Record<string, unknown> | null)?.[DELIVERY_ID_COLUMN]
      if (typeof value === 'string') ids.push(value)
    }
  }
  return ids
}
