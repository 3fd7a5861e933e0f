import { sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Config } from '../config.ts'
import { uuidv7 } from '../db/ids.ts'
import type { AuditEvent, RequestMeta } from '../identity/audit.ts'
import type { Database } from '../platform/database.ts'
import { DependencyUnavailable } from '../platform/dependency-errors.ts'
import type { Logger } from '../platform/logger.ts'
import type { Redis } from '../platform/redis.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { deliverSoon } from '../webhooks/deliver.ts'
import { eventStatements, type WebhookEvent, type WebhookEventType } from '../webhooks/outbox.ts'
import { distrustCache } from './drain.ts'
import { applyEffects, effectsIn, effectStatement, markApplied, type Effect } from './effects.ts'

/**
 * The one way to write a change (docs/architecture.md). ONE batch — one transaction — in this
 * fixed order:
 *
 *   1. guards      what serialises or aborts the change (a lock, a cap, the model version bump)
 *   2. statements  the change itself
 *   3. audit       its audit entry (unless a statement wrote it: `audit.writtenBy`), with an optional `when`
 *   4. events      its webhook events (outbox)
 *   5. effects     what it owes to the caches (pending_effects: revocations, the authorization
 *                  version, tenant invalidation)
 *   6. marks       what must commit with it (an Idempotency-Key's `committed`)
 *
 * The audit entry is the witness: when it is conditional (`when`, or written by a guarded
 * statement), events and effects are written only if it was — nothing is announced or applied
 * for a change that did not happen.
 *
 * Then, in this order: the effects are applied to Redis before the answer (a failure leaves them
 * pending: the isolate stops trusting Redis and drains, and so does the cron — src/changes/drain.ts);
 * after the answer (`defer`, the request's waitUntil) they are marked applied and the events'
 * webhooks are delivered. Nothing after the commit is needed for the change to take effect.
 */

export interface ChangeDeps {
  db: Database
  redis: Redis
  logger: Logger
  /** Needed to deliver webhook events at once (their secrets); without it the scheduler delivers them. */
  config?: Pick<Config, 'DATA_ENCRYPTION_KEY' | 'ENVIRONMENT'>
  /** Work finished after the answer (the request's waitUntil); without it, the drain and the scheduler finish it. */
  defer?: (work: Promise<unknown>) => void
}

/** What a Hono context offers (typed structurally, so domain modules need no HTTP types). */
export interface ChangeHost {
  var: Required<Pick<ChangeDeps, 'db' | 'redis' | 'logger' | 'config'>>
  readonly executionCtx: Pick<ExecutionContext, 'waitUntil'>
}

/** The deps of a change made while serving a request. */
export function changeDeps(c: ChangeHost): ChangeDeps {
  let ctx: Pick<ExecutionContext, 'waitUntil'> | undefined
  try {
    ctx = c.executionCtx
  } catch {
    ctx = undefined // app.fetch called without an execution context: the drain and the scheduler finish
  }
  return { db: c.var.db, redis: c.var.redis, logger: c.var.logger, config: c.var.config, defer: ctx ? (work) => ctx.waitUntil(work) : undefined }
}

/** The audit entry of a change: written here (with its `when`), or by one of its statements (`auditFrom`). */
export type ChangeAudit = (AuditEvent & { id?: string; when?: SQL }) | { writtenBy: string }

export interface Change {
  /** The tenant whose audit log and outbox the change writes to; null for a change of `public` only. */
  tenant: Pick<Tenant, 'id' | 'schemaName'> | null
  meta?: RequestMeta
  guards?: readonly BatchItem<'pg'>[]
  statements: readonly BatchItem<'pg'>[]
  audit?: ChangeAudit
  events?: WebhookEvent<WebhookEventType>[]
  effects?: Effect[]
  marks?: readonly BatchItem<'pg'>[]
}

export interface Committed {
  /** The results of `statements`, in order. */
  results: unknown[]
  /** The results of the whole batch (guards first). */
  batch: unknown[]
}

const NO_META: RequestMeta = { ip: null, userAgent: null }

/** An audit entry inserted only if `when` holds (evaluated after the change, in its transaction). */
function auditStatement(db: Database, schemaName: string, meta: RequestMeta, id: string, event: AuditEvent, when?: SQL): BatchItem<'pg'> {
  return db.execute(sql`
    insert into ${sql.identifier(schemaName)}.audit_log (id, actor_type, actor_id, action, target_type, target_id, outcome, ip, user_agent, details)
    select ${id}::uuid, ${event.actorType ?? 'user'}, ${event.actorId ?? null}, ${event.action}, ${event.targetType ?? null}, ${event.targetId ?? null},
      ${event.outcome ?? 'success'}, ${meta.ip}::inet, ${meta.userAgent}, ${JSON.stringify(event.details ?? {})}::jsonb
    ${when ? sql`where ${when}` : sql``}`)
}

/**
 * The conditional twin of the audit entry, for a data-modifying CTE: `insert … select … from
 * <source>` writes the entry only if the guarded change produced a row, in the same statement.
 * Pass its `id` as the change's `audit: { writtenBy: id }`.
 */
export function auditFrom(schemaName: string, source: SQL, meta: RequestMeta, id: string, event: AuditEvent): SQL {
  return sql`insert into ${sql.identifier(schemaName)}.audit_log (id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details)
    select ${id}::uuid, ${event.actorType ?? 'user'}, ${event.actorId ?? null}, ${event.action}, ${event.targetType ?? null}, ${event.targetId ?? null},
      ${meta.ip}::inet, ${meta.userAgent}, ${JSON.stringify(event.details ?? {})}::jsonb
    from ${source}`
}

function and(...conditions: (SQL | undefined)[]): SQL | undefined {
  const present = conditions.filter((c): c is SQL => c !== undefined)
  return present.length ? sql.join(present.map((c) => sql`(${c})`), sql` and `) : undefined
}

async function markLater(deps: ChangeDeps, ids: string[]) {
  try {
    await markApplied(deps.db, ids)
  } catch (err) {
    deps.logger.warn('effects applied but not marked; the next drain applies and marks them', { err })
  }
}

/** Write a change (see above). Answers the statements' results; throws what the batch threw. */
export async function commitChange(deps: ChangeDeps, change: Change): Promise<Committed> {
  const { db } = deps
  const { tenant } = change
  const guards = change.guards ?? []
  let audit: BatchItem<'pg'>[] = []
  let witness: SQL | undefined
  if (change.audit) {
    if (!tenant) throw new Error('an audit entry needs the tenant whose log it goes to')
    const s = sql.identifier(tenant.schemaName)
    if ('writtenBy' in change.audit) {
      witness = sql`exists (select 1 from ${s}.audit_log where id = ${change.audit.writtenBy}::uuid)`
    } else {
      const { id = uuidv7(), when, ...event } = change.audit
      audit = [auditStatement(db, tenant.schemaName, change.meta ?? NO_META, id, event, when)]
      if (when) witness = sql`exists (select 1 from ${s}.audit_log where id = ${id}::uuid)`
    }
  }
  const events = (change.events ?? []).flatMap((event) => {
    if (!tenant) throw new Error('webhook events need the tenant whose outbox they go to')
    return eventStatements(db, tenant, { ...event, when: and(event.when, witness) })
  })
  const effects = (change.effects ?? []).map((effect) => effectStatement(db, effect, witness))
  const items = [...guards, ...change.statements, ...audit, ...events, ...effects, ...(change.marks ?? [])]

  let batch: unknown[]
  try {
    batch = (await db.batch(items as [BatchItem<'pg'>, ...BatchItem<'pg'>[]])) as unknown[]
  } catch (err) {
    // No answer from the database: the batch may have committed with effects nobody applies now.
    if (err instanceof DependencyUnavailable) distrustCache()
    throw err
  }

  const owed = effectsIn(batch)
  if (owed.length) {
    try {
      const applied = await applyEffects(deps.redis, owed)
      if (applied.length) deps.defer?.(markLater(deps, applied))
    } catch (err) {
      distrustCache()
      deps.logger.error('effects of a committed change not applied to Redis; they stay pending until a drain applies them', { err, effects: owed.map((e) => e.kind) })
    }
  }
  if (tenant && deps.defer && deps.config) deliverSoon({ ...deps, config: deps.config }, deps.defer, tenant, batch)
  return { results: batch.slice(guards.length, guards.length + change.statements.length), batch }
}
