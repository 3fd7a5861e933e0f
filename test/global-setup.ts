import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freshDatabase, freshRedisDatabase } from '../local/scratch.ts'

/**
 * Starts the local Neon and Upstash endpoints for the Worker tests (local/test-stack.ts, in a
 * child Node process) and migrates the database. Embedded PGlite and the embedded Redis store
 * by default; the real servers when ATRIUM_LOCAL_POSTGRES_URL / ATRIUM_LOCAL_REDIS_URL are set
 * (then a fresh database is created for this run and dropped afterwards, and the run has a Redis
 * logical database of its own, emptied before and after).
 */
export default async function setup() {
  // Both worker projects (vitest.config.ts) list this setup; they share one stack in this process.
  const shared = globalThis as { atriumTestStack?: { users: number; started: Promise<() => Promise<void>> } }
  shared.atriumTestStack ??= { users: 0, started: startStack() }
  const stack = shared.atriumTestStack
  stack.users += 1
  const stop = await stack.started
  return async () => {
    stack.users -= 1
    if (stack.users === 0) {
      delete shared.atriumTestStack
      await stop()
    }
  }
}

async function startStack(): Promise<() => Promise<void>> {
  let databaseUrl: string | undefined
  let dropDatabase = async () => {}
  const realPostgres = process.env.ATRIUM_LOCAL_POSTGRES_URL
  if (realPostgres) {
    const fresh = await freshDatabase(realPostgres, 'atrium_test')
    databaseUrl = fresh.url
    dropDatabase = fresh.drop
  }
  let redisUrl = process.env.ATRIUM_LOCAL_REDIS_URL || undefined
  if (redisUrl) {
    const fresh = await freshRedisDatabase(redisUrl)
    redisUrl = fresh.url
    const dropPostgres = dropDatabase
    dropDatabase = async () => {
      await fresh.release()
      await dropPostgres()
    }
  }

  const child = spawn(process.execPath, [fileURLToPath(new URL('../local/test-stack.ts', import.meta.url))], {
    env: { ...process.env, ATRIUM_TEST_DATABASE_URL: databaseUrl ?? '', ...(redisUrl ? { ATRIUM_LOCAL_REDIS_URL: redisUrl } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  try {
    await new Promise<void>((resolve, reject) => {
      let buffer = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        if (buffer.includes('"ready":true')) resolve()
      })
      void exited.then((code) => reject(new Error(`the local test stack exited with ${code} before it was ready`)))
    })
  } catch (err) {
    await dropDatabase()
    throw err
  }

  return async () => {
    child.kill('SIGTERM')
    await exited
    await dropDatabase()
  }
}
