/**
 * One local endpoint in its own process for the bench (bench/stack.ts spawns it), so that its CPU
 * is not the load generator's and can be read apart from it. Env: BENCH_ENDPOINT (`sql` | `redis`),
 * BENCH_ENDPOINT_TOKEN (redis), ATRIUM_BENCH_DATABASE_URL (sql: a real database; embedded PGlite in
 * memory otherwise), ATRIUM_LOCAL_REDIS_URL (redis: a real server). Prints one JSON line
 * `{"ready":true,"url":…,"port":…}` once it listens; stops on SIGTERM or when its parent goes away.
 */
import { startRedisServer } from '../local/redis-server.ts'
import { startSqlServer } from '../local/sql-server.ts'

const which = process.env.BENCH_ENDPOINT
const endpoint =
  which === 'sql'
    ? await startSqlServer({ port: 0, postgresUrl: process.env.ATRIUM_BENCH_DATABASE_URL || undefined })
    : which === 'redis'
      ? await startRedisServer({ port: 0, token: process.env.BENCH_ENDPOINT_TOKEN!, redisUrl: process.env.ATRIUM_LOCAL_REDIS_URL || undefined })
      : undefined
if (!endpoint) throw new Error(`BENCH_ENDPOINT must be sql or redis, got ${which}`)

const stop = () => void endpoint.close().finally(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
process.once('disconnect', stop)
console.log(JSON.stringify({ ready: true, url: endpoint.url, port: endpoint.port }))
