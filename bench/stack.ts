import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { migrateAll } from '../scripts/migrate.ts'
import { freePort, freshDatabase } from '../local/scratch.ts'
import { send } from './http.ts'
import { bundleWorker, startWorkerd } from './workerd.ts'

const root = fileURLToPath(new URL('../', import.meta.url))
const wranglerBin = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))

export async function waitFor(url: string, child: ChildProcess, seconds = 90) {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited (${child.exitCode}) before ${url} answered`)
    try {
      if ((await send(url)).status < 500) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${url} did not come up within ${seconds} s`)
}

/**
 * `wrangler dev` as a child process rather than `unstable_startWorker`: the Worker then runs
 * exactly as `npm run dev` runs it (same CLI, same bundling, its own workerd process whose
 * memory can be read apart from the harness), and that API is still marked unstable.
 * Secrets come from `envFile`: wrangler reads it instead of the developer's .dev.vars, so a
 * local .dev.vars cannot change the figures, and no secret appears on a command line.
 */
export function wrangler(args: string[], envFile: string, stateDir: string, inspectorPort: number): ChildProcess {
  // wrangler.toml serves the web app's build as static assets, and wrangler refuses to start
  // without its directory: an unbuilt app is an empty one (the browser tests build it first).
  mkdirSync(join(root, 'web/dist'), { recursive: true })
  return spawn(
    process.execPath,
    [
      wranglerBin, 'dev', ...args, '--ip', '127.0.0.1', '--env-file', envFile, '--persist-to', stateDir,
      // Two `wrangler dev` at once must not share an inspector port.
      '--inspector-port', String(inspectorPort), '--show-interactive-dev-session=false', '--log-level', 'error',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      // Its own process group: the workerd it starts shares it, so the group is what we measure and stop.
      detached: true,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'true' },
    },
  )
}

export function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal)
  } catch {
    // already gone
  }
}

export async function stopGroup(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return signalGroup(child, 'SIGKILL')
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  signalGroup(child, 'SIGTERM')
  const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))])
  // Anything of the group still alive (workerd outliving wrangler, or wrangler stuck) ends here.
  signalGroup(child, 'SIGKILL')
  if (!inTime) await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))])
}

export interface Endpoint {
  url: string
  port: number
  /** The endpoint's own process, for its CPU time. */
  pid: number
}

/**
 * One local endpoint in its own Node process (bench/endpoint.ts), not in the load generator's:
 * its CPU then neither competes with the generator's event loop on the same thread nor hides in it.
 */
async function startEndpoint(which: 'sql' | 'redis', env: Record<string, string>): Promise<{ endpoint: Endpoint; child: ChildProcess }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./endpoint.ts', import.meta.url))], {
    cwd: root,
    env: { ...process.env, ...env, BENCH_ENDPOINT: which },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  })
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    let buffer = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const line = buffer.split('\n').find((l) => l.startsWith('{"ready":true'))
      if (line) resolve(JSON.parse(line))
    })
    child.once('exit', (code) => reject(new Error(`the ${which} endpoint exited (${code}) before it was ready`)))
  })
  return { endpoint: { ...ready, pid: child.pid! }, child }
}

/** RSS in MB of one `wrangler dev`'s processes. */
export interface WorkerRss {
  /** The workerd running the Worker itself. */
  worker: number | null
  /** The workerd of wrangler's proxy, which listens on `--port` and forwards to the Worker. */
  proxy: number | null
}

/** The workerd processes of one `wrangler dev` (its process group): the Worker's and its proxy's. */
export interface WorkerdProcesses {
  worker: { pid: number; rssMb: number } | null
  proxy: { pid: number; rssMb: number } | null
}

/** Reads the workerd processes of `child`'s process group (best effort: `ps`, Linux and macOS). */
function workerdProcesses(child: ChildProcess, port: number): WorkerdProcesses {
  const found: WorkerdProcesses = { worker: null, proxy: null }
  try {
    for (const line of execFileSync('ps', ['-eo', 'pgid=,pid=,rss=,args='], { encoding: 'utf8' }).split('\n')) {
      const [pgid, pid, kb, command, ...args] = line.trim().split(/\s+/)
      if (Number(pgid) !== child.pid || !command?.endsWith('workerd')) continue
      const role = args.some((arg) => arg.endsWith(`entry=127.0.0.1:${port}`)) ? 'proxy' : 'worker'
      found[role] = { pid: Number(pid), rssMb: Math.round(Number(kb) / 1024) + (found[role]?.rssMb ?? 0) }
    }
  } catch {
    // no `ps` here: the figures stay null
  }
  return found
}

const rssOf = (p: WorkerdProcesses): WorkerRss => ({ worker: p.worker?.rssMb ?? null, proxy: p.proxy?.rssMb ?? null })

/** Process ids whose CPU time the bench reads (/proc), null where unknown. */
export interface StackPids {
  /** The workerd running the Worker under `wrangler dev`, and wrangler's proxy in front of it. */
  worker: number | null
  proxy: number | null
  /** The bare Hono worker under `wrangler dev`. */
  bareWorker: number | null
  bareProxy: number | null
  /** workerd serving the bundled Workers directly (app, bare, hashing), no proxy. */
  direct: number | null
  sql: number
  redis: number
}

export interface Stack {
  /** The Worker under `wrangler dev` (behind its proxy). */
  origin: (slug?: string) => string
  /** The bare Hono worker (empty when started with `bare: false`). */
  bareOrigin: string
  /** The same Worker bundle under workerd directly (no wrangler, no proxy; empty when started with `direct: false`). */
  directOrigin: (slug?: string) => string
  directBareOrigin: string
  /** The hashing Worker (bench/hash-worker.ts) under workerd directly. */
  hashOrigin: string
  /** The DATABASE_URL the Worker is given (with `sql.url` as the Neon fetch endpoint). */
  databaseUrl: string
  sql: Endpoint
  redis: Endpoint
  pids(): StackPids
  /** RSS of the app's and the bare worker's workerd processes (null when unreadable). */
  rss(): { app: WorkerRss; bare: WorkerRss }
  stop(): Promise<void>
}

export interface StackOptions {
  /** Start the bare Hono worker beside the app (the bench's baseline). Default true. */
  bare?: boolean
  /** Serve the bundles (app, bare, hashing) under workerd alone too. Default: as `bare`. */
  direct?: boolean
  /** Variables added to (or replacing) the stack's own. */
  vars?: Record<string, string>
  /** Prefix of the temporary directory and of a real Postgres's fresh database. */
  label?: string
  /** Open workerd's (the direct one's) V8 inspector on this port, for CPU profiles (bench/profile.ts). */
  inspectorPort?: number
}

/** wrangler.toml's compatibility date and flags, for the Workers run under workerd directly. */
function readWranglerToml(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const text = readFileSync(join(root, 'wrangler.toml'), 'utf8')
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1]
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1]
  if (!date) throw new Error('wrangler.toml has no compatibility_date')
  return { compatibilityDate: date, compatibilityFlags: [...(flags ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]!) }
}

/**
 * The whole local stack for one bench run: the SQL and Redis endpoints in their own processes
 * (embedded, or real servers with ATRIUM_LOCAL_POSTGRES_URL / ATRIUM_LOCAL_REDIS_URL — then in a
 * fresh database dropped at the end), migrations, the Worker and a bare Hono worker under
 * `wrangler dev`, and the same bundles (plus the hashing Worker) under workerd directly.
 */
export async function startStack(secrets: Record<string, string>, options: StackOptions = {}): Promise<Stack> {
  const label = options.label ?? 'bench'
  const withBare = options.bare !== false
  const withDirect = options.direct ?? withBare
  const scratch = mkdtempSync(join(tmpdir(), `atrium-${label}-`))
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(scratch, { recursive: true, force: true })]
  let stopped: Promise<void> | undefined
  // In reverse order of starting; each step runs even when an earlier one failed.
  const stop = () =>
    (stopped ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error(`${label} cleanup:`, err))
    })())

  try {
    let postgresUrl: string | undefined
    if (process.env.ATRIUM_LOCAL_POSTGRES_URL) {
      const fresh = await freshDatabase(process.env.ATRIUM_LOCAL_POSTGRES_URL, `atrium_${label}`)
      postgresUrl = fresh.url
      cleanups.push(fresh.drop)
    }
    const sqlProcess = await startEndpoint('sql', { ATRIUM_BENCH_DATABASE_URL: postgresUrl ?? '' })
    cleanups.push(() => stopGroup(sqlProcess.child))
    const redisProcess = await startEndpoint('redis', { BENCH_ENDPOINT_TOKEN: secrets.UPSTASH_REDIS_REST_TOKEN! })
    cleanups.push(() => stopGroup(redisProcess.child))
    const sql = sqlProcess.endpoint
    const redis = redisProcess.endpoint
    const databaseUrl = `postgres://atrium:atrium@127.0.0.1:${sql.port}/atrium`
    await migrateAll({ databaseUrl, fetchEndpoint: sql.url })

    const envFile = join(scratch, 'bench.env')
    // Single-quoted dotenv values are taken verbatim (double quotes would expand `\n`, and JSON keys hold `"`).
    const lines = Object.entries(secrets).map(([k, v]) => {
      if (/['\n]/.test(v)) throw new Error(`${k}: a bench secret cannot hold a quote or a newline`)
      return `${k}='${v}'`
    })
    writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 })
    const emptyEnvFile = join(scratch, 'empty.env')
    writeFileSync(emptyEnvFile, '')
    const vars = {
      ENVIRONMENT: 'development',
      DATABASE_URL: databaseUrl,
      NEON_FETCH_ENDPOINT: sql.url,
      UPSTASH_REDIS_REST_URL: redis.url,
      BASE_DOMAINS: 'localhost',
      MAIL_TRANSPORT: 'outbox',
      LOG_LEVEL: 'warn',
      // The per-caller limit is measured (its Redis round trip), never reached.
      RATE_LIMIT_MAX: '100000000',
      ...options.vars,
    }
    const [port, barePort, inspector, bareInspector] = [await freePort(), await freePort(), await freePort(), await freePort()]
    const worker = wrangler(
      ['--port', String(port), ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
      envFile, join(scratch, 'state'), inspector,
    )
    cleanups.push(() => stopGroup(worker))
    // wrangler.toml still applies to the bare worker (same compatibility date and flags); only its script and name differ.
    const bare = withBare
      ? wrangler(['bench/bare-worker.ts', '--name', 'atrium-bench-bare', '--port', String(barePort)], emptyEnvFile, join(scratch, 'bare-state'), bareInspector)
      : null
    if (bare) cleanups.push(() => stopGroup(bare))

    // The same Workers as `wrangler deploy` would upload them, served by workerd itself.
    const [directPort, directBarePort, hashPort] = [await freePort(), await freePort(), await freePort()]
    let direct: ChildProcess | null = null
    if (withDirect) {
      const bundles = join(scratch, 'bundles')
      const [appBundle, bareBundle, hashBundle] = await Promise.all(
        [undefined, 'bench/bare-worker.ts', 'bench/hash-worker.ts'].map((entry, i) => {
          const dir = join(bundles, String(i))
          mkdirSync(dir, { recursive: true })
          return bundleWorker(dir, entry)
        }),
      )
      const toml = readWranglerToml()
      direct = startWorkerd(
        [
          { name: 'app', bundle: appBundle!, port: directPort, bindings: { ...vars, ...secrets } },
          { name: 'bare', bundle: bareBundle!, port: directBarePort, bindings: { UPSTASH_REDIS_REST_URL: redis.url, UPSTASH_REDIS_REST_TOKEN: secrets.UPSTASH_REDIS_REST_TOKEN! } },
          { name: 'hash', bundle: hashBundle!, port: hashPort, bindings: {} },
        ],
        join(scratch, 'workerd.capnp'), toml.compatibilityDate, toml.compatibilityFlags, options.inspectorPort,
      )
      const started = direct
      cleanups.push(() => stopGroup(started))
    }

    await waitFor(`http://127.0.0.1:${port}/health`, worker)
    if (bare) await waitFor(`http://127.0.0.1:${barePort}/v1/bare`, bare)
    if (direct) {
      await waitFor(`http://127.0.0.1:${directPort}/health`, direct)
      await waitFor(`http://127.0.0.1:${hashPort}/?alg=none`, direct)
    }
    // wrangler dev's processes are found once they serve.
    const app = workerdProcesses(worker, port)
    const bareProcesses: WorkerdProcesses = bare ? workerdProcesses(bare, barePort) : { worker: null, proxy: null }
    return {
      origin: (slug) => `http://${slug ? `${slug}.` : ''}localhost:${port}`,
      bareOrigin: bare ? `http://127.0.0.1:${barePort}` : '',
      directOrigin: (slug) => (direct ? `http://${slug ? `${slug}.` : ''}localhost:${directPort}` : ''),
      directBareOrigin: direct ? `http://127.0.0.1:${directBarePort}` : '',
      hashOrigin: direct ? `http://127.0.0.1:${hashPort}` : '',
      databaseUrl,
      sql,
      redis,
      pids: () => ({
        worker: app.worker?.pid ?? null,
        proxy: app.proxy?.pid ?? null,
        bareWorker: bareProcesses.worker?.pid ?? null,
        bareProxy: bareProcesses.proxy?.pid ?? null,
        direct: direct?.pid ?? null,
        sql: sql.pid,
        redis: redis.pid,
      }),
      rss: () => ({ app: rssOf(workerdProcesses(worker, port)), bare: bare ? rssOf(workerdProcesses(bare, barePort)) : { worker: null, proxy: null } }),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
