import { sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../platform/database.ts'
import { quotedSchema } from './tenant-schema.ts'
import { isPgError } from './pg-errors.ts'

/** One version of the tenant schema. `up` receives the quoted schema identifier. */
export interface TenantMigration {
  version: number
  name: string
  up: (quotedSchema: string) => string[]
}

const journal = (s: string) =>
  `create table if not exists ${s}.schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`

const record = (schemaName: string, m: TenantMigration): SQL =>
  sql`insert into ${sql.identifier(schemaName)}.schema_migrations (version, name) values (${m.version}, ${m.name})`

function sorted(migrations: readonly TenantMigration[]): TenantMigration[] {
  return [...migrations].sort((a, b) => a.version - b.version)
}

/** Everything that creates a tenant schema at the latest version: run it inside the provisioning batch. */
export function schemaCreation(db: Database, schemaName: string, migrations: readonly TenantMigration[]): BatchItem<'pg'>[] {
  const s = quotedSchema(schemaName)
  return [
    db.execute(sql.raw(`create schema ${s}`)),
    db.execute(sql.raw(journal(s))),
    ...sorted(migrations).flatMap((m) => [...m.up(s).map((stmt) => db.execute(sql.raw(stmt))), db.execute(record(schemaName, m))]),
  ]
}

/** The versions recorded in a tenant schema's journal (empty when it has no journal yet). */
export async function appliedVersions(db: Database, schemaName: string): Promise<Set<number>> {
  try {
    const result = await db.execute<{ version: number }>(sql`select version from ${sql.identifier(schemaName)}.schema_migrations`)
    return new Set(result.rows.map((r) => Number(r.version)))
  } catch (err) {
    if (isPgError(err, '42P01')) return new Set() // undefined_table: the schema predates the journal
    throw err
  }
}

/** The highest version applied to a tenant schema: 0 when none. */
export async function schemaVersion(db: Database, schemaName: string): Promise<number> {
  return Math.max(0, ...(await appliedVersions(db, schemaName)))
}

export interface SchemaMigrationResult {
  from: number
  to: number
  applied: number[]
}

/**
 * Bring one tenant schema up to date. Each migration is one batch (one transaction) together
 * with its journal row, so a failure leaves the schema at the last complete version and a
 * re-run resumes there. A concurrent runner loses on the journal's primary key and rolls back.
 */
export async function migrateTenantSchema(
  db: Database,
  schemaName: string,
  migrations: readonly TenantMigration[],
): Promise<SchemaMigrationResult> {
  const s = quotedSchema(schemaName)
  const done = await appliedVersions(db, schemaName)
  const from = Math.max(0, ...done)
  const applied: number[] = []
  // Every missing version is applied, in order — not only those above the highest: migrations
  // written on parallel branches may land with lower numbers after a higher one shipped.
  for (const m of sorted(migrations)) {
    if (done.has(m.version)) continue
    await db.batch([
      db.execute(sql.raw(journal(s))),
      ...m.up(s).map((stmt) => db.execute(sql.raw(stmt))),
      db.execute(record(schemaName, m)),
    ])
    applied.push(m.version)
  }
  return { from, to: Math.max(from, ...applied), applied }
}
