import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stopGroup, waitFor, wrangler } from '../bench/stack.ts'
import { send } from '../bench/http.ts'
import { freePort, freshDatabase } from '../local/scratch.ts'

const testStack = fileURLToPath(new URL('../local/test-stack.ts', import.meta.url))

/**
 * The local SQL and Redis endpoints in a child process (local/test-stack.ts) on fixed ports, so
 * that the suite can SIGKILL them mid-load and start them again where the Workers expect them.
 * The embedded database lives in a directory (or a real Postgres database with
 * ATRIUM_LOCAL_POSTGRES_URL) and survives the kill; the embedded Redis store does not, exactly
 * like a Redis restarted without persistence.
 */
export class Backend {
  #child: ChildProcess | undefined
  readonly sqlPort: number
  readonly redisPort: number
  readonly token: string
  readonly env: Record<string, string>

  constructor(sqlPort: number, redisPort: number, token: string, env: Record<string, string>) {
    this.sqlPort = sqlPort
    this.redisPort = redisPort
    this.token = token
    this.env = env
  }

  get sqlUrl() {
    return `http://127.0.0.1:${this.sqlPort}/sql`
  }
  get redisUrl() {
    return `http://127.0.0.1:${this.redisPort}`
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [testStack], {
      env: {
        ...process.env,
        ATRIUM_TEST_SQL_PORT: String(this.sqlPort),
        ATRIUM_TEST_REDIS_PORT: String(this.redisPort),
        ATRIUM_TEST_REDIS_TOKEN: this.token,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    this.#child = child
    await new Promise<void>((resolve, reject) => {
      let buffer = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        if (buffer.includes('"ready":true')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`the backend exited (${code}) before it was ready`)))
    })
  }

  /** SIGKILL: no shutdown, no flush beyond what each commit already wrote. */
  async kill(): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    await this.kill()
  }

  async faults(which: 'sql' | 'redis', plan: { mode: 'off' | 'fail' | 'delay' | 'drop'; status?: number; delayMs?: number; count?: number; after?: number }) {
    const base = which === 'sql' ? `http://127.0.0.1:${this.sqlPort}` : this.redisUrl
    const res = await send(`${base}/__atrium/faults`, { body: plan })
    if (res.status !== 200) throw new Error(`fault control failed: ${res.status}`)
  }
}

export interface ChaosStack {
  backend: Backend
  /** Origins of the three Workers: `origin(i, slug?)`. */
  origin(worker: number, slug?: string): string
  workers: number
  databaseUrl: string
  vars: Record<string, string>
  stop(): Promise<void>
}

/**
 * Three Workers (`wrangler dev` ×3, each its own workerd process, so nothing is shared in memory)
 * on three ports, all pointed at the same SQL and Redis endpoints: the horizontal scaling of
 * production, where a change made through one isolate must reach the others through the backends.
 */
export async function startChaosStack(secrets: Record<string, string>, vars: Record<string, string>, workers = 3): Promise<ChaosStack> {
  const scratch = mkdtempSync(join(tmpdir(), 'atrium-chaos-'))
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(scratch, { recursive: true, force: true })]
  let stopped: Promise<void> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error('chaos cleanup:', err))
    })())
  try {
    const backendEnv: Record<string, string> = { ATRIUM_TEST_PGLITE_DIR: join(scratch, 'pglite') }
    if (process.env.ATRIUM_LOCAL_POSTGRES_URL) {
      const fresh = await freshDatabase(process.env.ATRIUM_LOCAL_POSTGRES_URL, 'atrium_chaos')
      backendEnv.ATRIUM_TEST_DATABASE_URL = fresh.url
      cleanups.push(fresh.drop)
    }
    const backend = new Backend(await freePort(), await freePort(), secrets.UPSTASH_REDIS_REST_TOKEN!, backendEnv)
    await backend.start()
    cleanups.push(() => backend.stop())
    const databaseUrl = `postgres://atrium:atrium@127.0.0.1:${backend.sqlPort}/atrium`

    const envFile = join(scratch, 'chaos.env')
    writeFileSync(envFile, `${Object.entries(secrets).map(([k, v]) => `${k}='${v}'`).join('\n')}\n`, { mode: 0o600 })
    const allVars = { ...vars, DATABASE_URL: databaseUrl, NEON_FETCH_ENDPOINT: backend.sqlUrl, UPSTASH_REDIS_REST_URL: backend.redisUrl }
    const ports: number[] = []
    const children: ChildProcess[] = []
    for (let i = 0; i < workers; i++) {
      const port = await freePort()
      const child = wrangler(
        ['--port', String(port), ...Object.entries(allVars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
        envFile, join(scratch, `state-${i}`), await freePort(),
      )
      cleanups.push(() => stopGroup(child))
      ports.push(port)
      children.push(child)
    }
    await Promise.all(children.map((child, i) => waitFor(`http://127.0.0.1:${ports[i]}/health`, child, 180)))
    return {
      backend,
      origin: (worker, slug) => `http://${slug ? `${slug}.` : ''}localhost:${ports[worker]}`,
      workers,
      databaseUrl,
      vars: allVars,
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}
