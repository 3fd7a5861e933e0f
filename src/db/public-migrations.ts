import { sql } from 'drizzle-orm'
import type { Database } from '../platform/database.ts'

/** A Drizzle Kit migration as `readMigrationFiles` (drizzle-orm/migrator) returns it. */
export interface PublicMigration {
  hash: string
  folderMillis: number
  sql: string[]
}

/**
 * Apply Drizzle Kit's migrations to `public`, keeping Drizzle's own journal table
 * (drizzle.__drizzle_migrations) so `drizzle-kit` stays in step. Unlike drizzle-orm's
 * neon-http migrator, which runs statements one by one and records them at the end, each
 * migration here is one batch with its journal row: a failure halfway leaves nothing
 * half-applied, and a re-run resumes at the first missing migration.
 */
export async function migratePublic(db: Database, migrations: readonly PublicMigration[]): Promise<{ applied: string[] }> {
  await db.batch([
    db.execute(sql`create schema if not exists drizzle`),
    db.execute(
      sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
    ),
  ])
  const done = await db.execute<{ hash: string }>(sql`select hash from drizzle.__drizzle_migrations`)
  const appliedHashes = new Set(done.rows.map((r) => r.hash))
  const applied: string[] = []
  for (const m of [...migrations].sort((a, b) => a.folderMillis - b.folderMillis)) {
    if (appliedHashes.has(m.hash)) continue
    await db.batch([
      ...m.sql.filter((s) => s.trim()).map((s) => db.execute(sql.raw(s))),
      db.execute(sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${m.hash}, ${m.folderMillis})`),
    ] as unknown as Parameters<Database['batch']>[0])
    applied.push(m.hash)
  }
  return { applied }
}
