/**
 * The local endpoints for a test run, in their own Node process (test/global-setup.ts spawns
 * it): the Worker tests' Vite config resolves packages for workerd, which would hand the
 * Node-side servers browser builds. Prints one JSON line `{"ready":true}` once the endpoints
 * listen and the database is migrated; stops on SIGTERM (or when its parent goes away).
 *
 * Env: ATRIUM_TEST_SQL_PORT, ATRIUM_TEST_REDIS_PORT, ATRIUM_TEST_REDIS_TOKEN,
 * and optionally ATRIUM_TEST_DATABASE_URL (a database URL to use as is) / ATRIUM_LOCAL_REDIS_URL, and
 * ATRIUM_TEST_PGLITE_DIR (keep the embedded database in that directory, so that a restarted stack
 * finds its data: the fault suite's kill-and-restart).
 */
import { migrateAll } from '../scripts/migrate.ts'
import { startRedisServer } from './redis-server.ts'
import { startSqlServer } from './sql-server.ts'

const sqlPort = Number(process.env.ATRIUM_TEST_SQL_PORT)
const redisPort = Number(process.env.ATRIUM_TEST_REDIS_PORT)
const token = process.env.ATRIUM_TEST_REDIS_TOKEN!

const sql = await startSqlServer({
  port: sqlPort,
  postgresUrl: process.env.ATRIUM_TEST_DATABASE_URL || undefined,
  dataDir: process.env.ATRIUM_TEST_PGLITE_DIR || undefined,
})
const redis = await startRedisServer({ port: redisPort, token, redisUrl: process.env.ATRIUM_LOCAL_REDIS_URL })
try {
  await migrateAll({ databaseUrl: `postgres://atrium:atrium@127.0.0.1:${sqlPort}/atrium`, fetchEndpoint: sql.url })
} catch (err) {
  console.error(err)
  await Promise.allSettled([sql.close(), redis.close()])
  process.exit(1)
}

async function stop() {
  await Promise.allSettled([redis.close(), sql.close()])
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
process.on('disconnect', () => void stop())
console.log(JSON.stringify({ ready: true, sql: sql.url, redis: redis.url }))
