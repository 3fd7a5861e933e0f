import { sql } from 'drizzle-orm'
import { configFor, type Env } from '../config.ts'
import { connectDatabase, type Database } from '../platform/database.ts'
import { createLogger, type Logger } from '../platform/logger.ts'
import { cacheFailureCount, connectRedis, skipCacheForRequest, type Redis } from '../platform/redis.ts'
import { forgetAllTenantsLocally } from '../tenancy/directory.ts'
import { applyEffects, EFFECT_COLUMNS, effectRowFrom, markApplied } from './effects.ts'

/**
 * When an isolate may trust what Redis says (a session not revoked, a tenant active, a model
 * version current): only after it has checked that no committed change still owes Redis an
 * effect — a drain: the pending rows of `public.pending_effects` read and applied. Until then
 * the isolate drains before its request trusts Redis; a drain that fails leaves the request on
 * the database (as during an outage). The trust ends
 *
 * - at once when the isolate sees Redis fail (a write of its own may be missing there),
 * - at once when a change's batch failed without an answer (it may have committed unapplied effects),
 * - EFFECTS_FENCE_SECONDS after the drain: the bound for an isolate that saw nothing of an
 *   outage during which another isolate's write was lost,
 * - and a new isolate starts without it.
 *
 * A Redis that lost its data (restarted empty, flushed) has no `effects:epoch`: the drain that
 * finds it so writes again every revocation still within its access tokens' lifetime, then the
 * epoch. The cron drains too (src/index.ts), for changes no request comes after.
 */

export const EPOCH_KEY = 'effects:epoch'
const PAGE = 500
const MAX_PAGES = 20
/** Applied rows are pruned this long after they stopped being needed. */
const PRUNE_AFTER_SECONDS = 3600

export interface DrainDeps {
  db: Database
  redis: Redis
  logger: Logger
}

/** The Redis failure count when the last good drain started, and when (ms); 0: no drain yet. */
let vouched = { failures: -1, at: 0 }
let inFlight: Promise<unknown> | undefined

/** A change's batch failed without a clear answer: it may have committed effects nobody applied. */
export function distrustCache(): void {
  vouched = { failures: -1, at: 0 }
}

/** Whether this isolate may trust Redis now (see above). */
export function cacheVouchedFor(fenceMs: number, now = Date.now()): boolean {
  return vouched.at > 0 && vouched.failures === cacheFailureCount() && now - vouched.at < fenceMs
}

export interface DrainReport {
  applied: number
  /** Redis had lost its data: live revocations were written again. */
  refilled: boolean
}

/** Apply every pending effect (and, to a Redis that lost its data, every live revocation). Throws on SQL or Redis failure. */
export async function drainEffects(deps: DrainDeps): Promise<DrainReport> {
  const started = { failures: cacheFailureCount(), at: Date.now() }
  // First Redis: when it is down the drain stops here, before any SQL.
  const refill = (await deps.redis.get(EPOCH_KEY)) === null
  let applied = 0
  let after = '00000000-0000-0000-0000-000000000000'
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await deps.db.execute<Record<string, unknown>>(sql`
      select ${EFFECT_COLUMNS}, applied_at is null as effect_pending from public.pending_effects
      where id > ${after}::uuid and (applied_at is null ${refill ? sql`or (kind = 'sessions_revoked' and keep_until > now())` : sql``})
      order by id limit ${PAGE}`)
    const rows = result.rows.map(effectRowFrom)
    const pending = new Set(result.rows.filter((r) => r.effect_pending).map((r) => String(r.effect_id)))
    const done = (await applyEffects(deps.redis, rows)).filter((id) => pending.has(id))
    if (done.length) await markApplied(deps.db, done)
    applied += done.length
    if (rows.length < PAGE) break
    after = rows.at(-1)!.id
  }
  if (refill) await deps.redis.set(EPOCH_KEY, crypto.randomUUID())
  // What other isolates applied while this one could not trust Redis is invisible to it: its own
  // short-lived copies go too (they refill from Redis, now current).
  forgetAllTenantsLocally()
  // Trusted from the drain's start, unless Redis failed meanwhile.
  if (cacheFailureCount() === started.failures) vouched = started
  if (applied || refill) deps.logger.info('pending effects applied', { applied, refilled: refill })
  return { applied, refilled: refill }
}

/**
 * Before a request trusts Redis: drain when this isolate cannot vouch for it (one drain at a time
 * per isolate, shared). If the drain fails the request skips Redis and reads the database.
 */
export async function vouchForCache(deps: DrainDeps, fenceMs: number): Promise<void> {
  if (cacheVouchedFor(fenceMs)) return
  inFlight ??= drainEffects(deps).finally(() => (inFlight = undefined))
  try {
    await inFlight
  } catch (err) {
    deps.logger.warn('pending effects could not be applied; this request reads the database', { err })
    skipCacheForRequest()
  }
}

/** The cron's part: drain, then prune applied rows nothing needs any more. */
export async function drainAndPrune(deps: DrainDeps): Promise<DrainReport> {
  const report = await drainEffects(deps)
  await deps.db.execute(sql`
    delete from public.pending_effects where id in (
      select id from public.pending_effects
      where applied_at is not null and coalesce(keep_until, applied_at) < now() - make_interval(secs => ${PRUNE_AFTER_SECONDS})
      limit 5000)`)
  return report
}

/** The `scheduled` handler's part (every minute): build the platform clients from the env, as requests do. */
export async function runScheduledDrain(env: Env, scheduledTime: number): Promise<DrainReport> {
  const config = configFor(env)
  return drainAndPrune({
    db: connectDatabase(config.DATABASE_URL, config.NEON_FETCH_ENDPOINT, { timeoutMs: config.SQL_TIMEOUT_MS }),
    redis: connectRedis(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN, { timeoutMs: config.REDIS_TIMEOUT_MS }),
    logger: createLogger(config.LOG_LEVEL, { job: 'effects', scheduled_time: new Date(scheduledTime).toISOString() }),
  })
}
