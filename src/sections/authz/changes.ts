import { sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { bumpedVersion, publishVersion, versionBump } from '../../authz/cache.ts'
import { uuidv7 } from '../../db/ids.ts'
import { requestMeta } from '../../identity/audit.ts'
import { callerSubject, type PermissionContext } from '../../middleware/permission/index.ts'
import { deliverAfterResponse } from '../../webhooks/deliver.ts'
import { eventStatements, type WebhookActor, type WebhookEvent, type WebhookEventType } from '../../webhooks/outbox.ts'

type C = PermissionContext

export interface ModelChange<T extends WebhookEventType> {
  /** The change itself, in order. */
  statements: BatchItem<'pg'>[]
  audit: { action: string; targetType: string; targetId: string; details?: Record<string, unknown> }
  /**
   * When the audit entry and the event are written, evaluated in the same transaction after the
   * statements (e.g. "the role exists and was updated by this transaction": updated_at = now()).
   */
  when: SQL
  event?: Omit<WebhookEvent<T>, 'actor' | 'when'>
}

/** Who made the change: the API key or the signed-in user. */
export function changeActor(c: C): WebhookActor {
  const subject = callerSubject(c)
  return subject ? { type: subject.type, id: subject.id } : { type: 'system', id: null }
}

/**
 * Every change to the authorization model goes through here: ONE batch (one transaction) that
 * bumps the model version first (which also serialises concurrent model writes of a tenant),
 * then the change, its audit entry and its webhook event; then the new version is published
 * so the very next check, in any isolate, reloads the model. Answers the statements' results.
 */
export async function commitModelChange<T extends WebhookEventType>(c: C, change: ModelChange<T>): Promise<unknown[]> {
  const tenant = c.var.tenant
  const db = c.var.db
  const s = sql.identifier(tenant.schemaName)
  const meta = requestMeta(c)
  const actor = changeActor(c)
  const { action, targetType, targetId, details = {} } = change.audit
  const audit = db.execute(sql`
    insert into ${s}.audit_log (id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details)
    select ${uuidv7()}, ${actor.type}, ${actor.id}, ${action}, ${targetType}, ${targetId}, ${meta.ip}::inet, ${meta.userAgent}, ${JSON.stringify(details)}::jsonb
    where ${change.when}`)
  const events = change.event ? eventStatements(db, tenant, { ...change.event, actor, when: change.when } as WebhookEvent<T>) : []
  const results = (await db.batch([versionBump(db, tenant.schemaName), ...change.statements, audit, ...events] as unknown as [BatchItem<'pg'>, ...BatchItem<'pg'>[]])) as unknown[]
  await publishVersion(c.var, tenant, bumpedVersion(results[0]))
  deliverAfterResponse(c, tenant, results)
  return results.slice(1, 1 + change.statements.length)
}

/** A text[] parameter list (Drizzle expands a JS array in `sql` into separate parameters). */
export function textArray(values: readonly string[]): SQL {
  return values.length ? sql`array[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]` : sql`'{}'::text[]`
}
