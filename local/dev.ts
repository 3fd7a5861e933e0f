/**
 * `npm run dev`: the whole stack on this machine.
 *   1. .dev.vars with fresh secrets (first run only),
 *   2. the local Neon SQL-over-HTTP endpoint (PGlite persisted in .atrium/pglite, or a real
 *      Postgres with ATRIUM_LOCAL_POSTGRES_URL) on :4444,
 *   3. the local Upstash REST endpoint (embedded store, or a real Redis with ATRIUM_LOCAL_REDIS_URL) on :8079,
 *   4. migrations (public + every tenant schema),
 *   5. the web app built into web/dist, and rebuilt on every change (`vite build --watch`),
 *   6. `wrangler dev` on :8787 — tenants answer at http://<slug>.localhost:8787,
 *   7. the Cron Trigger: wrangler dev never fires `scheduled` by itself, so every minute (ATRIUM_DEV_CRON_SECONDS,
 *      0 = off) this calls wrangler's scheduled-test route, as the `* * * * *` trigger of wrangler.toml does in
 *      production (webhook retries run).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { migrateAll } from '../scripts/migrate.ts'
import { ensureDevVars } from './dev-vars.ts'
import { startRedisServer } from './redis-server.ts'
import { startSqlServer } from './sql-server.ts'

const root = new URL('../', import.meta.url)
const sqlPort = Number(process.env.SQL_PORT ?? 4444)
const redisPort = Number(process.env.REDIS_REST_PORT ?? 8079)
const workerPort = Number(process.env.PORT ?? 8787)

const vars = await ensureDevVars(root)
const dataDir = process.env.ATRIUM_PGLITE_DIR ?? fileURLToPath(new URL('.atrium/pglite', root))
if (!process.env.ATRIUM_LOCAL_POSTGRES_URL) mkdirSync(dataDir, { recursive: true })

const sql = await startSqlServer({ port: sqlPort, postgresUrl: process.env.ATRIUM_LOCAL_POSTGRES_URL, dataDir })
const redis = await startRedisServer({ port: redisPort, token: vars.UPSTASH_REDIS_REST_TOKEN!, redisUrl: process.env.ATRIUM_LOCAL_REDIS_URL })
console.log(`[dev] SQL endpoint   ${sql.url} (${process.env.ATRIUM_LOCAL_POSTGRES_URL ? 'real Postgres' : `PGlite in ${dataDir}`})`)
console.log(`[dev] Redis endpoint ${redis.url} (${process.env.ATRIUM_LOCAL_REDIS_URL ? 'real Redis' : 'embedded store'})`)

await migrateAll({
  databaseUrl: `postgres://atrium:atrium@127.0.0.1:${sqlPort}/atrium`,
  fetchEndpoint: sql.url,
  log: (line) => console.log(`[migrate] ${line}`),
})

const children: ChildProcess[] = []
// The web app: a first build before wrangler starts (it serves web/dist), then rebuilds on change.
// A build rather than Vite's dev server: the pages are then served by the Worker exactly as in production.
const webBuilt = new Promise<void>((resolve, reject) => {
  const vite = spawn(process.execPath, [fileURLToPath(new URL('node_modules/vite/bin/vite.js', root)), 'build', '--watch', '--logLevel', 'info', '--config', 'web/vite.config.ts'], {
    cwd: fileURLToPath(root),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  })
  vite.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString()
    process.stdout.write(text.replace(/^(?=.)/gm, '[web] '))
    if (/built in/i.test(text)) resolve()
  })
  vite.on('exit', (code) => reject(new Error(`vite build --watch exited with ${code}`)))
  children.push(vite)
})
await webBuilt

const wrangler = spawn(
  'npx',
  [
    'wrangler', 'dev', '--port', String(workerPort), '--ip', '127.0.0.1',
    '--var', `DATABASE_URL:postgres://atrium:atrium@127.0.0.1:${sqlPort}/atrium`,
    '--var', `NEON_FETCH_ENDPOINT:${sql.url}`,
    '--var', `UPSTASH_REDIS_REST_URL:${redis.url}`,
    ...process.argv.slice(2),
  ],
  { cwd: fileURLToPath(root), stdio: 'inherit', env: process.env },
)
console.log(`[dev] Worker on http://localhost:${workerPort} — tenants at http://<slug>.localhost:${workerPort}`)
console.log(`[dev] platform admin token: see PLATFORM_ADMIN_TOKEN in .dev.vars`)

// wrangler dev serves GET /cdn-cgi/handler/scheduled?cron=… (rewritten to miniflare's /cdn-cgi/local/scheduled),
// which runs the Worker's scheduled handler with that cron string.
const cronSeconds = Number(process.env.ATRIUM_DEV_CRON_SECONDS ?? 60)
const cron = cronSeconds > 0
  ? setInterval(() => {
      fetch(`http://127.0.0.1:${workerPort}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`)
        .then(async (res) => {
          if (!res.ok) console.log(`[dev] scheduled run answered ${res.status}: ${(await res.text()).slice(0, 200)}`)
        })
        .catch((err: Error) => console.log(`[dev] scheduled run not reached (${err.message}); the Worker may still be starting`))
    }, cronSeconds * 1000)
  : undefined
if (cron) console.log(`[dev] scheduled handler (webhook retries) fired every ${cronSeconds} s (ATRIUM_DEV_CRON_SECONDS=0 turns it off)`)

let stopping = false
async function stop(code = 0) {
  if (stopping) return
  stopping = true
  clearInterval(cron)
  wrangler.kill('SIGINT')
  for (const child of children) child.kill('SIGTERM')
  await Promise.allSettled([sql.close(), redis.close()])
  process.exit(code)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
wrangler.on('exit', (code) => void stop(code ?? 0))
