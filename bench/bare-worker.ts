import { Hono } from 'hono'

/**
 * The baseline of the benchmark: a bare Hono route on the same workerd, with nothing in front of it.
 * wrangler.toml applies here too, static assets included: the route sits under `/v1/*`
 * (`run_worker_first`) so it passes the same asset routing as the app's routes.
 */
const app = new Hono()
app.get('/v1/bare', (c) => c.json({ ok: true }))

export default app
