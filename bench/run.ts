/**
 * `npm run bench`: one run of the local stack, figures printed as a table and written to
 * bench/results.json. Timings depend on the machine; the ratios are the comparable part.
 * Loopback only; every loop is bounded. Env: BENCH_REQUESTS (2000), BENCH_CONCURRENCY (8),
 * BENCH_LOGINS (200), and ATRIUM_LOCAL_POSTGRES_URL / ATRIUM_LOCAL_REDIS_URL for real servers.
 */
import { execSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { hashPassword } from '../src/identity/passwords.ts'
import { generatePrivateKeyPem, signingKeys } from '../src/platform/signing-keys.ts'
import { load, send, type Run } from './http.ts'
import { startStack } from './stack.ts'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8)
const LOGINS = Number(process.env.BENCH_LOGINS ?? 200)
const PASSWORD = 'correct horse battery staple'

let ipCounter = 0
/** A distinct client address per credential request: the per-IP throttle is not what is measured. */
const nextIp = () => `198.18.${(++ipCounter >> 8) & 255}.${ipCounter & 255}`

function workerdRss(): number[] {
  try {
    return execSync('ps -eo rss=,args= | grep "[w]orkerd serve"', { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line.trim().split(/\s+/)[0]) / 1024)
  } catch {
    return []
  }
}

async function stats(url: string): Promise<{ requests: number; commands?: number }> {
  return (await send(`${url}/__atrium/stats`)).body
}
async function resetStats(url: string) {
  await send(`${url}/__atrium/stats/reset`, { method: 'POST', body: {} })
}

const keys = await signingKeys(await generatePrivateKeyPem())
const secrets = {
  UPSTASH_REDIS_REST_TOKEN: randomBytes(24).toString('base64url'),
  PLATFORM_ADMIN_TOKEN: `bench-admin-${randomBytes(16).toString('hex')}`,
  JWT_PRIVATE_KEY: JSON.stringify(keys.privateJwk),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
}

console.log('starting the local stack (SQL and Redis endpoints, migrations, wrangler dev ×2)…')
const stack = await startStack(secrets)
const results: Record<string, unknown> = {}
try {
  const sqlOrigin = new URL(stack.sql.url).origin
  const admin = { authorization: `Bearer ${secrets.PLATFORM_ADMIN_TOKEN}` }
  const slug = `bench-${Date.now().toString(36)}`
  const created = await send(`${stack.origin()}/v1/tenants`, { body: { slug, name: 'Bench', settings: { signup_policy: 'open' } }, headers: admin })
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${JSON.stringify(created.body)}`)
  const tenantUrl = stack.origin(slug)

  // 1. A bare Hono route on workerd vs GET /v1/tenant through the whole chain.
  const bareCall = async () => (await send(`${stack.bareOrigin}/`)).status === 200
  const chainCall = async () => (await send(`${tenantUrl}/v1/tenant`)).status === 200
  await load(200, CONCURRENCY, bareCall)
  await load(200, CONCURRENCY, chainCall)
  const bare = await load(REQUESTS, CONCURRENCY, bareCall)
  await resetStats(sqlOrigin)
  await resetStats(stack.redis.url)
  const chain = await load(REQUESTS, CONCURRENCY, chainCall)
  const sqlAfter = await stats(sqlOrigin)
  const redisAfter = await stats(stack.redis.url)

  // 2. Identity: register once, then password logins and refresh rotations.
  const email = `bench-${Date.now()}@example.com`
  const registered = await send(`${tenantUrl}/v1/auth/register`, { body: { email, password: PASSWORD }, headers: { 'cf-connecting-ip': nextIp() } })
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`)
  const me = async () => (await send(`${tenantUrl}/v1/me`, { headers: { authorization: `Bearer ${registered.body.access_token}` } })).status === 200
  await load(50, CONCURRENCY, me)
  const meRun = await load(Math.min(REQUESTS, 1000), CONCURRENCY, me)
  const login = await load(LOGINS, CONCURRENCY, async () => {
    const r = await send(`${tenantUrl}/v1/auth/login`, { body: { email, password: PASSWORD }, headers: { 'cf-connecting-ip': nextIp() } })
    return r.status === 200
  })
  // Each refresh rotates the token: one chain of refreshes per concurrent client.
  const chains = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const r = await send(`${tenantUrl}/v1/auth/login`, { body: { email, password: PASSWORD }, headers: { 'cf-connecting-ip': nextIp() } })
      return r.body.refresh_token as string
    }),
  )
  const refresh = await load(Math.min(REQUESTS, 1000), CONCURRENCY, async (_, slot) => {
    const r = await send(`${tenantUrl}/v1/auth/refresh`, { body: { refresh_token: chains[slot] }, headers: { 'cf-connecting-ip': nextIp() } })
    if (r.status !== 200) return false
    chains[slot] = r.body.refresh_token
    return true
  })

  // 3. The cost of one password hash, in Node's OpenSSL (workerd runs the same scrypt from BoringSSL).
  const hashes = 20
  const t0 = performance.now()
  for (let i = 0; i < hashes; i++) await hashPassword(PASSWORD)
  const hashMs = (performance.now() - t0) / hashes

  const row = (name: string, r: Run) => ({ name, rps: Math.round(r.rps), p50_ms: +r.p50.toFixed(2), p99_ms: +r.p99.toFixed(2), requests: r.requests, errors: r.errors })
  const table = [row('bare Hono route (workerd)', bare), row('GET /v1/tenant (full chain)', chain), row('GET /v1/me (JWT + membership)', meRun), row('POST /v1/auth/login (password)', login), row('POST /v1/auth/refresh', refresh)]
  Object.assign(results, {
    machine: `${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores, Node ${process.version}`,
    backends: { postgres: process.env.ATRIUM_LOCAL_POSTGRES_URL ? 'real' : 'PGlite', redis: process.env.ATRIUM_LOCAL_REDIS_URL ? 'real' : 'embedded' },
    concurrency: CONCURRENCY,
    table,
    ratios: {
      full_chain_vs_bare_throughput: +(chain.rps / bare.rps).toFixed(3),
      full_chain_vs_bare_p50: +(chain.p50 / bare.p50).toFixed(2),
      login_vs_tenant_throughput: +(login.rps / chain.rps).toFixed(4),
      refresh_vs_tenant_throughput: +(refresh.rps / chain.rps).toFixed(3),
    },
    per_warm_request: { sql_requests: +(sqlAfter.requests / REQUESTS).toFixed(3), redis_requests: +(redisAfter.requests / REQUESTS).toFixed(3), redis_commands: +((redisAfter.commands ?? 0) / REQUESTS).toFixed(3) },
    password_hash: { algorithm: 'scrypt N=2^14 r=8 p=5', ms_per_hash_node: +hashMs.toFixed(1), login_p50_minus_me_p50_ms: +(login.p50 - meRun.p50).toFixed(1) },
    memory: { workerd_rss_mb_all_on_machine: workerdRss().map((m) => +m.toFixed(0)), bench_heap_used_mb: +(process.memoryUsage().heapUsed / 1048576).toFixed(1) },
  })
  console.table(table)
  console.log(JSON.stringify({ ratios: results.ratios, per_warm_request: results.per_warm_request, password_hash: results.password_hash, memory: results.memory }, null, 2))
  writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`)
} finally {
  await stack.stop()
}
process.exit(0)
