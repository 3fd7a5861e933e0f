import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { tenantMigrations } from '../migrations/index.ts'
import { MATRIX_TIMEOUT_MS, sqlFaultMatrix } from './fault-matrix.ts'
import { adminToken, call, database, faults, newEmail, type Owner, PLATFORM, signUp, uniqueSlug } from './support.ts'

afterEach(async () => {
  await faults('sql', { mode: 'off' })
})

const count = async (query: ReturnType<typeof sql>) => Number((await database().execute<{ n: number }>(query)).rows[0]!.n)
const schemaOf = (tenantId: string) => `tenant_${tenantId.replaceAll('-', '')}`

describe('SQL failing at every request index of a creation (client retries with its Idempotency-Key)', () => {
  it('provisioning a tenant: one registry row, a complete schema, one audit entry — at every fault point', async () => {
    const points = await sqlFaultMatrix({
      prepare: async () => ({ slug: uniqueSlug('fm'), key: crypto.randomUUID() }),
      act: (f) => call(`${PLATFORM}/v1/tenants`, { body: { slug: f.slug, name: 'Fault matrix' }, token: adminToken(), headers: { 'idempotency-key': f.key } }),
      check: async (f) => {
        expect(await count(sql`select count(*)::int as n from public.tenants where slug = ${f.slug}`)).toBe(1)
        const [tenant] = (await database().execute<{ id: string }>(sql`select id from public.tenants where slug = ${f.slug}`)).rows
        const s = sql.identifier(schemaOf(tenant!.id))
        expect(await count(sql`select count(*)::int as n from ${s}.schema_migrations`)).toBe(tenantMigrations.length)
        expect(await count(sql`select count(*)::int as n from ${s}.audit_log where action = 'tenant.created'`)).toBe(1)
      },
    })
    expect(points.some((p) => p.first === 503)).toBe(true)
  }, MATRIX_TIMEOUT_MS)

  it('inviting: one invitation and one audit entry — at every fault point', async () => {
    let owner: Owner | undefined
    await sqlFaultMatrix({
      prepare: async () => {
        owner ??= await signUp()
        return { owner, email: newEmail(), key: crypto.randomUUID() }
      },
      act: (f) => call(`${f.owner.host}/v1/invitations`, { body: { email: f.email, role: 'member' }, token: f.owner.access_token, headers: { 'idempotency-key': f.key } }),
      check: async (f) => {
        const s = sql.identifier(schemaOf(f.owner.tenant.id))
        expect(await count(sql`select count(*)::int as n from ${s}.invitations where email = ${f.email}`)).toBe(1)
        const [invitation] = (await database().execute<{ id: string }>(sql`select id from ${s}.invitations where email = ${f.email}`)).rows
        expect(await count(sql`select count(*)::int as n from ${s}.audit_log where action = 'member.invited' and target_id = ${invitation!.id}`)).toBe(1)
      },
    })
  }, MATRIX_TIMEOUT_MS)
})
