import { asc, inArray } from 'drizzle-orm'
import { tenants } from '../db/public-schema.ts'
import { migrateTenantSchema, type TenantMigration } from '../db/tenant-migrations.ts'
import type { Database } from '../platform/database.ts'

export interface TenantMigrationReport {
  tenant: string
  schema: string
  from?: number
  to?: number
  applied: number[]
  error?: string
}

/**
 * Bring every tenant schema (or the named ones) up to date, one tenant after another.
 * A tenant that fails is reported and the run goes on; re-running resumes each schema
 * at its own last complete version.
 */
export async function migrateTenants(
  db: Database,
  migrations: readonly TenantMigration[],
  options: { tenantIds?: string[]; onReport?: (r: TenantMigrationReport) => void } = {},
): Promise<TenantMigrationReport[]> {
  const rows = await db
    .select({ id: tenants.id, slug: tenants.slug, schemaName: tenants.schemaName })
    .from(tenants)
    .where(options.tenantIds ? inArray(tenants.id, options.tenantIds) : undefined)
    .orderBy(asc(tenants.id))
  const reports: TenantMigrationReport[] = []
  for (const row of rows) {
    let report: TenantMigrationReport
    try {
      const result = await migrateTenantSchema(db, row.schemaName, migrations)
      report = { tenant: row.slug, schema: row.schemaName, ...result }
    } catch (err) {
      report = { tenant: row.slug, schema: row.schemaName, applied: [], error: err instanceof Error ? err.message : String(err) }
    }
    reports.push(report)
    options.onReport?.(report)
  }
  return reports
}
