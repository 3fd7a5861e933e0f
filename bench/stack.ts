import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
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

async function waitFor(url: string, seconds = 90) {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    try {
      if ((await send(url)).status < 500) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${url} did not come up within ${seconds} s`)
}

async function wrangler(args: string[]): Promise<ChildProcess> {
  // A free inspector port and state folder each: two `wrangler dev` at once must not share them.
  const extra = ['--inspector-port', String(await freePort()), '--persist-to', mkdtempSync(join(tmpdir(), 'atrium-bench-'))]
  // Its own process group, so stopping it stops the workerd it starts too.
  return spawn(process.execPath, [wranglerBin, 'dev', ...args, ...extra, '--ip', '127.0.0.1', '--show-interactive-dev-session=false', '--log-level', 'error'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  })
}

export interface Stack {
  origin: (slug?: string) => string
  bareOrigin: string
  sql: SqlServer
  redis: RedisServer
  secrets: Record<string, string>
  stop(): Promise<void>
}

/**
 * The whole local stack for one bench run: the SQL and Redis endpoints (embedded, or real
 * servers with ATRIUM_LOCAL_POSTGRES_URL / ATRIUM_LOCAL_REDIS_URL — then in a fresh database
 * dropped at the end), migrations, the Worker under `wrangler dev`, and a bare Hono worker.
 */
export async function startStack(secrets: Record<string, string>): Promise<Stack> {
  let postgresUrl: string | undefined
  let drop = async () => {}
  if (process.env.ATRIUM_LOCAL_POSTGRES_URL) {
    const fresh = await freshDatabase(process.env.ATRIUM_LOCAL_POSTGRES_URL, 'atrium_bench')
    postgresUrl = fresh.url
    drop = fresh.drop
  }
  const sql = await startSqlServer({ port: 0, postgresUrl })
  const redis = await startRedisServer({ port: 0, token: secrets.UPSTASH_REDIS_REST_TOKEN!, redisUrl: process.env.ATRIUM_LOCAL_REDIS_URL })
  const databaseUrl = `postgres://atrium:atrium@127.0.0.1:${sql.port}/atrium`
  await migrateAll({ databaseUrl, fetchEndpoint: sql.url })

  const port = await freePort()
  const barePort = await freePort()
  const vars = {
    ...secrets,
    ENVIRONMENT: 'development',
    DATABASE_URL: databaseUrl,
    NEON_FETCH_ENDPOINT: sql.url,
    UPSTASH_REDIS_REST_URL: redis.url,
    BASE_DOMAINS: 'localhost',
    MAIL_TRANSPORT: 'outbox',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '100000000',
  }
  const worker = await wrangler(['--port', String(port), ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])])
  const bare = await wrangler(['bench/bare-worker.ts', '--name', 'atrium-bench-bare', '--compatibility-date', '2026-11-01', '--port', String(barePort)])
  const stopAll = async () => {
    for (const child of [worker, bare]) {
      try {
        process.kill(-child.pid!, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    await Promise.allSettled([sql.close(), redis.close()])
    await drop()
  }
  try {
    await waitFor(`http://127.0.0.1:${port}/health`)
    await waitFor(`http://127.0.0.1:${barePort}/`)
  } catch (err) {
    await stopAll()
    throw err
  }
  return {
    origin: (slug) => `http://${slug ? `${slug}.` : ''}localhost:${port}`,
    bareOrigin: `http://127.0.0.1:${barePort}`,
    sql,
    redis,
    secrets,
    stop: stopAll,
  }
}
