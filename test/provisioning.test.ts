import { env } from 'cloudflare:test'
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { tenantMigrations } from '../migrations/index.ts'
import { uuidv7 } from '../src/db/ids.ts'
import { tenants } from '../src/db/public-schema.ts'
import { tenantTables } from '../src/db/tenant-schema.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { provisionTenant } from '../src/tenancy/registry.ts'
import { createTenant, uniqueSlug } from './support.ts'
import { getTableConfig } from 'drizzle-orm/pg-core'

const db = () => connectDatabase(env.DATABASE_URL as string, env.NEON_FETCH_ENDPOINT as string)

async function schemaExists(name: string) {
  const r = await db().execute(sql`select 1 from information_schema.schemata where schema_name = ${name}`)
  return r.rows.length === 1
}

async function columnsOf(schema: string, table: string) {
  const r = await db().execute<{ column_name: string; data_type: string; is_nullable: string }>(
    sql`select column_name, data_type, is_nullable from information_schema.columns where table_schema = ${schema} and table_name = ${table} order by column_name`,
  )
  return r.rows
}

describe('provisioning', () => {
  it('creates the schema with every table and records the migration version', async () => {
    const t = await createTenant()
    expect(await schemaExists(t.schema_name)).toBe(true)
    const versions = await db().select().from(tenantTables(t.schema_name).schemaMigrations)
    expect(versions.map((v) => v.version)).toEqual(tenantMigrations.map((m) => m.version))
  })

  it('keeps the TypeScript table definitions and the migrations in step, column by column', async () => {
    const t = await createTenant()
    for (const [key, table] of Object.entries(tenantTables(t.schema_name))) {
      const config = getTableConfig(table)
      const actual = await columnsOf(t.schema_name, config.name)
      expect(actual.map((c) => c.column_name), key).toEqual(config.columns.map((c) => c.name).sort())
      for (const column of config.columns) {
        const found = actual.find((c) => c.column_name === column.name)!
        expect(found.is_nullable === 'YES', `${config.name}.${column.name} nullability`).toBe(!column.notNull)
      }
    }
  })

  it("keeps each tenant's rows in its own schema", async () => {
    const a = await createTenant()
    const b = await createTenant()
    expect(a.schema_name).not.toBe(b.schema_name)
    const logA = tenantTables(a.schema_name).auditLog
    const logB = tenantTables(b.schema_name).auditLog
    await db().insert(logA).values({ id: uuidv7(), actorType: 'system', action: 'test.only_in_a' })
    expect(await db().select().from(logA).where(eq(logA.action, 'test.only_in_a'))).toHaveLength(1)
    expect(await db().select().from(logB).where(eq(logB.action, 'test.only_in_a'))).toHaveLength(0)
    // Provisioning wrote each tenant's own creation event into its own log.
    const created = await db().select().from(logB).where(eq(logB.action, 'tenant.created'))
    expect(created.map((e) => e.targetId)).toEqual([b.id])
  })

  it('leaves neither schema nor registry row behind when a migration fails', async () => {
    const slug = uniqueSlug('broken')
    const broken = { version: 999, name: 'broken', up: (s: string) => [`create table ${s}.ok_table (id int)`, 'select * from no_such_table'] }
    await expect(
      provisionTenant(db(), { slug, name: 'Broken' }, { actorType: 'system' }, { dataKey: env.DATA_ENCRYPTION_KEY as string }, [...tenantMigrations, broken]),
    ).rejects.toThrow()
    expect(await db().select().from(tenants).where(eq(tenants.slug, slug))).toHaveLength(0)
    const leftovers = await db().execute(
      sql`select schema_name from information_schema.schemata s where not exists (select 1 from public.tenants t where t.schema_name = s.schema_name) and s.schema_name like 'tenant\\_%'`,
    )
    expect(leftovers.rows).toEqual([])
  })
})
