import { Redis } from '@upstash/redis/cloudflare'
import { Hono } from 'hono'

/**
 * The baseline of the benchmark: a bare Hono route on the same workerd, with nothing in front of it.
 * wrangler.toml applies here too, static assets included: the route sits under `/v1/*`
 * (`run_worker_first`) so it passes the same asset routing as the app's routes.
 * `/v1/bare-redis` adds what every Atrium request must do besides its own code: one Redis request
 * (a one-command pipeline through the same client as the app's, to the same endpoint), so the
 * Worker CPU of the HTTP client and its JSON can be told apart from the app's middleware.
 */
type Env = { UPSTASH_REDIS_REST_URL?: string; UPSTASH_REDIS_REST_TOKEN?: string }
let redis: Redis | undefined
const app = new Hono<{ Bindings: Env }>()
app.get('/v1/bare', (c) => c.json({ ok: true }))
app.get('/v1/bare-redis', async (c) => {
  redis ??= new Redis({ url: c.env.UPSTASH_REDIS_REST_URL!, token: c.env.UPSTASH_REDIS_REST_TOKEN!, enableTelemetry: false, responseEncoding: false })
  const [value] = await redis.pipeline().get('bench:bare').exec()
  return c.json({ ok: true, value })
})

export default app
