import { sql } from 'drizzle-orm'
import { tenantTables } from '../db/tenant-schema.ts'
import type { Database } from '../platform/database.ts'
import type { Tenant } from '../tenancy/registry.ts'

/** The attribute types a resource type may declare for its instances. */
export const ATTRIBUTE_TYPES = ['string', 'number', 'boolean', 'time', 'ip', 'string[]', 'number[]'] as const
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number]
export type AttributeSchema = Record<string, { type: AttributeType; description?: string }>

export type SubjectType = 'user' | 'api_key'

/**
 * Everything a decision needs, as plain JSON (tuples keep it small: it is cached in Redis and
 * parsed by every isolate that misses). Times are epoch milliseconds. Only what can still
 * matter is kept: active members, unrevoked and unexpired API keys, unexpired bindings.
 */
export interface AuthzSnapshot {
  version: number
  /** When the rows were read (epoch ms): a snapshot is trusted for SNAPSHOT_MAX_AGE_SECONDS from then. */
  builtAt: number
  types: Array<[name: string, actions: string[], attributes: AttributeSchema | null]>
  roles: Array<[id: string, name: string, permissions: string[]]>
  bindings: Array<[id: string, subjectType: SubjectType, subjectId: string, roleId: string, resourceType: string | null, resourceId: string | null, expiresAt: number | null]>
  policies: Array<[id: string, name: string, effect: 'allow' | 'deny', permission: string, conditions: unknown]>
  members: Array<[userId: string, role: string]>
  apiKeys: Array<[id: string, roles: string[], expiresAt: number | null]>
}

const epochMs = (column: ReturnType<typeof sql.raw>) => sql`(extract(epoch from ${column}) * 1000)::bigint`

/**
 * The tenant's whole model in ONE statement, so every part comes from the same snapshot of the
 * database as the version it is labelled with (a batch of selects under READ COMMITTED would
 * read each table at a different moment).
 */
export async function loadSnapshot(db: Database, tenant: Pick<Tenant, 'schemaName'>): Promise<AuthzSnapshot> {
  const s = sql.identifier(tenant.schemaName)
  const k = tenantTables(tenant.schemaName).apiKeys
  const builtAt = Date.now()
  const agg = (row: ReturnType<typeof sql>, from: ReturnType<typeof sql>) => sql`coalesce((select json_agg(json_build_array(${row})) from ${from}), '[]'::json)`
  const result = await db.execute<Record<string, unknown>>(sql`
    select
      (select version from ${s}.authz_state) as version,
      ${agg(sql`name, actions, attributes`, sql`${s}.resource_types`)} as types,
      ${agg(sql`id, name, permissions`, sql`${s}.roles`)} as roles,
      ${agg(sql`id, subject_type, subject_id, role_id, resource_type, resource_id, ${epochMs(sql.raw('expires_at'))}`, sql`${s}.role_bindings where expires_at is null or expires_at > now()`)} as bindings,
      coalesce((select json_agg(json_build_array(id, name, effect, permission, conditions) order by id) from ${s}.policies), '[]'::json) as policies,
      ${agg(sql`user_id, role`, sql`${s}.members where status = 'active'`)} as members,
      ${agg(sql`id, roles, ${epochMs(sql.raw('expires_at'))}`, sql`${k} where revoked_at is null and (expires_at is null or expires_at > now())`)} as api_keys`)
  const row = result.rows[0]!
  const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T
  return {
    version: Number(row.version),
    builtAt,
    types: json(row.types),
    roles: json(row.roles),
    bindings: json(row.bindings),
    policies: json(row.policies),
    members: json(row.members),
    apiKeys: json(row.api_keys),
  }
}

/** The model's current version in the database (one row). */
export async function databaseVersion(db: Database, tenant: Pick<Tenant, 'schemaName'>): Promise<number> {
  const t = tenantTables(tenant.schemaName).authzState
  const rows = await db.select({ version: t.version }).from(t).limit(1)
  return Number(rows[0]?.version ?? 0)
}
