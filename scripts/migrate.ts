/**
 * `npm run db:migrate`: bring `public` (Drizzle Kit migrations in drizzle/) and every tenant
 * schema (migrations/) up to date. Idempotent; safe to re-run after a failure halfway.
 *
 * Reads DATABASE_URL and NEON_FETCH_ENDPOINT like the Worker does; with neither set it uses
 * the local endpoint of `npm run dev` (http://127.0.0.1:4444/sql).
 */
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { fileURLToPath } from 'node:url'
import { tenantMigrations } from '../migrations/index.ts'
import { migratePublic } from '../src/db/public-migrations.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { migrateTenants, type TenantMigrationReport } from '../src/tenancy/migrate-tenants.ts'

const LOCAL_DATABASE_URL = 'postgres://atrium:atrium@127.0.0.1:4444/atrium'
const LOCAL_ENDPOINT = 'http://127.0.0.1:4444/sql'

export interface MigrateOptions {
  databaseUrl?: string
  fetchEndpoint?: string
  log?: (line: string) => void
}

export async function migrateAll(options: MigrateOptions = {}): Promise<{ publicApplied: number; tenants: TenantMigrationReport[] }> {
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL ?? LOCAL_DATABASE_URL
  const fetchEndpoint = options.fetchEndpoint ?? process.env.NEON_FETCH_ENDPOINT ?? (process.env.DATABASE_URL ? undefined : LOCAL_ENDPOINT)
  const log = options.log ?? (() => {})
  const db = connectDatabase(databaseUrl, fetchEndpoint)

  const folder = fileURLToPath(new URL('../drizzle', import.meta.url))
  const { applied } = await migratePublic(db, readMigrationFiles({ migrationsFolder: folder }))
  log(`public: ${applied.length ? `applied ${applied.length} migration(s)` : 'up to date'}`)

  const tenants = await migrateTenants(db, tenantMigrations, {
    onReport: (r) =>
      log(
        r.error
          ? `tenant ${r.tenant}: FAILED (${r.error})`
          : `tenant ${r.tenant}: ${r.applied.length ? `v${r.from} → v${r.to}` : `up to date at v${r.to}`}`,
      ),
  })
  const failed = tenants.filter((t) => t.error).length
  log(`${tenants.length} tenant schema(s), ${failed} failed`)
  return { publicApplied: applied.length, tenants }
}

if (import.meta.main) {
  const result = await migrateAll({ log: (line) => console.log(line) })
  if (result.tenants.some((t) => t.error)) process.exitCode = 1
}
