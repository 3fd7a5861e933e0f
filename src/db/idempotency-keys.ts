import { sql, type SQL } from 'drizzle-orm'
import type { Database } from '../platform/database.ts'

/** How long a key answers for its first request. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600
/**
 * How long a claimed key waits for its request before another attempt may take it over. Longer
 * than any request can wait on its backends (REQUEST_BUDGET_MS, 20 s by default), so a live request
 * never loses its claim; only a request that died does.
 */
export const IDEMPOTENCY_LEASE_SECONDS = 60

/** Retry-After of a 409 idempotency_in_progress. */
const IN_FLIGHT_RETRY_SECONDS = 1

/** `public.idempotency_keys` for platform routes, `<tenant schema>.idempotency_keys` for tenant routes. */
export type KeyTable = SQL

export const keyTable = (schemaName: string): KeyTable => sql`${sql.identifier(schemaName)}.idempotency_keys`

export interface KeyRef {
  table: KeyTable
  /** The caller the key belongs to: `platform`, `user:<id>`, `api_key:<id>`. Keys of different callers never meet. */
  scope: string
  key: string
}

export type ClaimOutcome =
  | { kind: 'claimed' }
  | { kind: 'reused' }
  | { kind: 'in_progress'; retryAfterSeconds: number }
  | { kind: 'committed'; location: string | null }
  | { kind: 'done'; response: string }

interface KeyRow extends Record<string, unknown> {
  fingerprint: string
  claim_id: string
  state: 'started' | 'committed' | 'done'
  location: string | null
  response: string | null
  wait_seconds: number | string
  lease_over: boolean
}

/**
 * Claims the key for this request with one conditional write: a new key, an expired one, or one
 * whose previous attempt died before committing (state `started`, lease over) is taken; anything
 * else is read back and decided. Two concurrent requests with the same key cannot both claim it.
 * Safe to repeat with the same claim id (a retry that finds its own claim keeps it).
 */
export async function claimKey(db: Database, ref: KeyRef, fingerprint: string, claimId: string): Promise<ClaimOutcome> {
  const t = ref.table
  const claimed = await db.execute(sql`
    insert into ${t} as k (scope, key, fingerprint, claim_id, state, locked_until, created_at, expires_at)
    values (${ref.scope}, ${ref.key}, ${fingerprint}, ${claimId}::uuid, 'started',
            now() + make_interval(secs => ${IDEMPOTENCY_LEASE_SECONDS}), now(), now() + make_interval(secs => ${IDEMPOTENCY_TTL_SECONDS}))
    on conflict (scope, key) do update set
      fingerprint = excluded.fingerprint, claim_id = excluded.claim_id, state = 'started', location = null, response = null,
      locked_until = excluded.locked_until, created_at = excluded.created_at, expires_at = excluded.expires_at
    where k.expires_at <= now()
       or (k.state = 'started' and k.locked_until <= now() and k.fingerprint = excluded.fingerprint)
    returning k.claim_id`)
  if (claimed.rows.length > 0) return { kind: 'claimed' }

  const found = await db.execute<KeyRow>(sql`
    select fingerprint, claim_id, state, location, response,
           greatest(1, ceil(extract(epoch from locked_until - now())))::int as wait_seconds,
           locked_until <= now() as lease_over
    from ${t} where scope = ${ref.scope} and key = ${ref.key}`)
  const row = found.rows[0]
  // Gone between the two statements (expired and cleaned up): the caller may simply try again.
  if (!row) return { kind: 'in_progress', retryAfterSeconds: 1 }
  if (row.claim_id === claimId) return { kind: 'claimed' }
  if (row.fingerprint !== fingerprint) return { kind: 'reused' }
  if (row.state === 'done' && row.response) return { kind: 'done', response: row.response }
  // Committed, answer not stored yet: the first request is normally storing it right now. Past the
  // lease it never will (its store failed, or it died): say where the resource is.
  if (row.state === 'committed' && row.lease_over) return { kind: 'committed', location: row.location }
  // A request in flight normally finishes within a second or two; the lease only matters when it died.
  return { kind: 'in_progress', retryAfterSeconds: Math.min(IN_FLIGHT_RETRY_SECONDS, Number(row.wait_seconds)) }
}

/**
 * The statement a creation puts in its own batch: the key is `committed` in the same transaction
 * as the change, so whatever happens after the commit, a retry never runs the change again.
 * `when` makes it conditional like the change itself (an insert guarded by a condition).
 */
export function committedStatement(db: Database, ref: KeyRef, claimId: string, location: string, when?: SQL) {
  return db.execute(sql`
    update ${ref.table} set state = 'committed', location = ${location}
    where scope = ${ref.scope} and key = ${ref.key} and claim_id = ${claimId}::uuid and state = 'started'
      ${when ? sql`and ${when}` : sql``}`)
}

/** Stores the first answer (encrypted) for replay. */
export async function storeResponse(db: Database, ref: KeyRef, claimId: string, sealed: string): Promise<void> {
  await db.execute(sql`
    update ${ref.table} set state = 'done', response = ${sealed}
    where scope = ${ref.scope} and key = ${ref.key} and claim_id = ${claimId}::uuid`)
}

/** Gives the key back after an attempt that changed nothing (an error answer before any commit). */
export async function releaseKey(db: Database, ref: KeyRef, claimId: string): Promise<void> {
  await db.execute(sql`
    delete from ${ref.table}
    where scope = ${ref.scope} and key = ${ref.key} and claim_id = ${claimId}::uuid and state = 'started'`)
}

/** Deletes expired keys of one table (a bounded sweep; expired keys are also overwritten on reuse). */
export async function sweepExpiredKeys(db: Database, table: KeyTable, limit = 1000): Promise<void> {
  await db.execute(sql`
    delete from ${table} where ctid in (select ctid from ${table} where expires_at <= now() limit ${limit})`)
}
