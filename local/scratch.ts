import { createServer } from 'node:net'
import pg from 'pg'

/** A free loopback port, so parallel runs on one machine never collide. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * A fresh, uniquely named database on a real Postgres (tests and benchmarks against the
 * server), with the function that drops it again. `serverUrl` names any database of the server.
 */
export async function freshDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now()}_${process.pid}`
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await run(`create database ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) }
}

/**
 * A logical database of a real Redis for one run alone (tests against the server): claims the
 * first of databases 1–15 no other run holds, empties it, and returns its URL with the function
 * that empties and releases it again. Rate-limit windows and other keys of an earlier run on the
 * same server (Redis outlives runs) then never leak into this one, nor do concurrent runs meet.
 */
export async function freshRedisDatabase(serverUrl: string): Promise<{ url: string; release: () => Promise<void> }> {
  const { default: Redis } = await import('ioredis')
  const claim = 'atrium:test-run:claim'
  const owner = `${process.pid}-${Date.now()}`
  for (let db = 1; db <= 15; db++) {
    const url = new URL(serverUrl)
    url.pathname = `/${db}`
    const redis = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await redis.connect()
      // A crashed run's claim lapses after three hours.
      if ((await redis.set(claim, owner, 'EX', 3 * 3600, 'NX')) !== 'OK') continue
      await redis.flushdb()
      await redis.set(claim, owner, 'EX', 3 * 3600)
    } finally {
      redis.disconnect()
    }
    return {
      url: url.toString(),
      release: async () => {
        const client = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 })
        try {
          await client.connect()
          if ((await client.get(claim)) === owner) await client.flushdb()
        } finally {
          client.disconnect()
        }
      },
    }
  }
  throw new Error(`every Redis database 1–15 at ${new URL(serverUrl).host} is claimed by another run (key ${claim})`)
}
