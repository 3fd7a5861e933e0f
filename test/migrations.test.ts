import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { tenantMigrations } from '../migrations/index.ts'
import type { TenantMigration } from '../src/db/tenant-migrations.ts'
import { schemaVersion } from '../src/db/tenant-migrations.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { migrateTenants } from '../src/tenancy/migrate-tenants.ts'
import { createTenant, faults } from './support.ts'

const db = () => connectDatabase(env.DATABASE_URL as string, env.NEON_FETCH_ENDPOINT as string)
const latest = Math.max(...tenantMigrations.map((m) => m.version))

// Test-only versions far above the real ones, applied only to the tenants these tests create.
const extra = (n: number): TenantMigration => ({
  version: 10_000 + n,
  name: `test_${n}`,
  up: (s) => [`create table ${s}.test_table_${n} (id int primary key)`, `insert into ${s}.test_table_${n} values (${n})`],
})

afterEach(() => faults('sql', { mode: 'off' }))

describe('tenant migration list', () => {
  it('numbers its migrations 1, 2, 3… in order, each once (two branches adding the same number must not both land)', () => {
    expect(tenantMigrations.map((m) => m.version)).toEqual(tenantMigrations.map((_, i) => i + 1))
    expect(new Set(tenantMigrations.map((m) => m.name)).size).toBe(tenantMigrations.length)
  })
})

describe('tenant migration runner', () => {
  it('is idempotent: a second run applies nothing', async () => {
    const t = await createTenant()
    const migrations = [...tenantMigrations, extra(1)]
    const first = await migrateTenants(db(), migrations, { tenantIds: [t.id] })
    expect(first).toEqual([{ tenant: t.slug, schema: t.schema_name, from: latest, to: 10_001, applied: [10_001] }])
    const second = await migrateTenants(db(), migrations, { tenantIds: [t.id] })
    expect(second[0]).toMatchObject({ from: 10_001, to: 10_001, applied: [] })
  })

  it('resumes after a failure injected halfway, with no half-applied migration', async () => {
    const t = await createTenant()
    const migrations = [...tenantMigrations, extra(1), extra(2), extra(3)]
    // Let the tenant listing, the version query and the first migration's batch through, then fail the endpoint.
    await faults('sql', { mode: 'fail', status: 503, after: 3 })
    const broken = await migrateTenants(db(), migrations, { tenantIds: [t.id] })
    await faults('sql', { mode: 'off' })
    expect(broken[0]!.error).toBeTruthy()
    expect(await schemaVersion(db(), t.schema_name)).toBe(10_001)
    const tables = await db().execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = ${t.schema_name} and table_name like 'test_table_%' order by 1`,
    )
    expect(tables.rows.map((r) => r.table_name)).toEqual(['test_table_1'])

    const resumed = await migrateTenants(db(), migrations, { tenantIds: [t.id] })
    expect(resumed[0]).toMatchObject({ from: 10_001, to: 10_003, applied: [10_002, 10_003] })
    expect(resumed[0]!.error).toBeUndefined()
  })

  it('rolls back a migration whose statement fails and reports it per tenant', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const bad: TenantMigration = { version: 20_000, name: 'bad', up: (s) => [`create table ${s}.half (id int)`, 'select 1/0'] }
    const report = await migrateTenants(db(), [...tenantMigrations, bad], { tenantIds: [a.id, b.id] })
    expect(report).toHaveLength(2)
    for (const r of report) expect(r.error).toMatch(/division by zero/)
    const half = await db().execute(sql`select 1 from information_schema.tables where table_schema = ${a.schema_name} and table_name = 'half'`)
    expect(half.rows).toHaveLength(0)
    expect(await schemaVersion(db(), a.schema_name)).toBe(latest)
  })

  it('loses cleanly to a concurrent runner of the same migration', async () => {
    const t = await createTenant()
    const migrations = [...tenantMigrations, extra(7)]
    const [x, y] = await Promise.all([
      migrateTenants(db(), migrations, { tenantIds: [t.id] }),
      migrateTenants(db(), migrations, { tenantIds: [t.id] }),
    ])
    const outcomes = [x[0]!, y[0]!]
    expect(outcomes.filter((r) => r.applied.includes(10_007))).toHaveLength(1)
    expect(await schemaVersion(db(), t.schema_name)).toBe(10_007)
  })
})
