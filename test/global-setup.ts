import pg from 'pg'
import { startRedisServer, type RedisServer } from '../local/redis-server.ts'
import { startSqlServer, type SqlServer } from '../local/sql-server.ts'
import { migrateAll } from '../scripts/migrate.ts'

/**
 * Starts the local Neon and Upstash endpoints for the Worker tests and migrates the database.
 * Embedded PGlite and the embedded Redis store by default; the real servers when
 * ATRIUM_LOCAL_POSTGRES_URL / ATRIUM_LOCAL_REDIS_URL are set (then a fresh database is
 * created for this run and dropped afterwards).
 */
export default async function setup() {
  const sqlPort = Number(process.env.ATRIUM_TEST_SQL_PORT)
  const redisPort = Number(process.env.ATRIUM_TEST_REDIS_PORT)
  const token = process.env.ATRIUM_TEST_REDIS_TOKEN!

  let postgresUrl: string | undefined
  let dropDatabase = async () => {}
  const realPostgres = process.env.ATRIUM_LOCAL_POSTGRES_URL
  if (realPostgres) {
    const name = `atrium_test_${Date.now()}_${process.pid}`
    const admin = new pg.Client({ connectionString: realPostgres })
    await admin.connect()
    await admin.query(`create database ${name}`)
    await admin.end()
    const url = new URL(realPostgres)
    url.pathname = `/${name}`
    postgresUrl = url.toString()
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: realPostgres })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    }
  }

  let sql: SqlServer | undefined
  let redis: RedisServer | undefined
  try {
    sql = await startSqlServer({ port: sqlPort, postgresUrl })
    redis = await startRedisServer({ port: redisPort, token, redisUrl: process.env.ATRIUM_LOCAL_REDIS_URL })
    await migrateAll({ databaseUrl: `postgres://atrium:atrium@127.0.0.1:${sqlPort}/atrium`, fetchEndpoint: sql.url })
  } catch (err) {
    await sql?.close()
    await redis?.close()
    await dropDatabase()
    throw err
  }

  return async () => {
    await redis?.close()
    await sql?.close()
    await dropDatabase()
  }
}
