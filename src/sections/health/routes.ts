import { createRoute, z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import type { sectionRouter } from '../../openapi.ts'
import { dependencyFailure } from '../../platform/dependency-errors.ts'
import { json } from '../../openapi.ts'

const Check = z.object({
  status: z.enum(['up', 'slow', 'down']).openapi({ description: '`slow`: answered, but above HEALTH_SLOW_MS; `down`: failed or past its deadline' }),
  latency_ms: z.number(),
  error: z.string().optional().openapi({ description: 'The error code when down (`database_unavailable`, `cache_unavailable`) or its name' }),
})
const Health = z.object({ status: z.enum(['ok', 'degraded']), checks: z.object({ database: Check, redis: Check }) }).openapi('Health')

async function probe(run: () => Promise<unknown>, slowMs: number): Promise<z.infer<typeof Check>> {
  const started = performance.now()
  const latency = () => Math.round((performance.now() - started) * 10) / 10
  try {
    await run()
    const latency_ms = latency()
    return { status: latency_ms > slowMs ? 'slow' : 'up', latency_ms }
  } catch (err) {
    return { status: 'down', latency_ms: latency(), error: dependencyFailure(err)?.code ?? (err instanceof Error ? err.name : 'error') }
  }
}

/**
 * GET /health: database and Redis probed in parallel, each with its latency and under the same
 * deadlines as every other call (SQL_TIMEOUT_MS, REDIS_TIMEOUT_MS), so a hung dependency reads as
 * down within its deadline. `degraded` when either is slow (above HEALTH_SLOW_MS) or down; the
 * status code is 503 only when one is down, so that a slow but working stack stays in rotation.
 */
export function registerHealthRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/health', tags: ['Health'], summary: 'Liveness and latency of the database and Redis',
      responses: {
        200: json(Health, 'Both answer (`degraded` if one is slow)'),
        503: json(Health, 'At least one down or past its deadline'),
      },
    }),
    async (c) => {
      const slowMs = c.var.config.HEALTH_SLOW_MS
      const [database, redis] = await Promise.all([
        probe(() => c.var.db.execute(sql`select 1`), slowMs),
        probe(() => c.var.redis.ping(), slowMs),
      ])
      const down = database.status === 'down' || redis.status === 'down'
      const ok = database.status === 'up' && redis.status === 'up'
      c.header('Cache-Control', 'no-store')
      return c.json({ status: ok ? 'ok' : 'degraded', checks: { database, redis } } as const, down ? 503 : 200)
    },
  )
}
