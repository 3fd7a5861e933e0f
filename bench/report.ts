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
  /** CPU time per request (ms, /proc) of the Worker's process, the proxy in front of it, and each endpoint. */
  cpuMsPerRequest: { worker: number | null; proxy: number | null; sql: number | null; redis: number | null }
}

export interface BenchInput {
  options: { requests: number; concurrency: number; logins: number; hashes: number }
  bare: Measured
  chain: Measured
  bareDirect: Measured
  /** The bare route plus one Redis request (bench/bare-worker.ts /v1/bare-redis): the I/O every Atrium request makes. */
  bareRedisDirect: Measured
  chainDirect: Measured
  me: Measured
  meDirect: Measured
  login: Measured
  loginDirect: Measured
  refresh: Measured
  /** GET /v1/tenant under workerd alone, without and beside a loop of logins. */
  loginInterference: { quiet: Run; busy: Run; logins: number }
  /** CPU ms of one hash in workerd (hashing Worker, minus empty requests). */
  hashMsWorkerd: { argon2id: number | null; scrypt: number | null; scryptBetterAuth: number | null }
  rss: { start: { app: WorkerRss; bare: WorkerRss }; end: { app: WorkerRss; bare: WorkerRss } }
  heapMb: { start: number; max_sampled: number; end: number }
}

const round = (n: number, digits: number) => +n.toFixed(digits)
const roundOrNull = (n: number | null, digits: number) => (n === null ? null : round(n, digits))
const ratio = (a: number | null, b: number | null, digits = 2) => (a === null || b === null || b === 0 ? null : round(a / b, digits))

export function buildResults(input: BenchInput) {
  const { bare, chain, bareDirect, bareRedisDirect, chainDirect, me, meDirect, login, loginDirect, refresh, loginInterference: li, hashMsWorkerd: h } = input
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
    worker_cpu_ms_per_request: roundOrNull(m.cpuMsPerRequest.worker, 3),
    proxy_cpu_ms_per_request: roundOrNull(m.cpuMsPerRequest.proxy, 3),
    sql_endpoint_cpu_ms_per_request: roundOrNull(m.cpuMsPerRequest.sql, 3),
    redis_endpoint_cpu_ms_per_request: roundOrNull(m.cpuMsPerRequest.redis, 3),
  })
  return {
    note: `One run of \`npm run bench\` on a ${cpus().length}-core machine, everything on loopback: each Worker under wrangler dev (behind its local proxy) and the same bundle under workerd alone; the SQL and Redis endpoints in their own processes. Absolute figures are that machine's; compare the ratios and the CPU per request.`,
    date: new Date().toISOString(),
    machine: `${process.platform} ${process.arch}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}`,
    backends: {
      sql: process.env.ATRIUM_LOCAL_POSTGRES_URL ? 'real Postgres (fresh database)' : 'embedded PGlite',
      redis: process.env.ATRIUM_LOCAL_REDIS_URL ? 'real Redis' : 'embedded store',
    },
    options: input.options,
    table: [bare, chain, bareDirect, bareRedisDirect, chainDirect, me, meDirect, login, loginDirect, refresh].map(row),
    ratios: {
      full_chain_vs_bare_throughput: round(chain.run.rps / bare.run.rps, 3),
      full_chain_vs_bare_p50: round(chain.run.p50 / bare.run.p50, 2),
      full_chain_vs_bare_p99: round(chain.run.p99 / bare.run.p99, 2),
      workerd_full_chain_vs_bare_throughput: round(chainDirect.run.rps / bareDirect.run.rps, 3),
      workerd_full_chain_vs_bare_worker_cpu: ratio(chainDirect.cpuMsPerRequest.worker, bareDirect.cpuMsPerRequest.worker),
      workerd_full_chain_vs_bare_with_one_redis_request_worker_cpu: ratio(chainDirect.cpuMsPerRequest.worker, bareRedisDirect.cpuMsPerRequest.worker),
      login_vs_tenant_throughput: round(login.run.rps / chain.run.rps, 4),
      refresh_vs_tenant_throughput: round(refresh.run.rps / chain.run.rps, 3),
    },
    per_warm_tenant_request: {
      sql_requests: round(chain.sqlPerRequest, 3),
      redis_requests: round(chain.redisPerRequest, 3),
      redis_commands: round(chain.redisCommandsPerRequest, 3),
    },
    login_interference: {
      tenant_p99_ms_alone: round(li.quiet.p99, 1),
      tenant_p99_ms_beside_logins: round(li.busy.p99, 1),
      p99_factor: round(li.busy.p99 / li.quiet.p99, 2),
      logins_during: li.logins,
      note: 'GET /v1/tenant on workerd alone at the bench concurrency, without and then beside a loop of password logins (one at a time) on the same Worker',
    },
    password_hash: {
      algorithm: 'Argon2id m=19456 KiB, t=2, p=1 (src/identity/passwords.ts)',
      cpu_ms_per_hash_workerd: { argon2id: roundOrNull(h.argon2id, 1), scrypt_2_14_8_5_before: roundOrNull(h.scrypt, 1), scrypt_2_14_16_1_better_auth_params: roundOrNull(h.scryptBetterAuth, 1) },
      note: `CPU of ${input.options.hashes} hashing requests minus ${input.options.hashes} empty ones to a hashing Worker (bench/hash-worker.ts) under workerd alone, from /proc, per hash`,
      login_worker_cpu_ms_workerd: roundOrNull(loginDirect.cpuMsPerRequest.worker, 1),
      me_worker_cpu_ms_workerd: roundOrNull(meDirect.cpuMsPerRequest.worker, 2),
    },
    memory: {
      app_worker_rss_mb: { start: input.rss.start.app.worker, end: input.rss.end.app.worker },
      app_proxy_rss_mb: { start: input.rss.start.app.proxy, end: input.rss.end.app.proxy },
      bare_worker_rss_mb: { start: input.rss.start.bare.worker, end: input.rss.end.bare.worker },
      bare_proxy_rss_mb: { start: input.rss.start.bare.proxy, end: input.rss.end.bare.proxy },
      rss_note: 'each `wrangler dev` runs two workerd processes: the Worker, and a proxy on the public port in front of it (the whole runtime, not one isolate: production limits an isolate to 128 MB). start = up and idle, end = after every measured run; null = not readable with ps',
      harness_heap_used_mb: input.heapMb,
      harness_note: 'JS heap of the bench process (the load generator; the endpoints run in their own processes)',
    },
  }
}

export type Results = ReturnType<typeof buildResults>

export function printResults(results: Results) {
  console.log(`\n${results.note}\n${results.machine}; SQL: ${results.backends.sql}, Redis: ${results.backends.redis}; concurrency ${results.options.concurrency}\n`)
  console.table(
    results.table.map((r) => ({
      route: r.route, 'req/s': r.rps, 'p50 ms': r.p50_ms, 'p99 ms': r.p99_ms, errors: r.errors,
      'Worker CPU ms/req': r.worker_cpu_ms_per_request, 'proxy CPU ms/req': r.proxy_cpu_ms_per_request,
      'SQL/req': r.sql_per_request, 'Redis/req': r.redis_per_request,
    })),
  )
  const { ratios: q, per_warm_tenant_request: w, password_hash: h, memory: m, login_interference: li } = results
  const rss = (v: { start: number | null; end: number | null }) => `${v.start ?? '?'} → ${v.end ?? '?'} MB`
  console.log(
    [
      'Summary',
      `  full chain vs bare Hono      ${q.full_chain_vs_bare_throughput}× throughput, p50 ${q.full_chain_vs_bare_p50}×, p99 ${q.full_chain_vs_bare_p99}× (wrangler dev)`,
      `                               ${q.workerd_full_chain_vs_bare_throughput}× throughput, ${q.workerd_full_chain_vs_bare_worker_cpu ?? '?'}× Worker CPU per request (workerd alone); ${q.workerd_full_chain_vs_bare_with_one_redis_request_worker_cpu ?? '?'}× a bare route making one Redis request`,
      `  login vs GET /v1/tenant      ${q.login_vs_tenant_throughput}× throughput (refresh: ${q.refresh_vs_tenant_throughput}×)`,
      `  per warm GET /v1/tenant      ${w.sql_requests} SQL requests, ${w.redis_requests} Redis requests (${w.redis_commands} commands)`,
      `  GET /v1/tenant p99           ${li.tenant_p99_ms_alone} ms alone, ${li.tenant_p99_ms_beside_logins} ms beside a login loop (${li.p99_factor}×)`,
      `  one password hash (workerd)  Argon2id ${h.cpu_ms_per_hash_workerd.argon2id ?? '?'} ms CPU; scrypt 2^14/8/5 ${h.cpu_ms_per_hash_workerd.scrypt_2_14_8_5_before ?? '?'} ms; scrypt 2^14/16/1 ${h.cpu_ms_per_hash_workerd.scrypt_2_14_16_1_better_auth_params ?? '?'} ms`,
      `  workerd RSS, start → end     Worker ${rss(m.app_worker_rss_mb)} (its proxy ${rss(m.app_proxy_rss_mb)}); bare Worker ${rss(m.bare_worker_rss_mb)} (proxy ${rss(m.bare_proxy_rss_mb)})`,
      `  harness JS heap used         ${m.harness_heap_used_mb.start} MB at start, ${m.harness_heap_used_mb.max_sampled} MB highest after a phase, ${m.harness_heap_used_mb.end} MB at end`,
    ].join('\n'),
  )
}
