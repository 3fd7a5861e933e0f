import { sql } from 'drizzle-orm'
import { BUILT_IN_ROLE_NAMES } from '../src/authz/atrium-types.ts'
import { authzSnapshotKey, bumpedVersion, publishDatabaseVersion, publishVersion, versionBump, type AuthzDeps } from '../src/authz/cache.ts'
import { compileAuthz, type AuthzEngine, type CheckInput } from '../src/authz/engine.ts'
import { loadSnapshot, type AuthzSnapshot } from '../src/authz/snapshot.ts'
import { schemaNameFor } from '../src/db/tenant-schema.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { createLogger } from '../src/platform/logger.ts'
import { connectRedis } from '../src/platform/redis.ts'
import { casbinEnforcer, casbinRequest } from './authz-casbin.ts'
import { ACTIONS, generateModel, RESOURCE_TYPES, type BenchModel } from './authz-model.ts'
import { expectStatus, load, send, type Run } from './http.ts'
import type { Measured } from './report.ts'
import type { Stack } from './stack.ts'

/**
 * POST /v1/authz/check at several model sizes, against casbin and Atrium's engine in-process
 * on the same roles, bindings and checks. Per size: a new tenant (its owner registered through
 * the API), its resource types through the API, then the roles, members and bindings written in
 * one batch of SQL (thousands of roles through the API would take minutes) and the version
 * published as members code does; then the cold first check, a warm run, and the in-process
 * engines. Every decision is compared: Atrium over HTTP, Atrium in-process and casbin must agree.
 */

/**
 * Above this the seed batch would pass the SQL endpoint's 10 MiB request limit (Neon's too), and
 * the snapshot (5.4 MB at 10,000 roles and 30,000 bindings) would near Neon's 10 MB HTTP response limit.
 */
export const MAX_ROLES = 10_000
/** Cold first checks per size: after the seed, then after version bumps with nothing changed. */
const COLD_SAMPLES = 3
/** Wall time each in-process engine runs the check list for (at least one full pass). */
const IN_PROCESS_BUDGET_MS = 1000

export interface AuthzBenchOptions {
  sizes: number[]
  /** Distinct checks per size, each answered by every engine. */
  checks: number
  /** Measured HTTP checks per size (the check list, round-robin). */
  requests: number
  concurrency: number
}

export interface AuthzBenchDeps {
  stack: Stack
  redisToken: string
  password: string
  nextIp: () => string
  /** Warm-up, counter reset, measured run, counters (bench/run.ts). */
  measure: (name: string, warmup: number, total: number, one: (i: number, client: number) => Promise<unknown>) => Promise<Measured>
  resetStats: () => Promise<unknown>
  backendStats: () => Promise<{ sql: number; redis: number; commands: number }>
}

/** Per-call latency (ms) and throughput of one in-process engine over the check list. */
export interface InProcessRun {
  checks: number
  passes: number
  seconds: number
  checksPerSecond: number
  p50Ms: number
  p99Ms: number
}

export interface AuthzSize {
  roles: number
  users: number
  bindings: number
  casbinPolicies: number
  casbinRoleLinks: number
  checks: number
  allowedShare: number
  instanceScopedShare: number
  snapshotBytes: number
  http: Measured
  /** Latency over loopback at concurrency 1, no queueing: the cold checks (median, with its backend requests) and warm ones. */
  cold: { ms: number; samplesMs: number[]; sql: number; redis: number }
  serialWarm: Run
  engine: InProcessRun & { compileMs: number }
  casbin: InProcessRun & { loadMs: number }
  agreement: { compared: number; httpCompared: number; mismatches: number; examples: string[] }
  workerRssMb: number | null
}

const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN

/**
 * `decide` over the whole list, once untimed on a sample (JIT), then full passes until `budgetMs`
 * has passed (at least one): every call timed on its own for the percentiles.
 */
function timeInProcess(checks: CheckInput[], decide: (check: CheckInput) => boolean, budgetMs: number): InProcessRun & { decisions: boolean[] } {
  for (const check of checks.slice(0, 50)) decide(check)
  const latencies: number[] = []
  const decisions: boolean[] = []
  let passes = 0
  const started = performance.now()
  do {
    for (let i = 0; i < checks.length; i++) {
      const t0 = performance.now()
      const allowed = decide(checks[i]!)
      latencies.push(performance.now() - t0)
      if (passes === 0) decisions.push(allowed)
    }
    passes++
  } while (performance.now() - started < budgetMs)
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { checks: checks.length, passes, seconds, checksPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), decisions }
}

const describe = (c: CheckInput) => `${c.subject.id} ${c.resource.type}:${c.action}${c.resource.id ? ` on ${c.resource.id}` : ''}`

async function registerOwner(deps: AuthzBenchDeps, roles: number) {
  const email = `bench-authz-${roles}-${Date.now()}@example.com`
  const reply = expectStatus(
    await send(`${deps.stack.origin()}/v1/auth/register`, { body: { email, password: deps.password, name: 'Bench owner' }, headers: { 'cf-connecting-ip': deps.nextIp() } }),
    201,
  )
  const { tenant, user, access_token: token } = reply.body as { tenant: { id: string; slug: string }; user: { id: string }; access_token: string }
  return { tenant: { id: tenant.id, schemaName: schemaNameFor(tenant.id) }, url: deps.stack.origin(tenant.slug), ownerId: user.id, token }
}

/**
 * Roles, members and bindings in ONE batch (one transaction; the members trigger bumps the
 * version, the explicit bump covers roles and bindings), rows passed as one JSON parameter per
 * table. Then the version is published to Redis, as code that changes members does.
 */
async function seed(deps: AuthzBenchDeps, tenant: { id: string; schemaName: string }, model: BenchModel) {
  const db = connectDatabase(deps.stack.databaseUrl, deps.stack.sql.url)
  const s = sql.identifier(tenant.schemaName)
  const roles = JSON.stringify(model.roles.map((r) => ({ id: r.id, name: r.name, permissions: r.permissions })))
  const members = JSON.stringify(model.users.map((id) => ({ user_id: id })))
  const bindings = JSON.stringify(model.bindings.map((b) => ({ id: b.id, subject_id: b.userId, role_id: b.role.id, resource_type: b.resourceType, resource_id: b.resourceId })))
  await db.batch([
    db.execute(sql`insert into ${s}.roles (id, name, description, permissions)
      select id, name, 'bench', permissions from json_to_recordset(${roles}::json) as t(id uuid, name text, permissions text[])`),
    db.execute(sql`insert into ${s}.members (user_id, role) select user_id, 'member' from json_to_recordset(${members}::json) as t(user_id uuid)`),
    db.execute(sql`insert into ${s}.role_bindings (id, subject_type, subject_id, role_id, resource_type, resource_id)
      select id, 'user', subject_id, role_id, resource_type, resource_id
      from json_to_recordset(${bindings}::json) as t(id uuid, subject_id uuid, role_id uuid, resource_type text, resource_id text)`),
    db.execute(sql`update ${s}.authz_state set version = version + 1, updated_at = now()`),
  ])
  const authzDeps: AuthzDeps = { db, redis: connectRedis(deps.stack.redis.url, deps.redisToken), logger: createLogger('warn') }
  await publishDatabaseVersion(authzDeps, tenant)
  return authzDeps
}

async function measureSize(deps: AuthzBenchDeps, options: AuthzBenchOptions, roles: number): Promise<AuthzSize> {
  const model = generateModel(roles, options.checks)
  const owner = await registerOwner(deps, roles)
  for (const type of RESOURCE_TYPES) {
    expectStatus(await send(`${owner.url}/v1/resource-types`, { body: { name: type, actions: [...ACTIONS] }, headers: { authorization: `Bearer ${owner.token}` } }), 201)
  }
  process.stdout.write(`  ${roles} roles: seeding ${model.users.length} members and ${model.bindings.length} bindings… `)
  const authzDeps = await seed(deps, owner.tenant, model)
  console.log('done')

  const checks = model.checks
  const httpDecisions: (boolean | undefined)[] = new Array(checks.length)
  let inconsistent = 0
  const callCheck = async (i: number) => {
    const index = i % checks.length
    const reply = expectStatus(await send(`${owner.url}/v1/authz/check`, { body: checks[index], headers: { authorization: `Bearer ${owner.token}` } }), 200)
    const allowed = reply.body.allowed as boolean
    if (httpDecisions[index] !== undefined && httpDecisions[index] !== allowed) inconsistent++
    httpDecisions[index] = allowed
  }

  // The first check after a change: version read, snapshot loaded with one SQL statement, cached
  // in Redis, compiled. Again after bumps that change nothing (the same load, compile and size).
  const cold: { ms: number; sql: number; redis: number }[] = []
  for (let i = 0; i < COLD_SAMPLES; i++) {
    // A change that changes nothing: the version bumped in the database and published.
    if (i > 0) await publishVersion(authzDeps, owner.tenant, bumpedVersion(await versionBump(authzDeps.db, owner.tenant.schemaName)))
    // An older snapshot is never used at a newer version; dropping it keeps the cold check honest all the same.
    await authzDeps.redis.del(authzSnapshotKey(owner.tenant.id))
    await deps.resetStats()
    const t0 = performance.now()
    await callCheck(i)
    const ms = performance.now() - t0
    cold.push({ ms, ...(await deps.backendStats()) })
  }
  const coldMedian = [...cold].sort((a, b) => a.ms - b.ms)[Math.floor(cold.length / 2)]!
  const serialWarm = await load(Math.min(20, checks.length), 1, callCheck)
  const http = await deps.measure(`POST /v1/authz/check, ${roles} roles`, Math.min(200, checks.length), options.requests, callCheck)
  const workerRssMb = deps.stack.rss().app.worker

  // In-process, on the snapshot the Worker compiled (same statement, same rows).
  const snapshot: AuthzSnapshot = await loadSnapshot(authzDeps.db, owner.tenant)
  const snapshotBytes = Buffer.byteLength(JSON.stringify(snapshot))
  let engine: AuthzEngine | undefined
  const compiles: number[] = []
  for (let i = 0; i < 3; i++) {
    const c0 = performance.now()
    engine = compileAuthz(snapshot)
    compiles.push(performance.now() - c0)
  }
  const now = Date.now()
  const engineRun = timeInProcess(checks, (check) => engine!.decide(check, now).allowed, IN_PROCESS_BUDGET_MS)
  const builtIn = snapshot.roles.filter(([, name]) => (BUILT_IN_ROLE_NAMES as readonly string[]).includes(name)).map(([, name, permissions]) => [name, permissions] as [string, string[]])
  const l0 = performance.now()
  const { enforcer, policies, links } = await casbinEnforcer(model, builtIn, owner.ownerId)
  const casbinLoadMs = performance.now() - l0
  process.stdout.write(`  casbin, ${checks.length} checks in-process… `)
  const casbinRun = timeInProcess(checks, (check) => enforcer.enforceSync(...casbinRequest(check)), IN_PROCESS_BUDGET_MS)
  console.log(`${casbinRun.checksPerSecond.toFixed(0)} checks/s (Atrium's engine: ${engineRun.checksPerSecond.toFixed(0)})`)

  const examples: string[] = []
  let mismatches = inconsistent
  if (inconsistent) examples.push(`${inconsistent} HTTP answers differed from an earlier answer to the same check`)
  let httpCompared = 0
  for (let i = 0; i < checks.length; i++) {
    const expected = casbinRun.decisions[i]
    const seen = { engine: engineRun.decisions[i], http: httpDecisions[i] }
    if (seen.http !== undefined) httpCompared++
    if (seen.engine !== expected || (seen.http !== undefined && seen.http !== expected)) {
      mismatches++
      if (examples.length < 5) examples.push(`${describe(checks[i]!)}: casbin ${expected}, engine ${seen.engine}, HTTP ${seen.http ?? 'not sent'}`)
    }
  }

  const allowed = casbinRun.decisions.filter(Boolean).length
  return {
    roles,
    users: model.users.length,
    bindings: model.bindings.length,
    casbinPolicies: policies,
    casbinRoleLinks: links,
    checks: checks.length,
    allowedShare: allowed / checks.length,
    instanceScopedShare: checks.filter((c) => c.resource.id !== undefined).length / checks.length,
    snapshotBytes,
    http,
    cold: { ms: coldMedian.ms, samplesMs: cold.map((c) => c.ms), sql: coldMedian.sql, redis: coldMedian.redis },
    serialWarm,
    engine: { ...engineRun, compileMs: Math.min(...compiles) },
    casbin: { ...casbinRun, loadMs: casbinLoadMs },
    agreement: { compared: checks.length, httpCompared, mismatches, examples },
    workerRssMb,
  }
}

export async function runAuthzBench(deps: AuthzBenchDeps, options: AuthzBenchOptions): Promise<AuthzSize[]> {
  const sizes: AuthzSize[] = []
  for (const roles of options.sizes) sizes.push(await measureSize(deps, options, roles))
  return sizes
}
