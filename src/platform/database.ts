import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle, type NeonHttpDatabase } from 'drizzle-orm/neon-http'
import { callSignal } from './deadline.ts'
import { DependencyUnavailable } from './dependency-errors.ts'

export type Database = NeonHttpDatabase<Record<string, never>>

export interface DatabaseOptions {
  /** Deadline of one SQL request (a query or a batch), in ms. */
  timeoutMs: number
}

const DEFAULT_OPTIONS: DatabaseOptions = { timeoutMs: 10_000 }

const databases = new Map<string, Database>()
let options = DEFAULT_OPTIONS

/**
 * A Drizzle database over Neon's SQL-over-HTTP driver.
 *
 * `fetchEndpoint` points the driver at another URL speaking the same protocol (the local
 * endpoint in development). The driver only reads it, and its `fetchFunction`, from the global
 * `neonConfig` (@neondatabase/serverless src/shims/net/index.ts), which is fine: one isolate
 * serves one env.
 */
export function connectDatabase(url: string, fetchEndpoint?: string, connectOptions?: DatabaseOptions): Database {
  if (fetchEndpoint) neonConfig.fetchEndpoint = fetchEndpoint
  // Like the endpoint, the deadline is per isolate: a caller without options keeps the configured one.
  if (connectOptions) options = connectOptions
  neonConfig.fetchFunction = sqlFetch
  const key = `${fetchEndpoint ?? ''} ${url}`
  let db = databases.get(key)
  if (!db) {
    db = drizzle({ client: neon(url) })
    databases.set(key, db)
  }
  return db
}

/**
 * Every SQL request goes through here (the driver's `fetchFunction`):
 * - it gets a deadline: SQL_TIMEOUT_MS, cut short by the request's budget (src/platform/deadline.ts);
 * - a failure to reach the database, a deadline, or a server error (5xx, 429) becomes
 *   DependencyUnavailable('database'), answered 503 `database_unavailable` by the error handler;
 * - a read-only request (every statement a SELECT) is sent once more after a connection-level
 *   failure ("Network connection lost", a refused connection): it cannot have changed anything.
 *   A write is never re-sent here, because it may have committed before the connection dropped;
 *   batches that are safe to repeat say so with `retryIdempotent`.
 * Postgres errors (HTTP 400 with a SQLSTATE) pass through untouched for the callers to map.
 */
async function sqlFetch(url: string, init: RequestInit): Promise<Response> {
  const readOnly = typeof init.body === 'string' && isReadOnly(init.body)
  for (let attempt = 1; ; attempt++) {
    const signal = callSignal(options.timeoutMs)
    let res: Response
    try {
      res = await fetch(url, { ...init, signal })
    } catch (err) {
      if (signal.aborted) throw new DependencyUnavailable('database', 'timeout', `no answer within the deadline (${options.timeoutMs} ms or the request budget)`, { cause: err })
      if (readOnly && attempt === 1) continue
      throw new DependencyUnavailable('database', 'unreachable', String(err), { cause: err })
    }
    if (res.status >= 500 || res.status === 429) {
      const text = await res.text().catch(() => '')
      throw new DependencyUnavailable('database', 'server_error', `HTTP ${res.status}: ${text.slice(0, 200)}`)
    }
    return res
  }
}

const READ = /^\s*(select|show|values)\b/i

/** True when every statement of a Neon request body (`{query}` or `{queries: [...]}`) only reads. */
export function isReadOnly(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { query?: unknown; queries?: { query?: unknown }[] }
    const queries = Array.isArray(parsed.queries) ? parsed.queries.map((q) => q.query) : [parsed.query]
    return queries.length > 0 && queries.every((q) => typeof q === 'string' && READ.test(q))
  } catch {
    return false
  }
}

/**
 * Runs a database step that is safe to repeat (guarded by a conditional write or an
 * idempotency key) once more if the first attempt could not reach the database. Whatever the
 * first attempt did, the second finds it done and changes nothing.
 */
export async function retryIdempotent<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (err) {
    const failure = findUnreachable(err)
    if (!failure) throw err
    return step()
  }
}

function findUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof DependencyUnavailable) return e.dependency === 'database' && e.kind === 'unreachable'
    e = (e as Error & { sourceError?: unknown }).sourceError ?? e.cause
  }
  return false
}
