import { sql } from 'drizzle-orm'
import type { Database } from '../platform/database.ts'
import type { Logger } from '../platform/logger.ts'
import type { Redis } from '../platform/redis.ts'
import type { RedisRound } from '../platform/redis-round.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { compileAuthz, type AuthzEngine } from './engine.ts'
import { databaseVersion, loadSnapshot, type AuthzSnapshot } from './snapshot.ts'

/**
 * The compiled model of each tenant, cached in the isolate and (serialized) in Redis, and the
 * version that tells whether a cached copy is current.
 *
 * - Every change to the model bumps `authz_state.version` in the same batch as the change
 *   (`versionBump`, or the 0006 triggers), and writes the `authz_version` effect with it
 *   (`commitChange`, src/changes): the new number is published to Redis (`queuePublish`) before
 *   answering, and if Redis fails then, by the first drain after it (src/changes/drain.ts).
 * - Every check (or request) reads that number: ONE Redis GET. A copy older than it is never
 *   used, so the check after a change has returned cannot see the old model.
 * - The published number only moves forward (a Lua max), so a slow writer or a refill from the
 *   database cannot put an older number back.
 * - A copy is also trusted for at most SNAPSHOT_MAX_AGE_SECONDS after its rows were read. An
 *   isolate that saw nothing of a Redis failure that lost a publish trusts Redis for at most
 *   EFFECTS_FENCE_SECONDS before it drains (every other isolate drains first).
 * - Redis down: the version is read from the database instead (one small query), so a check
 *   never trusts a copy it cannot verify.
 */

export const SNAPSHOT_MAX_AGE_SECONDS = 60
const VERSION_TTL_SECONDS = 7 * 24 * 3600
const MAX_ISOLATE_ENTRIES = 64
/**
 * Bound on the isolate's cached models by size, not only by count: a compiled model costs about
 * 300 bytes per role, binding, member, key or policy (the benchmark's 10,000 roles with 30,000
 * bindings took ~14 MB of heap), and an isolate has 128 MB. 150,000 rows is ~45 MB at most.
 */
const MAX_ISOLATE_ROWS = 150_000

export const authzVersionKey = (tenantId: string) => `authz:version:${tenantId}`
export const authzSnapshotKey = (tenantId: string) => `authz:snapshot:${tenantId}`

export interface AuthzDeps {
  db: Database
  redis: Redis
  logger: Logger
  /** The request's Redis round: the version is read there when it was queued (src/identity/session-checks.ts). */
  round?: RedisRound
}

type TenantRef = Pick<Tenant, 'id' | 'schemaName'>

const engines = new Map<string, AuthzEngine>()
/** Rows in each cached model (see MAX_ISOLATE_ROWS). */
const weights = new Map<string, number>()
let cachedRows = 0
const loading = new Map<string, Promise<AuthzEngine>>()
/** The highest version this isolate wrote itself: seen even if publishing it failed. */
const written = new Map<string, number>()

/** Sets the key to ARGV[1] only if that is higher than what it holds. */
const PUBLISH_MAX = `
local current = tonumber(redis.call('GET', KEYS[1]))
if current == nil or current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
return 0`

/** The statement that bumps the version, for the batch of a change (its result is the new version). */
export function versionBump(db: Database, schemaName: string) {
  return db.execute<{ authz_version: string | number }>(
    sql`update ${sql.identifier(schemaName)}.authz_state set version = version + 1, updated_at = now() returning version as authz_version`,
  )
}

/** The new version in the result of `versionBump` (the HTTP driver may answer rows as arrays or objects). */
export function bumpedVersion(result: unknown): number {
  const rows = (result as { rows?: unknown[] }).rows ?? []
  const row = rows[0]
  const value = Array.isArray(row) ? row[0] : (row as Record<string, unknown> | undefined)?.authz_version
  const version = Number(value)
  if (!Number.isFinite(version)) throw new Error('the authorization version bump returned no version')
  return version
}

/**
 * Queue the publication of `version` on a pipeline (the `authz_version` effect of a committed
 * change, src/changes/effects.ts): the same monotonic write as `publishVersion`, failing loudly.
 */
export function queuePublish(pipe: ReturnType<Redis['pipeline']>, tenantId: string, version: number): void {
  written.set(tenantId, Math.max(written.get(tenantId) ?? 0, version))
  pipe.eval(PUBLISH_MAX, [authzVersionKey(tenantId)], [String(version), String(VERSION_TTL_SECONDS)])
}

/** Make `version` the current one for every isolate (after the batch that bumped it committed). */
export async function publishVersion(deps: AuthzDeps, tenant: TenantRef, version: number): Promise<void> {
  written.set(tenant.id, Math.max(written.get(tenant.id) ?? 0, version))
  try {
    await deps.redis.eval(PUBLISH_MAX, [authzVersionKey(tenant.id)], [String(version), String(VERSION_TTL_SECONDS)])
  } catch (err) {
    // Other isolates keep their copy until it is SNAPSHOT_MAX_AGE_SECONDS old: say so loudly.
    deps.logger.error('authorization cache invalidation failed', { err, tenant: tenant.id, version })
  }
}

/**
 * After a change to members or API keys (whose triggers bump the version in the change's own
 * transaction, migrations/0006_authz_subjects.ts): publish the version the database now holds.
 */
export async function publishDatabaseVersion(deps: AuthzDeps, tenant: TenantRef): Promise<void> {
  await publishVersion(deps, tenant, await databaseVersion(deps.db, tenant))
}

/** The current version: one Redis GET; the database when Redis is down or has lost the key. */
export async function currentVersion(deps: AuthzDeps, tenant: TenantRef): Promise<number> {
  let version: number | null = null
  try {
    const key = authzVersionKey(tenant.id)
    const value = deps.round ? await deps.round.get<number | string>(key) : await deps.redis.get<number | string>(key)
    version = value === null ? null : Number(value)
  } catch (err) {
    deps.logger.warn('authorization version unavailable in Redis; reading the database', { err, tenant: tenant.id })
    return Math.max(await databaseVersion(deps.db, tenant), written.get(tenant.id) ?? 0)
  }
  if (version === null || !Number.isFinite(version)) {
    version = await databaseVersion(deps.db, tenant)
    await publishVersion(deps, tenant, version)
  }
  return Math.max(version, written.get(tenant.id) ?? 0)
}

const usable = (s: Pick<AuthzSnapshot, 'version' | 'builtAt'>, version: number, now: number) =>
  s.version >= version && now - s.builtAt < SNAPSHOT_MAX_AGE_SECONDS * 1000

const rowsOf = (s: AuthzSnapshot) => s.types.length + s.roles.length + s.bindings.length + s.policies.length + s.members.length + s.apiKeys.length

function forget(tenantId: string) {
  engines.delete(tenantId)
  cachedRows -= weights.get(tenantId) ?? 0
  weights.delete(tenantId)
}

/** Keep the engine, least recently stored first out, within both the count and the size bound. */
function remember(tenantId: string, engine: AuthzEngine, rows: number) {
  const current = engines.get(tenantId)
  if (current && current.version > engine.version) return
  forget(tenantId)
  while (engines.size > 0 && (engines.size >= MAX_ISOLATE_ENTRIES || cachedRows + rows > MAX_ISOLATE_ROWS)) forget(engines.keys().next().value!)
  engines.set(tenantId, engine)
  weights.set(tenantId, rows)
  cachedRows += rows
}

async function build(deps: AuthzDeps, tenant: TenantRef, version: number): Promise<AuthzEngine> {
  let snapshot: AuthzSnapshot | null = null
  try {
    snapshot = await deps.redis.get<AuthzSnapshot>(authzSnapshotKey(tenant.id))
  } catch (err) {
    deps.logger.warn('authorization snapshot unavailable in Redis; reading the database', { err, tenant: tenant.id })
  }
  if (!snapshot || !usable(snapshot, version, Date.now())) {
    snapshot = await loadSnapshot(deps.db, tenant)
    try {
      await deps.redis.set(authzSnapshotKey(tenant.id), snapshot, { ex: SNAPSHOT_MAX_AGE_SECONDS })
    } catch (err) {
      deps.logger.warn('could not cache the authorization snapshot', { err, tenant: tenant.id })
    }
  }
  const engine = compileAuthz(snapshot)
  remember(tenant.id, engine, rowsOf(snapshot))
  return engine
}

/**
 * The tenant's compiled model, at least at `version` (default: the current one). Warm: no SQL,
 * no Redis beyond reading the version. Concurrent misses in one isolate share one load.
 */
export async function authzEngine(deps: AuthzDeps, tenant: TenantRef, version?: number): Promise<AuthzEngine> {
  const wanted = version ?? (await currentVersion(deps, tenant))
  const cached = engines.get(tenant.id)
  if (cached && usable(cached, wanted, Date.now())) return cached
  const pending = loading.get(tenant.id)
  if (pending) {
    const engine = await pending
    if (usable(engine, wanted, Date.now())) return engine
  }
  const promise = build(deps, tenant, wanted).finally(() => {
    if (loading.get(tenant.id) === promise) loading.delete(tenant.id)
  })
  loading.set(tenant.id, promise)
  return promise
}

