import { sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { queuePublish } from '../authz/cache.ts'
import { uuidv7 } from '../db/ids.ts'
import { apiKeyCacheKey, forgetApiKeyLocally } from '../identity/api-keys.ts'
import type { Database } from '../platform/database.ts'
import type { Redis } from '../platform/redis.ts'
import { forgetTenantLocally, tenantCacheKeys } from '../tenancy/directory.ts'
import type { Tenant } from '../tenancy/registry.ts'

/**
 * Durable effects: what a committed change owes to the caches, written as a row of
 * `public.pending_effects` in the change's own batch (so it exists if and only if the change
 * committed) and applied to Redis until done: right after the commit, then by every drain
 * (drain.ts). Applying is idempotent — SET with the remaining lifetime, a monotonic publish, a
 * DEL — so an effect applied twice, late or out of order leaves Redis as applying it once would.
 *
 * Redis is a cache: nothing here is needed while Redis is down (the readers fall back to the
 * database then). The rows are what makes a cache that missed a write trustworthy again.
 */

export type EffectKind = 'sessions_revoked' | 'authz_version' | 'tenant_changed' | 'api_key_revoked'

/** Redis key whose presence means the session's access tokens must be refused. */
export const revokedKey = (sessionId: string) => `revoked:sid:${sessionId}`

/** One effect of a change, for `commitChange` (its payload is built in SQL, inside the change's transaction). */
export interface Effect {
  kind: EffectKind
  tenantId: string | null
  /** jsonb expression, evaluated after the change's statements (it may aggregate over `from`). */
  payload: SQL
  from?: SQL
  /** Only then (for an aggregate over `from`: a HAVING). */
  having?: SQL
  when?: SQL
  /** Keep the row this long after it is applied (revocations: as long as an access token lives). */
  keepSeconds?: number
}

/**
 * The sessions `revoked` (a query answering their `id`, e.g. those revoked by this transaction:
 * `revoked_at = now()`) must be refused by every isolate: `revoked:sid:<id>` in Redis for as long
 * as one of their access tokens can live (`keepSeconds`: ACCESS_TOKEN_TTL + 60 s).
 */
export function sessionsRevoked(tenant: Pick<Tenant, 'id'>, revoked: SQL, keepSeconds: number): Effect {
  return {
    kind: 'sessions_revoked',
    tenantId: tenant.id,
    payload: sql`jsonb_build_object('sessions', jsonb_agg(r.id))`,
    from: sql`(${revoked}) r`,
    having: sql`count(*) > 0`,
    keepSeconds,
  }
}

/**
 * The tenant's authorization model changed: publish the version its `authz_state` holds after the
 * change (bumped by the change or by the 0006 triggers on members and API keys).
 */
export function authzVersionChanged(tenant: Pick<Tenant, 'id' | 'schemaName'>): Effect {
  return {
    kind: 'authz_version',
    tenantId: tenant.id,
    payload: sql`jsonb_build_object('version', (select version from ${sql.identifier(tenant.schemaName)}.authz_state limit 1))`,
  }
}

/** The tenant's registry row changed (status, settings, name, purge): its cached copies go. */
export function tenantChanged(tenant: Pick<Tenant, 'id' | 'slug'>): Effect {
  return { kind: 'tenant_changed', tenantId: tenant.id, payload: sql`jsonb_build_object('slug', ${tenant.slug}::text)` }
}

/** An API key was revoked: its cached principal goes (`keyHash`: SQL answering the key's hash, in the change's transaction). */
export function apiKeyRevoked(tenant: Pick<Tenant, 'id'>, keyHash: SQL): Effect {
  return { kind: 'api_key_revoked', tenantId: tenant.id, payload: sql`jsonb_build_object('key_hash', (${keyHash}))` }
}

/** API keys were revoked (`keyHashes`: a query answering their `key_hash`, e.g. those revoked by this transaction). */
export function apiKeysRevoked(tenant: Pick<Tenant, 'id'>, keyHashes: SQL): Effect {
  return {
    kind: 'api_key_revoked',
    tenantId: tenant.id,
    payload: sql`jsonb_build_object('key_hashes', jsonb_agg(r.key_hash))`,
    from: sql`(${keyHashes}) r`,
    having: sql`count(*) > 0`,
  }
}

/** Column names the effect inserts answer with, so `effectsIn` can find them in a batch's results. */
const COLUMNS = ['effect_id', 'effect_kind', 'effect_tenant', 'effect_payload', 'effect_ttl'] as const

/** An effect row as applied: `ttl` is the seconds left to keep it (revocations), computed by the database. */
export interface EffectRow {
  id: string
  kind: string
  tenantId: string | null
  payload: Record<string, unknown>
  ttl: number | null
}

/** SQL answering the columns of an EffectRow, for a RETURNING or a SELECT over pending_effects. */
export const EFFECT_COLUMNS = sql.raw(
  `id as effect_id, kind as effect_kind, tenant_id as effect_tenant, payload as effect_payload,
   case when keep_until is null then null else greatest(0, floor(extract(epoch from keep_until - now())))::int end as effect_ttl`,
)

/** The statement that records `effect` in the batch of its change, only if `gate` (and its own `when`) hold. */
export function effectStatement(db: Database, effect: Effect, gate?: SQL): BatchItem<'pg'> {
  const conditions = [effect.when, gate].filter((c): c is SQL => c !== undefined)
  const keep = effect.keepSeconds === undefined ? sql`null::timestamptz` : sql`now() + make_interval(secs => ${effect.keepSeconds})`
  return db.execute(sql`
    insert into public.pending_effects (id, kind, tenant_id, payload, keep_until)
    select ${uuidv7()}::uuid, ${effect.kind}, ${effect.tenantId}::uuid, ${effect.payload}, ${keep}
    ${effect.from ? sql`from ${effect.from}` : sql``}
    ${conditions.length ? sql`where ${sql.join(conditions, sql` and `)}` : sql``}
    ${effect.having ? sql`having ${effect.having}` : sql``}
    returning ${EFFECT_COLUMNS}`)
}

interface RawResult {
  fields?: Array<{ name: string }>
  rows?: unknown[]
}

/** Rows of a result answering EFFECT_COLUMNS (the HTTP driver answers batch rows as arrays or objects). */
export function effectRowsOf(result: unknown): EffectRow[] {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return []
  const { fields, rows } = result as RawResult
  if (!Array.isArray(fields) || !Array.isArray(rows) || fields.length !== COLUMNS.length || fields.some((f, i) => f.name !== COLUMNS[i])) return []
  return rows.map(effectRowFrom)
}

/** One row answering EFFECT_COLUMNS, as an array (batch results) or an object (a query's). */
export function effectRowFrom(row: unknown): EffectRow {
  const values = Array.isArray(row) ? row : COLUMNS.map((c) => (row as Record<string, unknown>)[c])
  const payload = typeof values[3] === 'string' ? JSON.parse(values[3]) : values[3]
  const ttl = values[4] === null || values[4] === undefined ? null : Number(values[4])
  return { id: String(values[0]), kind: String(values[1]), tenantId: values[2] == null ? null : String(values[2]), payload: (payload ?? {}) as Record<string, unknown>, ttl }
}

/** Every effect row written by a batch, wherever its statements sit. */
export function effectsIn(batchResults: readonly unknown[]): EffectRow[] {
  return batchResults.flatMap(effectRowsOf)
}

/**
 * Apply effects to Redis in one pipeline. Answers the ids it applied (an unknown kind — written by
 * a newer deployment — is left pending for it). Throws when Redis fails: the rows stay pending.
 */
export async function applyEffects(redis: Redis, rows: readonly EffectRow[]): Promise<string[]> {
  const pipe = redis.pipeline()
  let commands = 0
  const applied: string[] = []
  const local: Array<() => void> = []
  for (const row of rows) {
    switch (row.kind) {
      case 'sessions_revoked': {
        const sessions = Array.isArray(row.payload.sessions) ? (row.payload.sessions as string[]) : []
        // Past its keep_until no access token of these sessions can be valid: nothing to write.
        if (row.ttl !== null && row.ttl > 0) {
          for (const id of sessions) pipe.set(revokedKey(id), 1, { ex: row.ttl })
          commands += sessions.length
        }
        break
      }
      case 'authz_version': {
        const version = Number(row.payload.version)
        if (row.tenantId && Number.isFinite(version)) {
          queuePublish(pipe, row.tenantId, version)
          commands++
        }
        break
      }
      case 'tenant_changed': {
        const tenant = { id: row.tenantId ?? '', slug: String(row.payload.slug ?? '') }
        if (tenant.id) {
          pipe.del(...tenantCacheKeys(tenant))
          commands++
          local.push(() => forgetTenantLocally(tenant))
        }
        break
      }
      case 'api_key_revoked': {
        const hashes = [row.payload.key_hash, ...(Array.isArray(row.payload.key_hashes) ? row.payload.key_hashes : [])].filter((h): h is string => typeof h === 'string')
        const tenantId = row.tenantId
        if (tenantId && hashes.length) {
          pipe.del(...hashes.map((h) => apiKeyCacheKey(tenantId, h)))
          commands++
          local.push(() => hashes.forEach((h) => forgetApiKeyLocally(tenantId, h)))
        }
        break
      }
      default:
        continue
    }
    applied.push(row.id)
  }
  for (const forget of local) forget()
  if (commands) await pipe.exec()
  return applied
}

/** Mark effects applied (a revocation's row stays until its keep_until, for a Redis that lost its data). */
export function markApplied(db: Database, ids: readonly string[]) {
  return db.execute(sql`
    update public.pending_effects set applied_at = now()
    where id = any(${sql`array[${sql.join(ids.map((id) => sql`${id}`), sql`, `)}]::uuid[]`}) and applied_at is null`)
}
