import { sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { versionBump } from '../../authz/cache.ts'
import type { Change } from '../../changes/commit.ts'
import { authzVersionChanged } from '../../changes/effects.ts'
import { requestMeta } from '../../identity/audit.ts'
import { callerSubject, type PermissionContext } from '../../middleware/permission/index.ts'
import type { WebhookActor, WebhookEvent, WebhookEventType } from '../../webhooks/outbox.ts'

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
 * A change to the authorization model, for `commitChange`: the model version bump is its guard
 * (first in the batch, which also serialises concurrent model writes of a tenant), then the
 * change, its audit entry and its webhook event (both only if `when` holds), and the
 * `authz_version` effect, so the very next check, in any isolate, reloads the model.
 */
export function modelChange<T extends WebhookEventType>(c: C, change: ModelChange<T>): Change {
  const tenant = c.var.tenant
  const actor = changeActor(c)
  return {
    tenant,
    meta: requestMeta(c),
    guards: [versionBump(c.var.db, tenant.schemaName)],
    statements: change.statements,
    audit: { ...change.audit, actorType: actor.type, actorId: actor.id, when: change.when },
    events: change.event ? [{ ...change.event, actor } as WebhookEvent<WebhookEventType>] : [],
    effects: [authzVersionChanged(tenant)],
  }
}

/** A text[] parameter list (Drizzle expands a JS array in `sql` into separate parameters). */
export function textArray(values: readonly string[]): SQL {
  return values.length ? sql`array[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]` : sql`'{}'::text[]`
}
