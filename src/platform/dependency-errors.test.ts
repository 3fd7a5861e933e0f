import { describe, expect, it } from 'vitest'
import { isReadOnly } from './database.ts'
import { dependencyFailure, DependencyUnavailable } from './dependency-errors.ts'
import { cacheFailure } from './redis.ts'

/** The shapes the drivers wrap errors in: NeonDbError keeps the fetch failure in `sourceError`, Drizzle the driver's error in `cause`. */
function neonError(message: string, sourceError?: unknown) {
  const err = new Error(message) as Error & { sourceError?: unknown }
  err.name = 'NeonDbError'
  err.sourceError = sourceError
  return err
}
function drizzleError(cause: unknown) {
  const err = new Error('Failed query: select 1', { cause })
  err.name = 'DrizzleQueryError'
  return err
}

describe('dependencyFailure', () => {
  it('finds the outage the platform client raised, through the driver wrappers', () => {
    const outage = new DependencyUnavailable('database', 'unreachable', 'Network connection lost.')
    expect(dependencyFailure(drizzleError(neonError('Error connecting to database', outage)))).toBe(outage)
  })

  it('reads a deadline that fired while the driver read the body as a database timeout', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    const found = dependencyFailure(drizzleError(timeout))
    expect(found?.code).toBe('database_unavailable')
    expect(found?.kind).toBe('timeout')
  })

  it('leaves Postgres errors and bugs alone (they are not outages)', () => {
    const unique = Object.assign(neonError('duplicate key value violates unique constraint'), { code: '23505' })
    expect(dependencyFailure(drizzleError(unique))).toBeUndefined()
    expect(dependencyFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined()
    // A bare TimeoutError outside the database driver is not claimed for the database.
    expect(dependencyFailure(new DOMException('aborted', 'TimeoutError'))).toBeUndefined()
  })

  it('answers 503 with the code and Retry-After of its dependency', () => {
    const db = new DependencyUnavailable('database', 'timeout', 'x')
    const cache = new DependencyUnavailable('cache', 'server_error', 'x')
    expect([db.status, db.code, db.retryAfterSeconds]).toEqual([503, 'database_unavailable', 5])
    expect([cache.status, cache.code, cache.retryAfterSeconds]).toEqual([503, 'cache_unavailable', 2])
    expect(db.message).not.toContain('x')
  })
})

describe('cacheFailure (Redis errors)', () => {
  const upstash = (message: string) => Object.assign(new Error(message), { name: 'UpstashError' })

  it('classifies no connection, a deadline, an HTTP error and a quota reply as the cache being unavailable', () => {
    expect(cacheFailure(new TypeError('Network connection lost.'), 1000)?.kind).toBe('unreachable')
    expect(cacheFailure(new DOMException('timed out', 'TimeoutError'), 1000)?.kind).toBe('timeout')
    expect(cacheFailure(upstash('injected failure, command was: [["get","k"]]'), 1000)?.kind).toBe('server_error')
    expect(cacheFailure(upstash('ERR max requests limit exceeded. Limit: 10000, Usage: 10000'), 1000)?.code).toBe('cache_unavailable')
    expect(cacheFailure(Object.assign(new Error('<html>502</html>'), { name: 'UpstashJSONParseError' }), 1000)?.kind).toBe('unreachable')
  })

  it('passes Redis command errors through unchanged: bugs, and NOSCRIPT drives @upstash/ratelimit’s fallback', () => {
    expect(cacheFailure(upstash('WRONGTYPE Operation against a key holding the wrong kind of value'), 1000)).toBeUndefined()
    expect(cacheFailure(upstash('NOSCRIPT No matching script. Please use EVAL.'), 1000)).toBeUndefined()
    expect(cacheFailure(upstash("ERR wrong number of arguments for 'get' command"), 1000)).toBeUndefined()
  })
})

describe('isReadOnly (what may be sent again after a dropped connection)', () => {
  const one = (query: string) => JSON.stringify({ query, params: [] })
  const batch = (...queries: string[]) => JSON.stringify({ queries: queries.map((query) => ({ query, params: [] })) })

  it('is true for SELECTs alone, single or batched', () => {
    expect(isReadOnly(one('select "id" from "tenants" where "slug" = $1'))).toBe(true)
    expect(isReadOnly(batch('select 1', '  SELECT version from t'))).toBe(true)
  })

  it('is false as soon as one statement may write', () => {
    expect(isReadOnly(one('insert into t values (1)'))).toBe(false)
    expect(isReadOnly(one('with d as (delete from t returning id) select * from d'))).toBe(false)
    expect(isReadOnly(batch('select 1', 'update t set x = 1'))).toBe(false)
    expect(isReadOnly(batch())).toBe(false)
    expect(isReadOnly('not json')).toBe(false)
  })
})
