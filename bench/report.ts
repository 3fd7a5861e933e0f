import { cpus } from 'node:os'
import type { Run } from './http.ts'
import type { WorkerRss } from './stack.ts'

/** One measured route: its load run and the backend requests the Worker made per request, counted over that run. */
export interface Measured {
  name: string
  run: Run
  sqlPerRequest: number
  redisPerRequest: number
  redisCommandsPerRequest: number
}

export interface BenchInput {
  options: { requests: number; concurrency: number; logins: number; serial: number; hashes: number }
  bare: Measured
  chain: Measured
  me: Measured
  login: Measured
  refresh: Measured
  /** Concurrency 1: latency with no queueing, for the hash cost in workerd. */
  serial: { me: Run; login: Run }
  hashMsNode: number
  rss: { start: { app: WorkerRss; bare: WorkerRss }; end: { app: WorkerRss; bare: WorkerRss } }
  heapMb: { start: number; max_sampled: number; end: number }
}

const round = (n: number, digits: number) => +n.toFixed(digits)

export function buildResults(input: BenchInput) {
  const { bare, chain, me, login, refresh, serial } = input
  const row = (m: Measured) => ({
    route: m.name,
    rps: round(m.run.rps, 1),
    p50_ms: round(m.run.p50, 2),
    p99_ms: round(m.run.p99, 2),
    requests: m.run.requests,
    errors: m.run.errors,
    ...(m.run.firstError ? { first_error: m.run.firstError } : {}),
    sql_per_request: round(m.sqlPerRequest, 3),
    redis_per_request: round(m.redisPerRequest, 3),
    redis_commands_per_request: round(m.redisCommandsPerRequest, 3),
  })
  return {
    note: `One run of \`npm run bench\` on a ${cpus().length}-core machine, everything on loopback (both Workers behind wrangler dev's local proxy). Absolute figures are that machine's; compare the ratios.`,
    date: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`,
    backends: {
      sql: process.env.ATRIUM_LOCAL_POSTGRES_URL ? 'real Postgres (fresh database)' : 'embedded PGlite',
      redis: process.env.ATRIUM_LOCAL_REDIS_URL ? 'real Redis' : 'embedded store',
    },
    options: input.options,
    table: [bare, chain, me, login, refresh].map(row),
    ratios: {
      full_chain_vs_bare_throughput: round(chain.run.rps / bare.run.rps, 3),
      full_chain_vs_bare_p50: round(chain.run.p50 / bare.run.p50, 2),
      full_chain_vs_bare_p99: round(chain.run.p99 / bare.run.p99, 2),
      login_vs_tenant_throughput: round(login.run.rps / chain.run.rps, 4),
      refresh_vs_tenant_throughput: round(refresh.run.rps / chain.run.rps, 3),
    },
    per_warm_tenant_request: {
      sql_requests: round(chain.sqlPerRequest, 3),
      redis_requests: round(chain.redisPerRequest, 3),
      redis_commands: round(chain.redisCommandsPerRequest, 3),
    },
    password_hash: {
      algorithm: 'scrypt N=2^14 r=8 p=5 (src/identity/passwords.ts)',
      ms_per_hash_node: round(input.hashMsNode, 1),
      node_note: `mean of ${input.options.hashes} sequential hashPassword calls in Node's OpenSSL; production Workers run it in workerd`,
      ms_per_hash_workerd_derived: round(serial.login.p50 - serial.me.p50, 1),
      workerd_note: `p50 of POST /v1/auth/login minus p50 of GET /v1/me, ${input.options.serial} calls each at concurrency 1: the hash plus login's few extra backend round trips`,
    },
    memory: {
      app_worker_rss_mb: { start: input.rss.start.app.worker, end: input.rss.end.app.worker },
      app_proxy_rss_mb: { start: input.rss.start.app.proxy, end: input.rss.end.app.proxy },
      bare_worker_rss_mb: { start: input.rss.start.bare.worker, end: input.rss.end.bare.worker },
      bare_proxy_rss_mb: { start: input.rss.start.bare.proxy, end: input.rss.end.bare.proxy },
      rss_note: 'each `wrangler dev` runs two workerd processes: the Worker, and a proxy on the public port in front of it (the whole runtime, not one isolate: production limits an isolate to 128 MB). start = up and idle, end = after every measured run; null = not readable with ps',
      harness_heap_used_mb: input.heapMb,
      harness_note: 'JS heap of the bench process, which also hosts the embedded SQL and Redis endpoints',
    },
  }
}

export type Results = ReturnType<typeof buildResults>

export function printResults(results: Results) {
  console.log(`\n${results.note}\n${results.machine}; SQL: ${results.backends.sql}, Redis: ${results.backends.redis}; concurrency ${results.options.concurrency}\n`)
  console.table(
    results.table.map((r) => ({
      route: r.route, 'req/s': r.rps, 'p50 ms': r.p50_ms, 'p99 ms': r.p99_ms, requests: r.requests, errors: r.errors,
      'SQL/req': r.sql_per_request, 'Redis/req': r.redis_per_request,
    })),
  )
  const { ratios: q, per_warm_tenant_request: w, password_hash: h, memory: m } = results
  const rss = (v: { start: number | null; end: number | null }) => `${v.start ?? '?'} → ${v.end ?? '?'} MB`
  console.log(
    [
      'Summary',
      `  full chain vs bare Hono      ${q.full_chain_vs_bare_throughput}× throughput, p50 ${q.full_chain_vs_bare_p50}×, p99 ${q.full_chain_vs_bare_p99}×`,
      `  login vs GET /v1/tenant      ${q.login_vs_tenant_throughput}× throughput (refresh: ${q.refresh_vs_tenant_throughput}×)`,
      `  per warm GET /v1/tenant      ${w.sql_requests} SQL requests, ${w.redis_requests} Redis requests (${w.redis_commands} commands)`,
      `  one password hash            ${h.ms_per_hash_node} ms (${h.node_note})`,
      `                               ≈ ${h.ms_per_hash_workerd_derived} ms in workerd (${h.workerd_note})`,
      `  workerd RSS, start → end     Worker ${rss(m.app_worker_rss_mb)} (its proxy ${rss(m.app_proxy_rss_mb)}); bare Worker ${rss(m.bare_worker_rss_mb)} (proxy ${rss(m.bare_proxy_rss_mb)})`,
      `  harness JS heap used         ${m.harness_heap_used_mb.start} MB at start, ${m.harness_heap_used_mb.max_sampled} MB highest after a phase, ${m.harness_heap_used_mb.end} MB at end (it also hosts the embedded endpoints)`,
    ].join('\n'),
  )
}
