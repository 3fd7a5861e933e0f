/**
 * `npm run bench -- --peer`: Atrium against better-auth on the same machine and the same Postgres
 * server, the same four operations, interleaved (rounds alternate which side goes first), at the
 * bench concurrency. Atrium runs as its bundle under workerd alone; better-auth as Hono on Node
 * (bench/peer/better-auth-server.ts). Per operation: throughput, p50/p99 and the CPU per request of
 * each side's own process (/proc), and for sign-in the CPU without the password hash.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { hashPassword as betterAuthHash } from '@better-auth/utils/password'
import { freshDatabase } from '../local/scratch.ts'
import { expectStatus, loadSamples, send, summarize, type Reply, type Run } from './http.ts'
import { cpuDuring } from './proc.ts'
import type { Stack } from './stack.ts'

export interface PeerOptions {
  requests: number
  logins: number
  concurrency: number
  rounds: number
  hashes: number
}

interface Side {
  run: Run
  cpuMsPerRequest: number | null
  sqlPerRequest?: number
  redisPerRequest?: number
}

export interface PeerOperation {
  name: string
  atrium: Side
  betterAuth: Side
}

async function startPeer(databaseUrl: string): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./peer/better-auth-server.ts', import.meta.url))], {
    env: { ...process.env, PEER_DATABASE_URL: databaseUrl, PEER_SECRET: randomBytes(32).toString('base64url') },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const line = buffer.split('\n').find((l) => l.startsWith('{"ready":true'))
      if (line) resolve((JSON.parse(line) as { port: number }).port)
    })
    child.once('exit', (code) => reject(new Error(`better-auth exited (${code}) before it was ready`)))
  })
  return { origin: `http://127.0.0.1:${port}`, child }
}

const cookieOf = (reply: Reply) => {
  const set = reply.headers?.['set-cookie']
  return (Array.isArray(set) ? set : set ? [set] : []).map((c) => c.split(';')[0]).join('; ')
}

/** CPU ms of one better-auth password hash (its Node implementation), in this process while it is idle. */
async function betterAuthHashMs(n: number): Promise<number> {
  await betterAuthHash('warm up')
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) await betterAuthHash('correct horse battery staple')
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000 / n
}

export async function runPeerBench(deps: {
  stack: Stack
  adminToken: string
  nextIp: () => string
  resetStats: () => Promise<unknown>
  backendStats: () => Promise<{ sql: number; redis: number }>
  atriumHashMs: number | null
}, options: PeerOptions) {
  const postgres = process.env.ATRIUM_LOCAL_POSTGRES_URL
  if (!postgres) throw new Error('--peer needs a real Postgres (ATRIUM_LOCAL_POSTGRES_URL): better-auth runs on the same server as Atrium')
  const database = await freshDatabase(postgres, 'atrium_peer')
  const peer = await startPeer(database.url).catch(async (err) => {
    await database.drop()
    throw err
  })
  try {
    const pids = deps.stack.pids()
    const password = 'correct horse battery staple'
    const origin = peer.origin
    const peerHeaders = { origin }

    // Atrium: an account that owns its tenant (platform sign-up), as better-auth's creator owns its organization.
    const email = `peer-${Date.now()}@example.com`
    const registered = expectStatus(await send(`${deps.stack.directOrigin()}/v1/auth/register`, { body: { email, password }, headers: { 'cf-connecting-ip': deps.nextIp() } }), 201)
    const tenantUrl = deps.stack.directOrigin(registered.body.tenant.slug)
    const token = registered.body.access_token as string
    // One account signs in from every client at once: the per-account attempt budget (at most
    // max_attempts credentials in flight, src/identity/lockout.ts) is not what is measured.
    expectStatus(await send(`${tenantUrl}/v1/tenant`, { method: 'PATCH', body: { settings: { lockout: { max_attempts: 100 } } }, headers: { authorization: `Bearer ${token}` } }), 200)
    // better-auth: the same account, and one organization it owns.
    const signedUp = expectStatus(await send(`${origin}/api/auth/sign-up/email`, { body: { email, password, name: 'Peer' }, headers: peerHeaders }), 200)
    const cookie = cookieOf(signedUp)
    const org = expectStatus(await send(`${origin}/api/auth/organization/create`, { body: { name: 'Peer org', slug: `peer-${Date.now().toString(36)}` }, headers: { ...peerHeaders, cookie } }), 200)

    let orgCounter = 0
    const operations: { name: string; total: number; atrium: () => Promise<unknown>; betterAuth: () => Promise<unknown> }[] = [
      {
        name: 'sign-in (password)',
        total: options.logins,
        atrium: async () => expectStatus(await send(`${tenantUrl}/v1/auth/login`, { body: { email, password }, headers: { 'cf-connecting-ip': deps.nextIp() } }), 200),
        betterAuth: async () => expectStatus(await send(`${origin}/api/auth/sign-in/email`, { body: { email, password }, headers: peerHeaders }), 200),
      },
      {
        name: 'session check (GET /v1/me vs get-session)',
        total: options.requests,
        atrium: async () => expectStatus(await send(`${tenantUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } }), 200),
        betterAuth: async () => {
          const r = expectStatus(await send(`${origin}/api/auth/get-session`, { headers: { cookie } }), 200)
          if (!r.body?.session) throw new Error('get-session answered no session')
        },
      },
      {
        name: 'create organization',
        total: Math.max(options.concurrency, Math.floor(options.logins / 2)),
        atrium: async () => expectStatus(await send(`${deps.stack.directOrigin()}/v1/tenants`, { body: { slug: `peer-${Date.now().toString(36)}-${++orgCounter}`, name: 'Peer' }, headers: { authorization: `Bearer ${deps.adminToken}` } }), 201),
        betterAuth: async () => expectStatus(await send(`${origin}/api/auth/organization/create`, { body: { name: 'Peer', slug: `peer-${Date.now().toString(36)}-${++orgCounter}` }, headers: { ...peerHeaders, cookie } }), 200),
      },
      {
        name: 'list members',
        total: options.requests,
        atrium: async () => expectStatus(await send(`${tenantUrl}/v1/members`, { headers: { authorization: `Bearer ${token}` } }), 200),
        betterAuth: async () => expectStatus(await send(`${origin}/api/auth/organization/list-members?organizationId=${org.body.id}`, { headers: { cookie } }), 200),
      },
    ]

    const results: PeerOperation[] = []
    for (const op of operations) {
      process.stdout.write(`  ${op.name}… `)
      const per = Math.max(options.concurrency, Math.ceil(op.total / options.rounds))
      const sides = {
        atrium: { latencies: [] as number[], seconds: 0, errors: 0, firstError: undefined as string | undefined, cpu: 0 as number | null, sql: 0, redis: 0, n: 0 },
        betterAuth: { latencies: [] as number[], seconds: 0, errors: 0, firstError: undefined as string | undefined, cpu: 0 as number | null, sql: 0, redis: 0, n: 0 },
      }
      // Warm both sides once, then alternate which goes first in each round.
      await loadSamples(options.concurrency, options.concurrency, op.atrium)
      await loadSamples(options.concurrency, options.concurrency, op.betterAuth)
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? (['atrium', 'betterAuth'] as const) : (['betterAuth', 'atrium'] as const)
        for (const side of order) {
          await deps.resetStats()
          const pid = side === 'atrium' ? pids.direct : peer.child.pid
          const { result, cpu } = await cpuDuring({ p: pid }, () => loadSamples(per, options.concurrency, op[side]))
          const acc = sides[side]
          acc.latencies.push(...result.latencies)
          acc.seconds += result.run.seconds
          acc.errors += result.run.errors
          acc.firstError ??= result.run.firstError
          acc.cpu = acc.cpu === null || cpu.p === null ? null : acc.cpu + cpu.p
          acc.n += per
          if (side === 'atrium') {
            const after = await deps.backendStats()
            acc.sql += after.sql
            acc.redis += after.redis
          }
        }
      }
      const side = (acc: (typeof sides)['atrium'], backend: boolean): Side => ({
        run: summarize(acc.latencies, acc.seconds, acc.errors, acc.firstError),
        cpuMsPerRequest: acc.cpu === null ? null : acc.cpu / acc.n,
        ...(backend ? { sqlPerRequest: acc.sql / acc.n, redisPerRequest: acc.redis / acc.n } : {}),
      })
      const result = { name: op.name, atrium: side(sides.atrium, true), betterAuth: side(sides.betterAuth, false) }
      results.push(result)
      console.log(`Atrium ${result.atrium.run.rps.toFixed(1)} req/s vs better-auth ${result.betterAuth.run.rps.toFixed(1)} req/s`)
    }
    const betterAuthHashMsNode = await betterAuthHashMs(options.hashes)
    return { operations: results, hashMs: { atriumWorkerd: deps.atriumHashMs, betterAuthNode: betterAuthHashMsNode } }
  } finally {
    peer.child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    if (peer.child.exitCode === null) peer.child.kill('SIGKILL')
    await database.drop()
  }
}

export type PeerResults = Awaited<ReturnType<typeof runPeerBench>>

const r = (n: number | null | undefined, d: number) => (n === null || n === undefined ? null : +n.toFixed(d))
const q = (a: number | null | undefined, b: number | null | undefined, d = 2) => (a == null || b == null || b === 0 ? null : +(a / b).toFixed(d))

export function buildPeerResults(results: PeerResults) {
  const signIn = results.operations[0]!
  const atriumNoHash = signIn.atrium.cpuMsPerRequest === null || results.hashMs.atriumWorkerd === null ? null : signIn.atrium.cpuMsPerRequest - results.hashMs.atriumWorkerd
  const peerNoHash = signIn.betterAuth.cpuMsPerRequest === null ? null : signIn.betterAuth.cpuMsPerRequest - results.hashMs.betterAuthNode
  return {
    note: 'Atrium (its bundle under workerd alone) vs better-auth (Hono on Node, organization plugin, rate limit off) on the same Postgres, interleaved rounds at the bench concurrency. Ratios are Atrium ÷ better-auth: throughput above 1 and latency or CPU below 1 favour Atrium. CPU is each side’s own process (/proc); Atrium’s SQL and Redis endpoints (stand-ins for Neon’s and Upstash’s HTTP front ends) are not counted.',
    hash_parameters: {
      atrium: 'Argon2id m=19456 KiB, t=2, p=1 (OWASP minimum)',
      better_auth: 'scrypt N=16384, r=16, p=1, 64-byte key (its default; below OWASP’s scrypt minimum N=2^17, r=8, p=1)',
      cpu_ms_per_hash: { atrium_workerd: r(results.hashMs.atriumWorkerd, 1), better_auth_node: r(results.hashMs.betterAuthNode, 1) },
    },
    operations: results.operations.map((op) => ({
      operation: op.name,
      atrium: { rps: r(op.atrium.run.rps, 1), p50_ms: r(op.atrium.run.p50, 2), p99_ms: r(op.atrium.run.p99, 2), cpu_ms_per_request: r(op.atrium.cpuMsPerRequest, 2), sql_per_request: r(op.atrium.sqlPerRequest, 2), redis_per_request: r(op.atrium.redisPerRequest, 2), errors: op.atrium.run.errors },
      better_auth: { rps: r(op.betterAuth.run.rps, 1), p50_ms: r(op.betterAuth.run.p50, 2), p99_ms: r(op.betterAuth.run.p99, 2), cpu_ms_per_request: r(op.betterAuth.cpuMsPerRequest, 2), errors: op.betterAuth.run.errors },
      ratios: {
        throughput: q(op.atrium.run.rps, op.betterAuth.run.rps),
        p50: q(op.atrium.run.p50, op.betterAuth.run.p50),
        p99: q(op.atrium.run.p99, op.betterAuth.run.p99),
        cpu_per_request: q(op.atrium.cpuMsPerRequest, op.betterAuth.cpuMsPerRequest),
      },
    })),
    sign_in_without_hash: {
      atrium_cpu_ms: r(atriumNoHash, 2),
      better_auth_cpu_ms: r(peerNoHash, 2),
      ratio: q(atriumNoHash, peerNoHash),
      note: 'CPU per sign-in minus CPU per hash on each side (Atrium: Argon2id in workerd; better-auth: its scrypt in Node, measured in the bench process)',
    },
  }
}

export function printPeerResults(peer: ReturnType<typeof buildPeerResults>) {
  console.log(`\n${peer.note}\nhash: Atrium ${peer.hash_parameters.atrium} (${peer.hash_parameters.cpu_ms_per_hash.atrium_workerd ?? '?'} ms CPU); better-auth ${peer.hash_parameters.better_auth} (${peer.hash_parameters.cpu_ms_per_hash.better_auth_node} ms CPU)\n`)
  console.table(
    peer.operations.map((op) => ({
      operation: op.operation,
      'Atrium req/s': op.atrium.rps, 'b-a req/s': op.better_auth.rps, '× throughput': op.ratios.throughput,
      '× p50': op.ratios.p50, '× p99': op.ratios.p99,
      'Atrium CPU ms': op.atrium.cpu_ms_per_request, 'b-a CPU ms': op.better_auth.cpu_ms_per_request, '× CPU': op.ratios.cpu_per_request,
      'Atrium SQL/Redis per req': `${op.atrium.sql_per_request} / ${op.atrium.redis_per_request}`,
    })),
  )
  const s = peer.sign_in_without_hash
  console.log(`  sign-in CPU without the hash: Atrium ${s.atrium_cpu_ms ?? '?'} ms, better-auth ${s.better_auth_cpu_ms ?? '?'} ms (${s.ratio ?? '?'}×)`)
}
