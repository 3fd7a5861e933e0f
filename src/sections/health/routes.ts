import { createRoute, z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import type { sectionRouter } from '../../openapi.ts'

const Check = z.object({ status: z.enum(['up', 'down']), latency_ms: z.number(), error: z.string().optional() })
const Health = z.object({ status: z.enum(['ok', 'degraded']), checks: z.object({ database: Check, redis: Check }) }).openapi('Health')

async function probe(run: () => Promise<unknown>): Promise<z.infer<typeof Check>> {
  const started = performance.now()
  try {
    await run()
    return { status: 'up', latency_ms: Math.round((performance.now() - started) * 10) / 10 }
  } catch (err) {
    return {
      status: 'down',
      latency_ms: Math.round((performance.now() - started) * 10) / 10,
      error: err instanceof Error ? err.name : 'error',
    }
  }
}

/** GET /health: database and Redis probed in parallel, each with its latency; 503 if either is down. */
export function registerHealthRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/health', tags: ['Health'], summary: 'Liveness of the database and Redis',
      responses: {
        200: { description: 'Both up', content: { 'application/json': { schema: Health } } },
        503: { description: 'At least one down', content: { 'application/json': { schema: Health } } },
      },
    }),
    async (c) => {
      const [database, redis] = await Promise.all([
        probe(() => c.var.db.execute(sql`select 1`)),
        probe(() => c.var.redis.ping()),
      ])
      const ok = database.status === 'up' && redis.status === 'up'
      c.header('Cache-Control', 'no-store')
      return c.json({ status: ok ? 'ok' : 'degraded', checks: { database, redis } } as const, ok ? 200 : 503)
    },
  )
}
