import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { migrateAll } from '../scripts/migrate.ts'
import { startRedisServer, type RedisServer } from '../local/redis-server.ts'
import { startSqlServer, type SqlServer } from '../local/sql-server.ts'
import { freePort, freshDatabase } from '../local/scratch.ts'
import { send } from './http.ts'

const root = fileURLToPath(new URL('../', import.meta.url))
const wranglerBin = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))

export async function waitFor(url: string, child: ChildProcess, seconds = 90) {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}) before ${url} answered`)
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

/** RSS in MB of one `wrangler dev`'s processes. */
export interface WorkerRss {
  /** The workerd running the Worker itself. */
  worker: number | null
  /** The workerd of wrangler's proxy, which listens on `--port` and forwards to the Worker. */
  proxy: number | null
}

/** Reads the workerd processes of `child`'s process group (best effort: `ps`, Linux and macOS). */
function workerdRss(child: ChildProcess, port: number): WorkerRss {
  const rss: WorkerRss = { worker: null, proxy: null }
  try {
    for (const line of execFileSync('ps', ['-eo', 'pgid=,rss=,args='], { encoding: 'utf8' }).split('\n')) {
      const [pgid, kb, command, ...args] = line.trim().split(/\s+/)
      if (Number(pgid) !== child.pid || !command?.endsWith('workerd')) continue
      const role = args.some((arg) => arg.endsWith(`entry=127.0.0.1:${port}`)) ? 'proxy' : 'worker'
      rss[role] = (rss[role] ?? 0) + Math.round(Number(kb) / 1024)
    }
  } catch {
    // no `ps` here: the figures stay null
  }
  return rss
}

export interface Stack {
  origin: (slug?: string) => string
  /** The bare Hono worker (empty when started with `bare: false`). */
  bareOrigin: string
  /** The DATABASE_URL the Worker is given (with `sql.url` as the Neon fetch endpoint). */
  databaseUrl: string
  sql: SqlServer
  redis: RedisServer
  /** RSS of the app's and the bare worker's workerd processes (null when unreadable). */
  rss(): { app: WorkerRss; bare: WorkerRss }
  stop(): Promise<void>
}

export interface StackOptions {
  /** Start the bare Hono worker beside the app (the bench's baseline). Default true. */
  bare?: boolean
  /** Variables added to (or replacing) the stack's own. */
  vars?: Record<string, string>
  /** Prefix of the temporary directory and of a real Postgres's fresh database. */
  label?: string
}

/**
 * The whole local stack for one bench run (or the browser tests): the SQL and Redis endpoints
 * (embedded, or real servers with ATRIUM_LOCAL_POSTGRES_URL / ATRIUM_LOCAL_REDIS_URL — then in a
 * fresh database dropped at the end), migrations, the Worker under `wrangler dev`, and a bare
 * Hono worker.
 */
export async function startStack(secrets: Record<string, string>, options: StackOptions = {}): Promise<Stack> {
  const label = options.label ?? 'bench'
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
    const sql = await startSqlServer({ port: 0, postgresUrl })
    cleanups.push(() => sql.close())
    const redis = await startRedisServer({ port: 0, token: secrets.UPSTASH_REDIS_REST_TOKEN!, redisUrl: process.env.ATRIUM_LOCAL_REDIS_URL })
    cleanups.push(() => redis.close())
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
    const bare = options.bare === false ? null : wrangler(
      ['bench/bare-worker.ts', '--name', 'atrium-bench-bare', '--port', String(barePort)],
      emptyEnvFile, join(scratch, 'bare-state'), bareInspector,
    )
    if (bare) cleanups.push(() => stopGroup(bare))
    await waitFor(`http://127.0.0.1:${port}/health`, worker)
    if (bare) await waitFor(`http://127.0.0.1:${barePort}/v1/bare`, bare)
    return {
      origin: (slug) => `http://${slug ? `${slug}.` : ''}localhost:${port}`,
      bareOrigin: bare ? `http://127.0.0.1:${barePort}` : '',
      databaseUrl,
      sql,
      redis,
      rss: () => ({ app: workerdRss(worker, port), bare: bare ? workerdRss(bare, barePort) : { worker: null, proxy: null } }),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
