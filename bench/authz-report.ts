import type { AuthzBenchOptions, AuthzSize } from './authz.ts'

const round = (n: number, digits: number) => +n.toFixed(digits)

/**
 * The authorization figures per model size. Ratios are Atrium ÷ casbin: above 1 for throughput,
 * below 1 for latency, means Atrium does better.
 */
export function buildAuthzResults(options: AuthzBenchOptions, sizes: AuthzSize[]) {
  return {
    note:
      'POST /v1/authz/check through the Worker (loopback, wrangler dev, the caller an owner token, one Redis GET for the model version per request) vs node-casbin in-process (enforceSync, one thread, no I/O), and Atrium\'s compiled engine in-process (decide) on the snapshot the Worker loaded. Same roles, bindings and checks; every decision compared.',
    options: { ...options, casbin: 'RBAC with domains from text (newModelFromString); p, role, type, action; g, user, role, tenant | type/id; policies added in memory' },
    sizes: sizes.map((s) => ({
      roles: s.roles,
      users: s.users,
      bindings: s.bindings,
      casbin_policy_lines: s.casbinPolicies,
      casbin_role_links: s.casbinRoleLinks,
      checks: s.checks,
      allowed_share: round(s.allowedShare, 3),
      instance_scoped_share: round(s.instanceScopedShare, 3),
      snapshot_json_bytes: s.snapshotBytes,
      http: {
        rps: round(s.http.run.rps, 1),
        p50_ms: round(s.http.run.p50, 2),
        p99_ms: round(s.http.run.p99, 2),
        requests: s.http.run.requests,
        errors: s.http.run.errors,
        ...(s.http.run.firstError ? { first_error: s.http.run.firstError } : {}),
        sql_per_check: round(s.http.sqlPerRequest, 3),
        redis_per_check: round(s.http.redisPerRequest, 3),
        redis_commands_per_check: round(s.http.redisCommandsPerRequest, 3),
        cold_first_check_ms: round(s.cold.ms, 1),
        cold_first_check_samples_ms: s.cold.samplesMs.map((ms) => round(ms, 1)),
        cold_first_check_sql_requests: s.cold.sql,
        cold_first_check_redis_requests: s.cold.redis,
        warm_p50_ms_concurrency_1: round(s.serialWarm.p50, 2),
        worker_rss_mb_after: s.workerRssMb,
      },
      engine_in_process: {
        checks_per_s: Math.round(s.engine.checksPerSecond),
        p50_us: round(s.engine.p50Ms * 1000, 2),
        p99_us: round(s.engine.p99Ms * 1000, 2),
        compile_ms: round(s.engine.compileMs, 2),
        passes: s.engine.passes,
      },
      casbin_in_process: {
        checks_per_s: round(s.casbin.checksPerSecond, 1),
        p50_us: round(s.casbin.p50Ms * 1000, 2),
        p99_us: round(s.casbin.p99Ms * 1000, 2),
        load_ms: round(s.casbin.loadMs, 1),
        passes: s.casbin.passes,
      },
      ratios: {
        http_vs_casbin_throughput: round(s.http.run.rps / s.casbin.checksPerSecond, 4),
        http_vs_casbin_p99: round(s.http.run.p99 / s.casbin.p99Ms, 3),
        engine_vs_casbin_throughput: round(s.engine.checksPerSecond / s.casbin.checksPerSecond, 2),
        engine_vs_casbin_p99: round(s.engine.p99Ms / s.casbin.p99Ms, 5),
      },
      agreement: { checks_compared: s.agreement.compared, http_checks_compared: s.agreement.httpCompared, mismatches: s.agreement.mismatches, ...(s.agreement.examples.length ? { examples: s.agreement.examples } : {}) },
    })),
  }
}

export type AuthzResults = ReturnType<typeof buildAuthzResults>

export function printAuthzResults(results: AuthzResults) {
  console.log(`\nAuthorization checks (${results.options.checks} checks per size, ${results.options.requests} over HTTP at concurrency ${results.options.concurrency})`)
  console.table(
    results.sizes.map((s) => ({
      roles: s.roles,
      bindings: s.bindings,
      'HTTP req/s': s.http.rps,
      'HTTP p50 ms': s.http.p50_ms,
      'HTTP p99 ms': s.http.p99_ms,
      'cold ms': s.http.cold_first_check_ms,
      'SQL/check': s.http.sql_per_check,
      'Redis/check': s.http.redis_per_check,
      'engine checks/s': s.engine_in_process.checks_per_s,
      'engine p99 µs': s.engine_in_process.p99_us,
      'casbin checks/s': s.casbin_in_process.checks_per_s,
      'casbin p99 µs': s.casbin_in_process.p99_us,
      mismatches: s.agreement.mismatches,
    })),
  )
  console.log(
    [
      'Ratios (Atrium ÷ casbin; throughput above 1 and latency below 1 favour Atrium)',
      ...results.sizes.map(
        (s) =>
          `  ${String(s.roles).padStart(6)} roles   HTTP endpoint: ${s.ratios.http_vs_casbin_throughput}× throughput, p99 ${s.ratios.http_vs_casbin_p99}×;` +
          ` engine in-process: ${s.ratios.engine_vs_casbin_throughput}× throughput, p99 ${s.ratios.engine_vs_casbin_p99}×;` +
          ` snapshot ${(s.snapshot_json_bytes / 1048576).toFixed(2)} MiB of JSON, cold first check ${s.http.cold_first_check_ms} ms (warm ${s.http.warm_p50_ms_concurrency_1} ms)`,
      ),
    ].join('\n'),
  )
  for (const s of results.sizes) for (const example of s.agreement.examples ?? []) console.error(`  mismatch at ${s.roles} roles: ${example}`)
}

/** Every decision agreed and every request answered. */
export const authzFailures = (results: AuthzResults) =>
  results.sizes.reduce((sum, s) => sum + s.agreement.mismatches + s.http.errors, 0)
