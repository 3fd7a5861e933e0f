/**
 * `npm run chaos`: the fault suite against the whole local stack — three Workers (`wrangler dev`
 * ×3) on three ports sharing one SQL endpoint and one Redis endpoint, which the suite makes fail,
 * slow down, or kills and restarts. Prints the matrix (scenario × outcome) and writes it to
 * chaos/results.json; exits 1 if any guarantee did not hold. docs/reliability.md reports a run.
 *
 * Bounded: the whole run is stopped after CHAOS_BUDGET_SECONDS (default 480). The SQL fault matrix
 * of the multi-step flows (SQL failing at every request index) is in the test suite
 * (test/fault-matrix.ts), where it runs against the Worker under test.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { generatePrivateKeyPem, signingKeys } from '../src/platform/signing-keys.ts'
import { delays, killAndRestart, propagation, redisOutage, type Outcome, type ScenarioDeps } from './scenarios.ts'
import { startChaosStack } from './stack.ts'

const budgetSeconds = Number(process.env.CHAOS_BUDGET_SECONDS ?? 480)
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined

const limits = { sqlTimeoutMs: 8000, redisTimeoutMs: 1500, budgetMs: 20000, tenantCacheMs: 5000 }
const keys = await signingKeys(await generatePrivateKeyPem())
const secrets = {
  UPSTASH_REDIS_REST_TOKEN: randomBytes(24).toString('hex'),
  PLATFORM_ADMIN_TOKEN: `chaos-admin-${randomBytes(16).toString('hex')}`,
  JWT_PRIVATE_KEY: JSON.stringify(keys.privateJwk),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
}
const vars = {
  ENVIRONMENT: 'development',
  BASE_DOMAINS: 'localhost',
  ALLOW_TENANT_HEADER: 'false',
  MAIL_TRANSPORT: 'outbox',
  LOG_LEVEL: 'error',
  RATE_LIMIT_MAX: '100000000',
  SQL_TIMEOUT_MS: String(limits.sqlTimeoutMs),
  REDIS_TIMEOUT_MS: String(limits.redisTimeoutMs),
  REQUEST_BUDGET_MS: String(limits.budgetMs),
  TENANT_CACHE_TTL_SECONDS: String(limits.tenantCacheMs / 1000),
}

console.log('chaos: starting the SQL and Redis endpoints and three Workers…')
const started = Date.now()
const stack = await startChaosStack(secrets, vars, 3)
const deadline = setTimeout(() => {
  console.error(`chaos: over its budget of ${budgetSeconds} s; stopping`)
  void stack.stop().finally(() => process.exit(1))
}, budgetSeconds * 1000)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.stop().finally(() => process.exit(130)))

const deps: ScenarioDeps = { stack, adminToken: secrets.PLATFORM_ADMIN_TOKEN, limits }
const scenarios: [string, () => Promise<Outcome[]>][] = [
  ['propagation', () => propagation(deps)],
  ['redis', () => redisOutage(deps)],
  ['delays', () => delays(deps)],
  ['kill', () => killAndRestart(deps, { seconds: 12, clients: 6 })],
]

const outcomes: Outcome[] = []
let failed = false
try {
  for (const [name, run] of scenarios) {
    if (only && only !== name) continue
    process.stdout.write(`chaos: ${name}… `)
    try {
      const rows = await run()
      outcomes.push(...rows)
      console.log(rows.every((r) => r.ok) ? 'ok' : 'FAILED')
    } catch (err) {
      outcomes.push({ scenario: name, fault: '—', guarantee: 'the scenario runs', bound: '—', observed: `error: ${(err as Error).message}`, ok: false })
      console.log('ERROR')
    }
  }
} finally {
  clearTimeout(deadline)
  await stack.stop()
}

failed = outcomes.some((o) => !o.ok)
const table = [
  '| scenario | fault | guarantee | bound | observed | holds |',
  '|---|---|---|---|---|---|',
  ...outcomes.map((o) => `| ${o.scenario} | ${o.fault} | ${o.guarantee} | ${o.bound} | ${o.observed} | ${o.ok ? 'yes' : '**NO**'} |`),
].join('\n')
console.log(`\n${table}\n\nchaos: ${outcomes.filter((o) => o.ok).length}/${outcomes.length} held, ${Math.round((Date.now() - started) / 1000)} s`)
if (!only) {
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({
    date: new Date().toISOString(),
    backends: process.env.ATRIUM_LOCAL_POSTGRES_URL ? 'real Postgres' : 'embedded PGlite and Redis store',
    limits,
    outcomes,
  }, null, 2)}\n`)
}
process.exit(failed ? 1 : 0)
