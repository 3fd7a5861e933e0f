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

/** The version a tenant schema is at: 0 when it has no journal yet. */
export async function schemaVersion(db: Database, schemaName: string): Promise<number> {
  try {
    const result = await db.execute<{ version: number }>(
      sql`select coalesce(max(version), 0)::int as version from ${sql.identifier(schemaName)}.schema_migrations`,
    )
    return Number(result.rows[0]?.version ?? 0)
  } catch (err) {
    if (isPgError(err, '42P01')) return 0 // undefined_table: the schema predates the journal
    throw err
  }
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
  const from = await schemaVersion(db, schemaName)
  const applied: number[] = []
  for (const m of sorted(migrations)) {
    if (m.version <= from) continue
    await db.batch([
      db.execute(sql.raw(journal(s))),
      ...m.up(s).map((stmt) => db.execute(sql.raw(stmt))),
      db.execute(record(schemaName, m)),
    ])
    applied.push(m.version)
  }
  return { from, to: applied.at(-1) ?? from, applied }
}
