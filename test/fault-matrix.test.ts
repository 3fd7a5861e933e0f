import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { tenantMigrations } from '../migrations/index.ts'
import { MATRIX_TIMEOUT_MS, sqlFaultMatrix } from './fault-matrix.ts'
import { authzVersionKey } from '../src/authz/cache.ts'
import { revokedKey } from '../src/changes/effects.ts'
import { connectRedis } from '../src/platform/redis.ts'
import { addMember, adminToken, call, database, faults, invite, newEmail, type Owner, PASSWORD, PLATFORM, signUp, uniqueSlug } from './support.ts'

afterEach(async () => {
  await faults('sql', { mode: 'off' })
})

const count = async (query: ReturnType<typeof sql>) => Number((await database().execute<{ n: number }>(query)).rows[0]!.n)
const schemaOf = (tenantId: string) => `tenant_${tenantId.replaceAll('-', '')}`
const redis = () => connectRedis(env.UPSTASH_REDIS_REST_URL as string, env.UPSTASH_REDIS_REST_TOKEN as string)
const sessionOf = (token: string) => JSON.parse(atob(token.split('.')[1]!.replaceAll('-', '+').replaceAll('_', '/'))).sid as string

/** The tenant's authorization version is published: Redis holds the version the database holds. */
async function versionPublished(tenantId: string) {
  const [row] = (await database().execute<{ version: number }>(sql`select version from ${sql.identifier(schemaOf(tenantId))}.authz_state`)).rows
  expect(Number(await redis().get(authzVersionKey(tenantId)))).toBe(Number(row!.version))
}


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
  it('creating an API key: one key, one audit entry, its version published — at every fault point', async () => {
    let owner: Owner | undefined
    await sqlFaultMatrix({
      prepare: async () => {
        owner ??= await signUp()
        return { owner, name: `fm-${crypto.randomUUID().slice(0, 8)}`, key: crypto.randomUUID() }
      },
      act: (f) => call(`${f.owner.host}/v1/api-keys`, { body: { name: f.name, roles: ['member'] }, token: f.owner.access_token, headers: { 'idempotency-key': f.key } }),
      check: async (f) => {
        const s = sql.identifier(schemaOf(f.owner.tenant.id))
        expect(await count(sql`select count(*)::int as n from ${s}.api_keys where name = ${f.name}`)).toBe(1)
        const [key] = (await database().execute<{ id: string }>(sql`select id from ${s}.api_keys where name = ${f.name}`)).rows
        expect(await count(sql`select count(*)::int as n from ${s}.audit_log where action = 'api_key.created' and target_id = ${key!.id}`)).toBe(1)
        await versionPublished(f.owner.tenant.id)
      },
    })
  }, MATRIX_TIMEOUT_MS)
})

describe('SQL failing at every request index of a change whose follow-ups are durable effects', () => {
  it('platform sign-up: one account, one workspace it owns, its version published — at every fault point', async () => {
    await sqlFaultMatrix({
      prepare: async () => ({ email: newEmail() }),
      act: (f) => call(`${PLATFORM}/v1/auth/register`, { body: { email: f.email, password: PASSWORD } }),
      check: async (f, point, answers) => {
        const done = answers.retry ?? answers.first
        expect(done.status, `${point.index}: ${JSON.stringify(done.body)}`).toBe(201)
        expect(await count(sql`select count(*)::int as n from public.users where email = ${f.email}`)).toBe(1)
        const owned = (await database().execute<{ tenant_id: string }>(sql`
          select m.tenant_id from public.memberships m join public.users u on u.id = m.user_id where u.email = ${f.email} and m.role = 'owner'`)).rows
        expect(owned.map((r) => r.tenant_id)).toEqual([done.body.tenant.id])
        expect((await call(`${PLATFORM}/v1/auth/login`, { body: { email: f.email, password: PASSWORD } })).status).toBeLessThan(300)
        await versionPublished(done.body.tenant.id)
      },
    })
  }, MATRIX_TIMEOUT_MS)

  it('accepting an invitation: one membership with the invited role, its entry, its version published — at every fault point', async () => {
    let owner: Owner | undefined
    await sqlFaultMatrix({
      prepare: async () => {
        owner ??= await signUp()
        const email = newEmail()
        const { token } = await invite(owner.host, owner.access_token, email, 'admin')
        return { owner, email, token }
      },
      act: (f) => call(`${f.owner.host}/v1/invitations/accept`, { body: { token: f.token, password: PASSWORD, name: 'Joiner' } }),
      check: async (f, point, answers) => {
        const done = answers.retry ?? answers.first
        expect(done.status, `${point.index}: ${JSON.stringify(done.body)}`).toBe(200)
        const s = sql.identifier(schemaOf(f.owner.tenant.id))
        const userId = done.body.user.id as string
        expect(await count(sql`select count(*)::int as n from ${s}.members where user_id = ${userId} and role = 'admin' and status = 'active'`)).toBe(1)
        expect(await count(sql`select count(*)::int as n from public.memberships where user_id = ${userId} and tenant_id = ${f.owner.tenant.id}`)).toBe(1)
        expect(await count(sql`select count(*)::int as n from ${s}.audit_log where action = 'member.joined' and target_id = ${userId}`)).toBe(1)
        // In effect: the new admin's very first check sees the membership.
        expect((await call(`${f.owner.host}/v1/api-keys`, { token: done.body.access_token })).status).toBe(200)
        await versionPublished(f.owner.tenant.id)
      },
    })
  }, MATRIX_TIMEOUT_MS)

  it('demoting an admin: the role changes, and the demoted admin is refused at once — at every fault point', async () => {
    let owner: Owner | undefined
    await sqlFaultMatrix({
      prepare: async () => {
        owner ??= await signUp()
        const admin = await addMember(owner, 'admin')
        // Its rights are cached (model loaded) before the change.
        expect((await call(`${owner.host}/v1/api-keys`, { token: admin.access_token })).status).toBe(200)
        return { owner, admin }
      },
      act: (f) => call(`${f.owner.host}/v1/members/${f.admin.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: f.owner.access_token }),
      check: async (f) => {
        const s = sql.identifier(schemaOf(f.owner.tenant.id))
        expect(await count(sql`select count(*)::int as n from ${s}.members where user_id = ${f.admin.user.id} and role = 'member'`)).toBe(1)
        expect(await count(sql`select count(*)::int as n from public.memberships where user_id = ${f.admin.user.id} and role = 'member'`)).toBe(1)
        expect(await count(sql`select count(*)::int as n from ${s}.audit_log where action = 'member.role_changed' and target_id = ${f.admin.user.id}`)).toBe(1)
        expect((await call(`${f.owner.host}/v1/api-keys`, { token: f.admin.access_token })).status).toBe(403)
        await versionPublished(f.owner.tenant.id)
      },
    })
  }, MATRIX_TIMEOUT_MS)

  it('removing a member: the rows go, every session of theirs ends, their token is refused — at every fault point', async () => {
    let owner: Owner | undefined
    await sqlFaultMatrix({
      prepare: async () => {
        owner ??= await signUp()
        const member = await addMember(owner)
        expect((await call(`${owner.host}/v1/me`, { token: member.access_token })).status).toBe(200)
        return { owner, member }
      },
      act: (f) => call(`${f.owner.host}/v1/members/${f.member.user.id}`, { method: 'DELETE', token: f.owner.access_token }),
      // A retry of a removal the failed attempt committed finds nobody to remove: done for the client.
      retryDone: (r) => r.status === 204 || r.status === 404,
      check: async (f) => {
        const s = sql.identifier(schemaOf(f.owner.tenant.id))
        expect(await count(sql`select count(*)::int as n from ${s}.members where user_id = ${f.member.user.id}`)).toBe(0)
        expect(await count(sql`select count(*)::int as n from public.memberships where user_id = ${f.member.user.id} and tenant_id = ${f.owner.tenant.id}`)).toBe(0)
        expect(await count(sql`select count(*)::int as n from ${s}.sessions where user_id = ${f.member.user.id} and revoked_at is null`)).toBe(0)
        expect(await count(sql`select count(*)::int as n from ${s}.audit_log where action = 'member.removed' and target_id = ${f.member.user.id}`)).toBe(1)
        expect((await call(`${f.owner.host}/v1/me`, { token: f.member.access_token })).status).toBe(401)
        expect(await redis().exists(revokedKey(sessionOf(f.member.access_token)))).toBe(1)
        await versionPublished(f.owner.tenant.id)
      },
    })
  }, MATRIX_TIMEOUT_MS)

  it('logging out: the session ends and its access token is refused everywhere — at every fault point', async () => {
    let owner: Owner | undefined
    await sqlFaultMatrix({
      prepare: async () => {
        owner ??= await signUp()
        const login = await call(`${owner.host}/v1/auth/login`, { body: { email: owner.email, password: PASSWORD } })
        expect(login.status).toBe(200)
        return { owner, token: login.body.access_token as string }
      },
      act: (f) => call(`${f.owner.host}/v1/auth/logout`, { method: 'POST', token: f.token }),
      // A retry after a logout that committed is refused (401): the session is over, done for the client.
      retryDone: (r) => r.status === 204 || r.status === 401,
      check: async (f) => {
        const s = sql.identifier(schemaOf(f.owner.tenant.id))
        const sid = sessionOf(f.token)
        expect(await count(sql`select count(*)::int as n from ${s}.sessions where id = ${sid} and revoked_at is not null`)).toBe(1)
        expect((await call(`${f.owner.host}/v1/me`, { token: f.token })).status).toBe(401)
        expect(await redis().exists(revokedKey(sid))).toBe(1)
      },
    })
  }, MATRIX_TIMEOUT_MS)
})
