/**
 * The peer of `npm run bench -- --peer`: better-auth (Hono on Node, its organization plugin) on the
 * same Postgres server as Atrium, in its own database and its own process (bench/peer.ts starts it
 * and reads its CPU time). Its rate limit is off, as Atrium's is out of reach in the bench; its
 * password hash is its default (scrypt N=16384, r=16, p=1 through node:crypto). Env: PEER_DATABASE_URL,
 * PEER_SECRET. Prints `{"ready":true,"port":…}` once it serves.
 */
import { serve } from '@hono/node-server'
import { betterAuth } from 'better-auth'
import { getMigrations } from 'better-auth/db/migration'
import { organization } from 'better-auth/plugins'
import { Hono } from 'hono'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.PEER_DATABASE_URL, max: 10 })
const server = serve({ fetch: (request) => app.fetch(request), port: 0, hostname: '127.0.0.1' })
await new Promise<void>((resolve) => server.once('listening', () => resolve()))
const port = (server.address() as { port: number }).port
const baseURL = `http://127.0.0.1:${port}`

const auth = betterAuth({
  baseURL,
  secret: process.env.PEER_SECRET,
  database: pool,
  emailAndPassword: { enabled: true },
  plugins: [organization()],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  trustedOrigins: [baseURL],
})
const { runMigrations } = await getMigrations(auth.options)
await runMigrations()

const app = new Hono()
app.on(['GET', 'POST'], '/api/auth/*', (c) => auth.handler(c.req.raw))

const stop = () => {
  server.close()
  void pool.end().finally(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
console.log(JSON.stringify({ ready: true, port }))
