import { Hono } from 'hono'

/** The baseline of the benchmark: a bare Hono route on the same workerd, with nothing in front of it. */
const app = new Hono()
app.get('/', (c) => c.json({ ok: true }))

export default app
