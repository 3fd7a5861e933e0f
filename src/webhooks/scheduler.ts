import { sql } from 'drizzle-orm'
import { configFor, type Env } from '../config.ts'
import { connectDatabase } from '../platform/database.ts'
import { createLogger, type Logger } from '../platform/logger.ts'
import { connectRedis, type Redis } from '../platform/redis.ts'
import { listTenants, type Tenant } from '../tenancy/registry.ts'
import { claimDeliveries, deliverClaimed, type DeliveryDeps } from './deliver.ts'
import { keyTable, sweepExpiredKeys } from '../db/idempotency-keys.ts'

/**
 * The Cron Trigger's work (wrangler.toml, every minute): deliver what is due in every active
 * tenant. Bounded per run — tenants visited, deliveries attempted, wall time — and fair: the
 * sweep resumes after the last tenant the previous run reached (cursor in Redis), wrapping
 * around, so a long registry is covered over several runs instead of starving its tail.
 *
 * Cost: one claim statement per tenant per run. Enough for thousands of tenants; beyond that a
 * shared "tenants with pending deliveries" index would let the sweep skip idle schemas.
 */

export const SCHEDULER_LIMITS = {
  tenantsPerRun: 2000,
  deliveriesPerRun: 200,
  perTenant: 20,
  /** Tenants claimed from in parallel. */
  concurrency: 8,
  /** No new claim after this; attempts already started finish (10 s timeout each). */
  budgetMs: 25_000,
  /** Events older than this with nothing left pending are removed, once an hour. */
  retentionDays: 30,
}

const CURSOR_KEY = 'webhooks:scheduler:cursor'
const PAGE = 200

export interface SchedulerDeps extends DeliveryDeps {
  redis: Redis
}

export interface SchedulerReport {
  tenants: number
  attempted: number
  delivered: number
  /** Tenants whose sweep failed (schema not migrated, database trouble); logged and skipped. */
  errors: number
}

/** Active tenants in id order, starting after `cursor` and wrapping around to it, at most `max`. */
async function* tenantsFrom(deps: SchedulerDeps, cursor: string | undefined, max: number): AsyncGenerator<Tenant> {
  let seen = 0
  let after = cursor
  let wrapped = cursor === undefined
  for (;;) {
    const page = await listTenants(deps.db, { limit: PAGE, after, status: 'active' })
    for (const t of page) {
      if (wrapped && cursor !== undefined && t.id > cursor) return
      yield t
      if (++seen >= max) return
    }
    if (page.length === PAGE) {
      after = page.at(-1)!.id
    } else if (!wrapped) {
      wrapped = true
      after = undefined
    } else {
      return
    }
  }
}

/** One run of the scheduler. */
export async function deliverDueWebhooks(deps: SchedulerDeps, options: { now?: number } = {}): Promise<SchedulerReport> {
  const limits = SCHEDULER_LIMITS
  const started = Date.now()
  const report: SchedulerReport = { tenants: 0, attempted: 0, delivered: 0, errors: 0 }
  const prune = new Date(options.now ?? started).getUTCMinutes() === 0

  // Redis trouble only costs fairness: the sweep then starts from the first tenant.
  const cursor = (await deps.redis.get<string>(CURSOR_KEY).catch(() => null)) ?? undefined
  const source = tenantsFrom(deps, cursor, limits.tenantsPerRun)

  let last: string | undefined
  const budgetLeft = () => Date.now() - started < limits.budgetMs && report.attempted < limits.deliveriesPerRun
  async function sweep(tenant: Tenant) {
    try {
      if (prune) {
        await pruneEvents(deps, tenant)
        await sweepExpiredKeys(deps.db, keyTable(tenant.schemaName))
      }
      if (!budgetLeft()) return
      // Reserved before the claim, so parallel sweeps cannot overshoot the run's budget together.
      const limit = Math.min(limits.perTenant, limits.deliveriesPerRun - report.attempted)
      report.attempted += limit
      let claimed: Awaited<ReturnType<typeof claimDeliveries>> = []
      try {
        claimed = await claimDeliveries(deps.db, tenant, { limit })
      } finally {
        report.attempted -= limit - claimed.length
      }
      for (const r of await deliverClaimed(deps, tenant, claimed)) if (r.outcome.delivered) report.delivered += 1
    } catch (err) {
      report.errors += 1
      deps.logger.error('webhook sweep failed for a tenant', { err, tenant: tenant.id })
    }
  }

  if (prune) await sweepExpiredKeys(deps.db, keyTable('public')).catch((err: unknown) => deps.logger.error('idempotency key sweep failed', { err }))

  const running = new Set<Promise<void>>()
  for await (const tenant of source) {
    if (!budgetLeft()) break
    report.tenants += 1
    last = tenant.id
    const p = sweep(tenant).finally(() => running.delete(p))
    running.add(p)
    if (running.size >= limits.concurrency) await Promise.race(running)
  }
  await Promise.all(running)

  if (last) await deps.redis.set(CURSOR_KEY, last, { ex: 24 * 3600 }).catch(() => {})
  deps.logger.info('webhook scheduler run', { ...report, duration_ms: Date.now() - started })
  return report
}

/** Drop old events nothing is waiting for (their deliveries go with them), a bounded batch at a time. */
async function pruneEvents(deps: SchedulerDeps, tenant: Tenant) {
  const s = sql.identifier(tenant.schemaName)
  await deps.db.execute(sql`
    delete from ${s}.webhook_events where id in (
      select e.id from ${s}.webhook_events e
      where e.created_at < now() - make_interval(days => ${SCHEDULER_LIMITS.retentionDays})
        and not exists (select 1 from ${s}.webhook_deliveries d where d.event_id = e.id and d.status = 'pending')
      limit 1000
    )`)
}

/** The `scheduled` handler's body: build the platform clients from the env, as requests do. */
export async function runWebhookScheduler(env: Env, scheduledTime: number, logger?: Logger): Promise<SchedulerReport> {
  const config = configFor(env)
  return deliverDueWebhooks(
    {
      config,
      db: connectDatabase(config.DATABASE_URL, config.NEON_FETCH_ENDPOINT, { timeoutMs: config.SQL_TIMEOUT_MS }),
      redis: connectRedis(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN, { timeoutMs: config.REDIS_TIMEOUT_MS }),
      logger: logger ?? createLogger(config.LOG_LEVEL, { job: 'webhooks', scheduled_time: new Date(scheduledTime).toISOString() }),
    },
    { now: scheduledTime },
  )
}
