import { sql } from 'drizzle-orm'
import type { RequestScope } from '../platform/request-scope.ts'
import type { Config } from '../config.ts'
import { decryptSecret } from '../identity/secrets.ts'
import type { Database } from '../platform/database.ts'
import type { Logger } from '../platform/logger.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { deliveryIdsIn } from './outbox.ts'
import { signatureHeader } from './sign.ts'
import { webhookUrlProblem } from './url.ts'

/**
 * Delivering the outbox. A delivery is claimed before it is attempted: one conditional UPDATE
 * moves its `next_attempt_at` past a lease and counts the attempt, so two runners (the request's
 * waitUntil, the scheduler, a manual retry) never send the same attempt twice, and an attempt
 * whose runner died is retried once the lease is over. The outcome is written only by the
 * runner holding the latest claim (`attempts` unchanged since).
 *
 * Delivery is at least once: a receiver deduplicates on Atrium-Webhook-Id (the event id).
 */

export const DELIVERY_TIMEOUT_MS = 10_000
/** Longer than an attempt can take, so a live attempt is never claimed again. */
export const LEASE_SECONDS = 60
export const MAX_ATTEMPTS = 8
const BASE_DELAY_SECONDS = 30
const MAX_DELAY_SECONDS = 6 * 3600

/** Seconds to wait after failed attempt number `attempt` (1-based): 30 s · 2^(attempt−1), ±20 % jitter, capped at 6 h. */
export function retryDelaySeconds(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BASE_DELAY_SECONDS * 2 ** Math.max(0, attempt - 1), MAX_DELAY_SECONDS)
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), MAX_DELAY_SECONDS)
}

export interface DeliveryDeps {
  db: Database
  logger: Logger
  config: Pick<Config, 'DATA_ENCRYPTION_KEY' | 'ENVIRONMENT'>
}

/** A claimed delivery with what it takes to send it. */
export interface ClaimedDelivery {
  id: string
  webhookId: string
  eventId: string
  attempts: number
  url: string
  secretEnc: string
  type: string
  payload: unknown
  actorType: string | null
  actorId: string | null
  eventCreatedAt: string
}

export interface DeliveryOutcome {
  delivered: boolean
  statusCode: number | null
  error: string | null
}

type ClaimRow = {
  id: string
  webhook_id: string
  event_id: string
  attempts: number
  url: string
  secret_enc: string
  type: string
  payload: unknown
  actor_type: string | null
  actor_id: string | null
  event_created_at: string
}

const toClaimed = (r: ClaimRow): ClaimedDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  attempts: Number(r.attempts),
  url: r.url,
  secretEnc: r.secret_enc,
  type: r.type,
  payload: r.payload,
  actorType: r.actor_type,
  actorId: r.actor_id,
  eventCreatedAt: r.event_created_at,
})

/**
 * Claim due deliveries of enabled webhooks: all due ones (oldest first, up to `limit`), or only
 * `ids`, or one delivery of one webhook whatever its due time (`force`, manual retry).
 */
export async function claimDeliveries(
  db: Database,
  tenant: Pick<Tenant, 'schemaName'>,
  options: { limit: number; ids?: string[]; force?: { deliveryId: string; webhookId: string } },
): Promise<ClaimedDelivery[]> {
  const s = sql.identifier(tenant.schemaName)
  const lease = sql`now() + make_interval(secs => ${LEASE_SECONDS})`
  let claim
  if (options.force) {
    // A manual retry: any status, any due time, enabled or not — the admin asked for it.
    claim = sql`
      update ${s}.webhook_deliveries d
      set status = 'pending', attempts = d.attempts + 1, next_attempt_at = ${lease}, updated_at = now()
      where d.id = ${options.force.deliveryId} and d.webhook_id = ${options.force.webhookId}
      returning d.id, d.webhook_id, d.event_id, d.attempts`
  } else {
    const only = options.ids ? sql` and d2.id in (${sql.join(options.ids.map((id) => sql`${id}`), sql`, `)})` : sql``
    // The outer WHERE repeats the due check: under a concurrent claim Postgres re-evaluates it on
    // the row's new version, so the loser updates nothing (SKIP LOCKED makes it skip instead of wait).
    claim = sql`
      update ${s}.webhook_deliveries d
      set attempts = d.attempts + 1, next_attempt_at = ${lease}, updated_at = now()
      where d.id in (
        select d2.id from ${s}.webhook_deliveries d2 join ${s}.webhooks w on w.id = d2.webhook_id
        where d2.status = 'pending' and d2.next_attempt_at <= now() and w.enabled${only}
        order by d2.next_attempt_at
        limit ${options.limit}
        for update of d2 skip locked
      )
      and d.status = 'pending' and d.next_attempt_at <= now()
      returning d.id, d.webhook_id, d.event_id, d.attempts`
  }
  const result = await db.execute<ClaimRow>(sql`
    with claimed as (${claim})
    select c.id, c.webhook_id, c.event_id, c.attempts, w.url, w.secret_enc, e.type, e.payload, e.actor_type, e.actor_id, e.created_at as event_created_at
    from claimed c
    join ${s}.webhooks w on w.id = c.webhook_id
    join ${s}.webhook_events e on e.id = c.event_id`)
  return result.rows.map(toClaimed)
}

/** The exact bytes POSTed: the envelope documented in docs/api/webhooks.md. */
export function envelope(tenant: Pick<Tenant, 'id'>, d: ClaimedDelivery): string {
  return JSON.stringify({
    id: d.eventId,
    type: d.type,
    created_at: new Date(d.eventCreatedAt).toISOString(),
    tenant_id: tenant.id,
    actor: d.actorType ? { type: d.actorType, id: d.actorId } : null,
    data: d.payload,
  })
}

/** One HTTP attempt. Never throws: every failure is an outcome. */
export async function attemptDelivery(deps: DeliveryDeps, tenant: Pick<Tenant, 'id'>, d: ClaimedDelivery): Promise<DeliveryOutcome> {
  // Re-checked at send time: the rules (or the environment) may have changed since the URL was saved.
  const problem = webhookUrlProblem(d.url, deps.config.ENVIRONMENT)
  if (problem) return { delivered: false, statusCode: null, error: `url refused: ${problem}` }
  let secret: string
  try {
    secret = await decryptSecret(deps.config.DATA_ENCRYPTION_KEY, d.secretEnc, `webhook:${d.webhookId}`)
  } catch (err) {
    deps.logger.error('webhook secret does not decrypt', { err, webhook: d.webhookId })
    return { delivered: false, statusCode: null, error: 'signing secret unavailable' }
  }
  const body = envelope(tenant, d)
  const timestamp = Math.floor(Date.now() / 1000)
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Atrium-Webhooks/1',
        'atrium-webhook-id': d.eventId,
        'atrium-webhook-timestamp': String(timestamp),
        'atrium-webhook-signature': await signatureHeader(secret, timestamp, body),
      },
      body,
      // A redirect is an answer, not a 2xx: following it could lead a delivery to an address the URL check refused.
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    })
    await res.body?.cancel().catch(() => {})
    const delivered = res.status >= 200 && res.status < 300
    return { delivered, statusCode: res.status, error: delivered ? null : `unexpected status ${res.status}` }
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
    const message = timedOut ? `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s` : `network error: ${err instanceof Error ? err.message : String(err)}`
    return { delivered: false, statusCode: null, error: message.slice(0, 500) }
  }
}

export type DeliveryRow = {
  id: string
  webhook_id: string
  event_id: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  next_attempt_at: string
  last_status_code: number | null
  last_error: string | null
  delivered_at: string | null
  created_at: string
}

/** Write the outcome of the attempt a claim made; a no-op if someone claimed the row since. */
export async function recordOutcome(db: Database, tenant: Pick<Tenant, 'schemaName'>, d: ClaimedDelivery, outcome: DeliveryOutcome): Promise<DeliveryRow | undefined> {
  const s = sql.identifier(tenant.schemaName)
  const status = outcome.delivered ? 'delivered' : d.attempts >= MAX_ATTEMPTS ? 'failed' : 'pending'
  const next = status === 'pending' ? sql`now() + make_interval(secs => ${retryDelaySeconds(d.attempts)})` : sql`now()`
  const result = await db.execute<DeliveryRow>(sql`
    update ${s}.webhook_deliveries
    set status = ${status}, next_attempt_at = ${next}, last_status_code = ${outcome.statusCode}, last_error = ${outcome.error},
        delivered_at = ${outcome.delivered ? sql`now()` : sql`delivered_at`}, updated_at = now()
    where id = ${d.id} and attempts = ${d.attempts}
    returning id, webhook_id, event_id, status, attempts, next_attempt_at, last_status_code, last_error, delivered_at, created_at`)
  return result.rows[0]
}

/** Attempt claimed deliveries a few at a time and record each outcome. */
export async function deliverClaimed(deps: DeliveryDeps, tenant: Pick<Tenant, 'id' | 'schemaName'>, claimed: ClaimedDelivery[], concurrency = 5) {
  const results: Array<{ delivery: ClaimedDelivery; outcome: DeliveryOutcome; row: DeliveryRow | undefined }> = []
  const queue = [...claimed]
  async function worker() {
    for (let d = queue.shift(); d; d = queue.shift()) {
      const outcome = await attemptDelivery(deps, tenant, d)
      let row: DeliveryRow | undefined
      try {
        row = await recordOutcome(deps.db, tenant, d, outcome)
      } catch (err) {
        // The lease runs out and the scheduler tries again: a delivery is never lost, at worst repeated.
        deps.logger.error('could not record a webhook delivery outcome', { err, delivery: d.id })
      }
      results.push({ delivery: d, outcome, row })
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker))
  return results
}

/**
 * After a batch that carried events (`eventStatements`): attempt their deliveries once the
 * answer is on its way. Best effort — it never delays nor fails the request; whatever is not
 * delivered here is picked up by the scheduler.
 */
export function deliverAfterResponse(c: RequestScope, tenant: Pick<Tenant, 'id' | 'schemaName'>, batchResults: readonly unknown[]): void {
  let ctx: Pick<ExecutionContext, 'waitUntil'>
  try {
    ctx = c.executionCtx
  } catch {
    return // no execution context (app.fetch called without one): the scheduler delivers
  }
  deliverSoon({ db: c.var.db, logger: c.var.logger, config: c.var.config }, (work) => ctx.waitUntil(work), tenant, batchResults)
}

/** The deliveries a batch created, attempted by `defer` (a waitUntil); what fails is left to the scheduler. */
export function deliverSoon(deps: DeliveryDeps, defer: (work: Promise<unknown>) => void, tenant: Pick<Tenant, 'id' | 'schemaName'>, batchResults: readonly unknown[]): void {
  const ids = deliveryIdsIn(batchResults)
  if (!ids.length) return
  defer((async () => {
    try {
      const claimed = await claimDeliveries(deps.db, tenant, { ids, limit: ids.length })
      await deliverClaimed(deps, tenant, claimed)
    } catch (err) {
      deps.logger.warn('immediate webhook delivery failed; the scheduler will retry', { err, tenant: tenant.id })
    }
  })())
}
