/**
 * `npm run bench`: one run of the local stack, figures printed as a table and a summary, and
 * written to bench/results.json. Timings depend on the machine; the ratios are the comparable part.
 * Loopback only; every loop is bounded; everything started here is stopped at the end.
 *
 * Sizes: `npm run bench -- --requests 2000 --concurrency 8 --logins 200 --hashes 20`
 * or BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_LOGINS, BENCH_HASHES. Authorization:
 * `--authz-sizes 10,1000,10000 --checks 1000 --authz-requests 1000` (roles per tenant; distinct
 * checks per size, each answered by casbin and the engine in-process; measured HTTP checks per
 * size, the list round-robin: with fewer than --checks, the rest is compared in-process only).
 * `--only routes` or `--only authz` runs one part and prints it (bench/results.json is only
 * written by a full run, so its figures always come from one run). `--peer` (with a real Postgres)
 * adds better-auth on the same machine: the same four operations, interleaved (`--rounds 4`).
 * Backends: ATRIUM_LOCAL_POSTGRES_URL (a fresh database, dropped at the end) and
 * ATRIUM_LOCAL_REDIS_URL use real servers instead of the embedded ones.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { generatePrivateKeyPem, signingKeys } from '../src/platform/signing-keys.ts'
import { expectStatus, load, loopback, send, type Run } from './http.ts'
import { runAuthzBench, MAX_ROLES } from './authz.ts'
import { authzFailures, buildAuthzResults, printAuthzResults, type AuthzResults } from './authz-report.ts'
import { buildPeerResults, printPeerResults, runPeerBench } from './peer.ts'
import { cpuDuring } from './proc.ts'
import { buildResults, printResults, type Measured } from './report.ts'
import { startStack, type Stack } from './stack.ts'

function readOptions() {
  const names = ['requests', 'concurrency', 'logins', 'hashes', 'checks', 'authz-requests'] as const
  const defaults = { requests: 2000, concurrency: 8, logins: 200, hashes: 20, checks: 1000, 'authz-requests': 1000 }
  const { values } = parseArgs({
    options: {
      ...(Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as Record<(typeof names)[number], { type: 'string' }>),
      only: { type: 'string' },
      'authz-sizes': { type: 'string' },
      peer: { type: 'boolean' },
      rounds: { type: 'string' },
    },
  })
  const options = { ...defaults }
  for (const name of names) {
    const text = values[name] ?? process.env[`BENCH_${name.toUpperCase().replace('-', '_')}`]
    if (text === undefined) continue
    const value = Number(text)
    if (!Number.isInteger(value) || value < 1 || value > 100_000) throw new Error(`--${name} must be an integer from 1 to 100000, got ${text}`)
    options[name] = value
  }
  const only = values.only ?? process.env.BENCH_ONLY
  if (only !== undefined && only !== 'routes' && only !== 'authz') throw new Error(`--only must be routes or authz, got ${only}`)
  const sizesText = values['authz-sizes'] ?? process.env.BENCH_AUTHZ_SIZES ?? '10,1000,10000'
  const authzSizes = sizesText.split(',').map((text) => {
    const value = Number(text)
    if (!Number.isInteger(value) || value < 1 || value > MAX_ROLES) throw new Error(`--authz-sizes: each size must be an integer from 1 to ${MAX_ROLES}, got ${text}`)
    return value
  })
  const rounds = Number(values.rounds ?? process.env.BENCH_ROUNDS ?? 4)
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`--rounds must be an integer from 1 to 20, got ${values.rounds}`)
  return { ...options, only: only as 'routes' | 'authz' | undefined, authzSizes, peer: values.peer === true || process.env.BENCH_PEER === '1', rounds }
}

const options = readOptions()
const PASSWORD = 'correct horse battery staple'
const mb = (bytes: number) => +(bytes / 1048576).toFixed(1)
const heapAtStart = mb(process.memoryUsage().heapUsed)
const heap = { start: heapAtStart, max_sampled: heapAtStart, end: 0 }
/** The machine's 1-minute load average: other work on it (a shared 2-core box) shows here, not in the figures. */
const loadAverage = { start: +loadavg()[0]!.toFixed(2), end: 0 }
const sampleHeap = () => (heap.max_sampled = Math.max(heap.max_sampled, mb(process.memoryUsage().heapUsed)))

let ipCounter = 0
/** A distinct client address per credential request: the per-IP credential throttle (20/min) is not what is measured. */
const nextIp = () => `198.18.${(++ipCounter >> 8) & 255}.${ipCounter & 255}`

const keys = await signingKeys(await generatePrivateKeyPem())
const secrets = {
  UPSTASH_REDIS_REST_TOKEN: randomBytes(24).toString('base64url'),
  PLATFORM_ADMIN_TOKEN: `bench-admin-${randomBytes(16).toString('hex')}`,
  JWT_PRIVATE_KEY: JSON.stringify(keys.privateJwk),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
}

console.log('starting the local stack (SQL and Redis endpoints, migrations, wrangler dev ×2, workerd)…')
const stack: Stack = await startStack(secrets)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // The wrangler processes are in their own process groups, so a Ctrl-C does not reach them.
  process.once(signal, () => void stack.stop().finally(() => process.exit(130)))
}

let failed = false
try {
  const sqlOrigin = new URL(stack.sql.url).origin
  const backendStats = async () => {
    const [sql, redis] = await Promise.all([send(`${sqlOrigin}/__atrium/stats`), send(`${stack.redis.url}/__atrium/stats`)])
    return { sql: sql.body.requests as number, redis: redis.body.requests as number, commands: (redis.body.commands ?? 0) as number }
  }
  const resetStats = () => Promise.all([sqlOrigin, stack.redis.url].map((url) => send(`${url}/__atrium/stats/reset`, { method: 'POST', body: {} })))

  /**
   * Warm-up, then the backend counters are reset, then `total` measured calls; counters read right
   * after. `worker` names the process that serves the route (its CPU per request is read from /proc)
   * and `proxy` the one in front of it, if any.
   */
  async function measure(
    name: string, warmup: number, total: number, one: (i: number, client: number) => Promise<unknown>,
    processes: { worker: number | null; proxy?: number | null } = { worker: stack.pids().worker, proxy: stack.pids().proxy },
    concurrency = options.concurrency,
  ): Promise<Measured> {
    process.stdout.write(`  ${name}… `)
    await load(warmup, concurrency, one)
    await resetStats()
    const pids = stack.pids()
    const { result: run, cpu } = await cpuDuring({ worker: processes.worker, proxy: processes.proxy, sql: pids.sql, redis: pids.redis }, () => load(total, concurrency, one))
    const after = await backendStats()
    sampleHeap()
    const perRequest = (ms: number | null) => (ms === null ? null : ms / total)
    const workerCpu = perRequest(cpu.worker)
    console.log(`${run.rps.toFixed(1)} req/s, Worker CPU ${workerCpu === null ? '?' : workerCpu.toFixed(2)} ms/req${run.errors ? ` — ${run.errors} errors, first: ${run.firstError}` : ''}`)
    return {
      name, run, sqlPerRequest: after.sql / total, redisPerRequest: after.redis / total, redisCommandsPerRequest: after.commands / total,
      cpuMsPerRequest: { worker: workerCpu, proxy: perRequest(cpu.proxy), sql: perRequest(cpu.sql), redis: perRequest(cpu.redis) },
    }
  }

  /** The routes: the whole chain against bare Hono, identity routes, under wrangler dev and workerd directly; hashes. */
  async function measureRoutes() {
    const rssStart = stack.rss()
    const slug = `bench-${Date.now().toString(36)}`
    expectStatus(await send(`${stack.origin()}/v1/tenants`, {
      // One account signs in from every client at once: the per-account attempt budget (at most
      // max_attempts credentials in flight, src/identity/lockout.ts) is not what is measured.
      body: { slug, name: 'Bench', settings: { signup_policy: 'open', lockout: { max_attempts: 100 } } },
      headers: { authorization: `Bearer ${secrets.PLATFORM_ADMIN_TOKEN}` },
    }), 201)
    const pids = stack.pids()
    const viaWrangler = { worker: pids.worker, proxy: pids.proxy }
    const viaWorkerd = { worker: pids.direct, proxy: null }
    const tenantUrl = stack.origin(slug)
    const directUrl = stack.directOrigin(slug)

    // 1. Hono on workerd with nothing in front vs GET /v1/tenant through the whole chain
    //    (request id → tenant → JWT → API key → rate limit → section), under wrangler dev and under workerd alone.
    const bare = await measure('bare Hono route (wrangler dev)', 200, options.requests, async () => expectStatus(await send(`${stack.bareOrigin}/v1/bare`), 200), { worker: pids.bareWorker, proxy: pids.bareProxy })
    const chain = await measure('GET /v1/tenant (wrangler dev)', 200, options.requests, async () => expectStatus(await send(`${tenantUrl}/v1/tenant`), 200), viaWrangler)
    const bareDirect = await measure('bare Hono route (workerd)', 200, options.requests, async () => expectStatus(await send(`${stack.directBareOrigin}/v1/bare`), 200), viaWorkerd)
    const bareRedisDirect = await measure('bare Hono route + one Redis request (workerd)', 200, options.requests, async () => expectStatus(await send(`${stack.directBareOrigin}/v1/bare-redis`), 200), viaWorkerd)
    const chainDirect = await measure('GET /v1/tenant (workerd)', 200, options.requests, async () => expectStatus(await send(`${directUrl}/v1/tenant`), 200), viaWorkerd)

    // 2. Identity: one account, then /v1/me as the authenticated baseline, password logins, refresh rotations.
    const email = `bench-${Date.now()}@example.com`
    const credentials = { email, password: PASSWORD }
    const registered = expectStatus(await send(`${tenantUrl}/v1/auth/register`, { body: credentials, headers: { 'cf-connecting-ip': nextIp() } }), 201)
    const meCall = (origin: string) => async () => expectStatus(await send(`${origin}/v1/me`, { headers: { authorization: `Bearer ${registered.body.access_token}` } }), 200)
    const loginCall = (origin: string) => async () => expectStatus(await send(`${origin}/v1/auth/login`, { body: credentials, headers: { 'cf-connecting-ip': nextIp() } }), 200)
    const me = await measure('GET /v1/me (wrangler dev)', 50, Math.min(options.requests, 1000), meCall(tenantUrl), viaWrangler)
    const meDirect = await measure('GET /v1/me (workerd)', 50, Math.min(options.requests, 1000), meCall(directUrl), viaWorkerd)
    const login = await measure('POST /v1/auth/login (wrangler dev)', options.concurrency, options.logins, loginCall(tenantUrl), viaWrangler)
    const loginDirect = await measure('POST /v1/auth/login (workerd)', options.concurrency, options.logins, loginCall(directUrl), viaWorkerd)
    // Each refresh rotates the token: one chain of refreshes per concurrent client.
    const chains = await Promise.all(Array.from({ length: options.concurrency }, async () => (await loginCall(tenantUrl)()).body.refresh_token as string))
    const refresh = await measure('POST /v1/auth/refresh (wrangler dev)', options.concurrency * 4, Math.min(options.requests, 1000), async (_, client) => {
      const r = expectStatus(await send(`${tenantUrl}/v1/auth/refresh`, { body: { refresh_token: chains[client] }, headers: { 'cf-connecting-ip': nextIp() } }), 200)
      chains[client] = r.body.refresh_token
    }, viaWrangler)

    // 3. GET /v1/tenant's p99 on workerd alone while a loop of logins runs beside it (one login at a
    //    time), against the same load without logins: what one hash in progress does to other requests.
    const tenantCall = async () => expectStatus(await send(`${directUrl}/v1/tenant`), 200)
    const quiet = await load(Math.min(options.requests, 1000), options.concurrency, tenantCall)
    let logging = true
    let loginsDuring = 0
    const loop = (async () => {
      while (logging) {
        await loginCall(directUrl)()
        loginsDuring++
      }
    })()
    const busy = await load(Math.min(options.requests, 1000), options.concurrency, tenantCall)
    logging = false
    await loop
    console.log(`  GET /v1/tenant p99 alone ${quiet.p99.toFixed(1)} ms, beside a login loop ${busy.p99.toFixed(1)} ms (${loginsDuring} logins)`)

    // 4. One password hash in workerd: the CPU of N hashing requests minus N empty ones, one at a time.
    const hashCpu = async (alg: string) => {
      const { cpu } = await cpuDuring({ direct: pids.direct }, () => load(options.hashes, 1, async () => expectStatus(await send(`${stack.hashOrigin}/?alg=${alg}`), 200)))
      return cpu.direct
    }
    await hashCpu('argon2id') // compiles and instantiates the WebAssembly once
    const none = await hashCpu('none')
    const hashMs = async (alg: string) => {
      const total = await hashCpu(alg)
      return total === null || none === null ? null : (total - none) / options.hashes
    }
    const hashMsWorkerd = { argon2id: await hashMs('argon2id'), scrypt: await hashMs('scrypt'), scryptBetterAuth: await hashMs('scrypt-better-auth') }
    console.log(`  one hash in workerd: Argon2id ${hashMsWorkerd.argon2id?.toFixed(1)} ms CPU, scrypt 2^14/8/5 ${hashMsWorkerd.scrypt?.toFixed(1)} ms, scrypt 2^14/16/1 ${hashMsWorkerd.scryptBetterAuth?.toFixed(1)} ms`)

    const rssEnd = stack.rss()
    return {
      options, bare, chain, bareDirect, bareRedisDirect, chainDirect, me, meDirect, login, loginDirect, refresh,
      loginInterference: { quiet, busy, logins: loginsDuring }, hashMsWorkerd, rss: { start: rssStart, end: rssEnd },
    }
  }

  const routes = options.only === 'authz' ? undefined : await measureRoutes()
  let peer: ReturnType<typeof buildPeerResults> | undefined
  if (options.peer) {
    console.log('Atrium vs better-auth, interleaved…')
    peer = buildPeerResults(await runPeerBench(
      { stack, adminToken: secrets.PLATFORM_ADMIN_TOKEN, nextIp, resetStats, backendStats, atriumHashMs: routes?.hashMsWorkerd.argon2id ?? null },
      { requests: Math.min(options.requests, 1000), logins: options.logins, concurrency: options.concurrency, rounds: options.rounds, hashes: options.hashes },
    ))
  }
  let authz: AuthzResults | undefined
  if (options.only !== 'routes') {
    // After the routes, so the tenants with thousands of roles are not in the isolate while those are measured.
    console.log('authorization checks, Atrium vs casbin…')
    const authzOptions = { sizes: options.authzSizes, checks: options.checks, requests: options['authz-requests'], concurrency: options.concurrency }
    const deps = { stack, redisToken: secrets.UPSTASH_REDIS_REST_TOKEN, password: PASSWORD, nextIp, measure, resetStats, backendStats }
    authz = buildAuthzResults(authzOptions, await runAuthzBench(deps, authzOptions))
  }

  sampleHeap()
  heap.end = mb(process.memoryUsage().heapUsed)
  loadAverage.end = +loadavg()[0]!.toFixed(2)
  console.log(`\nload average (1 min): ${loadAverage.start} at start, ${loadAverage.end} at end, on ${availableParallelism()} cores`)
  const results = routes && buildResults({ ...routes, heapMb: heap })
  if (results) {
    printResults(results)
    const errors = [...results.table, routes!.loginInterference.quiet, routes!.loginInterference.busy].reduce((sum, r) => sum + r.errors, 0)
    if (errors) {
      console.error(`\n${errors} requests failed: the figures above are not a valid run.`)
      failed = true
    }
  }
  if (peer) {
    printPeerResults(peer)
    const errors = peer.operations.reduce((sum, op) => sum + op.atrium.errors + op.better_auth.errors, 0)
    if (errors) {
      console.error(`\n${errors} peer requests failed: the comparison above is not a valid run.`)
      failed = true
    }
  }
  if (authz) {
    printAuthzResults(authz)
    const failures = authzFailures(authz)
    if (failures) {
      console.error(`\n${failures} authorization checks failed or disagreed with casbin: the figures above are not a valid run.`)
      failed = true
    }
  }
  if (results && authz) {
    writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ ...results, load_average_1m: loadAverage, ...(peer ? { peer } : {}), authz }, null, 2)}\n`)
    console.log('\nwritten to bench/results.json')
  } else {
    console.log(`\n--only ${options.only}: bench/results.json is left as it is (only a full run writes it)`)
  }
} catch (err) {
  console.error(err)
  failed = true
} finally {
  await stack.stop()
  await loopback.destroy()
}
process.exit(failed ? 1 : 0)
