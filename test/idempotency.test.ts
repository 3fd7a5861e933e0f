import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { addMember, adminToken, call, database, faults, newEmail, type Owner, PLATFORM, signUp, uniqueSlug } from './support.ts'

afterEach(async () => {
  await faults('sql', { mode: 'off' })
})

const key = () => `k-${crypto.randomUUID()}`
const withKey = (k: string) => ({ 'idempotency-key': k })

async function tenantsWithSlug(slug: string): Promise<number> {
  const rows = await database().execute<{ n: number }>(sql`select count(*)::int as n from public.tenants where slug = ${slug}`)
  return Number(rows.rows[0]!.n)
}

async function rowsIn(owner: Owner, table: 'api_keys' | 'webhooks' | 'invitations', where: { column: string; value: string }): Promise<number> {
  const schema = `tenant_${owner.tenant.id.replaceAll('-', '')}`
  const rows = await database().execute<{ n: number }>(
    sql`select count(*)::int as n from ${sql.identifier(schema)}.${sql.identifier(table)} where ${sql.identifier(where.column)} = ${where.value}`,
  )
  return Number(rows.rows[0]!.n)
}

describe('Idempotency-Key on POST /v1/tenants (platform, keys in public)', () => {
  const create = (k: string, body: unknown) => call(`${PLATFORM}/v1/tenants`, { body, token: adminToken(), headers: withKey(k) })

  it('answers the first answer again for the same key and body, and creates once', async () => {
    const k = key()
    const slug = uniqueSlug()
    const first = await create(k, { slug, name: 'Once' })
    expect(first.status).toBe(201)
    const again = await create(k, { name: 'Once', slug }) // same body, keys in another order
    expect(again.status).toBe(201)
    expect(again.body).toEqual(first.body)
    expect(again.headers.get('idempotency-replayed')).toBe('true')
    expect(again.headers.get('location')).toBe(`/v1/tenants/${first.body.id}`)
    expect(await tenantsWithSlug(slug)).toBe(1)
  })

  it('refuses the same key with another body: 422 idempotency_key_reused', async () => {
    const k = key()
    expect((await create(k, { slug: uniqueSlug(), name: 'A' })).status).toBe(201)
    const other = await create(k, { slug: uniqueSlug(), name: 'B' })
    expect(other.status).toBe(422)
    expect(other.body.error.code).toBe('idempotency_key_reused')
  })

  it('creates exactly once under concurrent duplicates', async () => {
    const k = key()
    const slug = uniqueSlug()
    const answers = await Promise.all(Array.from({ length: 6 }, () => create(k, { slug, name: 'Concurrent' })))
    const created = answers.filter((a) => a.status === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    for (const a of answers) {
      if (a.status === 201) expect(a.body.id).toBe(created[0]!.body.id)
      else {
        expect(a.status).toBe(409)
        expect(a.body.error.code).toBe('idempotency_in_progress')
        expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      }
    }
    expect(await tenantsWithSlug(slug)).toBe(1)
  })

  it('releases the key after an error answer: the corrected request runs', async () => {
    const k = key()
    const invalid = await create(k, { slug: 'NOT A SLUG', name: 'Bad' })
    expect(invalid.status).toBe(400)
    const slug = uniqueSlug()
    expect((await create(k, { slug, name: 'Good' })).status).toBe(201)
    expect(await tenantsWithSlug(slug)).toBe(1)
  })

  it('never creates twice when the answer could not be stored after the commit: the retry learns where the resource is', async () => {
    const k = key()
    const slug = uniqueSlug()
    // SQL requests of the creation: 1 claim, 2 the provisioning batch (marks the key committed), 3 storing the answer.
    await faults('sql', { mode: 'fail', status: 503, after: 2, count: 1 })
    const first = await create(k, { slug, name: 'Lost answer' })
    expect(first.status).toBe(201)
    // Within the lease the key reads as still in progress (the answer is normally being stored)…
    const soon = await create(k, { slug, name: 'Lost answer' })
    expect(soon.status).toBe(409)
    expect(soon.body.error.code).toBe('idempotency_in_progress')
    // …and once the lease is over (moved to now here rather than waited for), as committed.
    await database().execute(sql`update public.idempotency_keys set locked_until = now() where scope = 'platform' and key = ${k}`)
    const retry = await create(k, { slug, name: 'Lost answer' })
    expect(retry.status).toBe(409)
    expect(retry.body.error.code).toBe('idempotency_key_committed')
    expect(retry.body.error.details.location).toBe(`/v1/tenants/${first.body.id}`)
    expect(await tenantsWithSlug(slug)).toBe(1)
  })

  it('lets the retry create when the creation batch never reached the database', async () => {
    const k = key()
    const slug = uniqueSlug()
    await faults('sql', { mode: 'drop', after: 1, count: 1 }) // the provisioning batch
    const first = await create(k, { slug, name: 'Dropped' })
    expect(first.status).toBe(503)
    expect(first.body.error.code).toBe('database_unavailable')
    const retry = await create(k, { slug, name: 'Dropped' })
    expect(retry.status).toBe(201)
    expect(await tenantsWithSlug(slug)).toBe(1)
  })

  it('refuses a malformed key with 400 idempotency_key_invalid', async () => {
    const res = await create('has space', { slug: uniqueSlug(), name: 'X' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('idempotency_key_invalid')
  })

  it('is documented in /openapi.json', async () => {
    const doc = (await call(`${PLATFORM}/openapi.json`)).body
    for (const path of ['/v1/tenants', '/v1/api-keys', '/v1/webhooks', '/v1/invitations']) {
      const params = doc.paths[path].post.parameters as { name: string; in: string }[]
      expect(params.some((p) => p.name === 'idempotency-key' && p.in === 'header'), path).toBe(true)
    }
  })
})

describe('Idempotency-Key on tenant creation endpoints (keys in the tenant schema)', () => {
  it('API keys: concurrent duplicates create one key, and every success answer carries the same secret', async () => {
    const owner = await signUp()
    const k = key()
    const name = `idem ${k}`
    const answers = await Promise.all(Array.from({ length: 5 }, () =>
      call(`${owner.host}/v1/api-keys`, { body: { name, roles: ['member'] }, token: owner.access_token, headers: withKey(k) })))
    const created = answers.filter((a) => a.status === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    for (const a of created) expect(a.body).toEqual(created[0]!.body)
    for (const a of answers.filter((x) => x.status !== 201)) expect(a.body.error.code).toBe('idempotency_in_progress')
    const replay = await call(`${owner.host}/v1/api-keys`, { body: { name, roles: ['member'] }, token: owner.access_token, headers: withKey(k) })
    expect(replay.status).toBe(201)
    expect(replay.body.secret).toBe(created[0]!.body.secret)
    expect(await rowsIn(owner, 'api_keys', { column: 'name', value: name })).toBe(1)
  })

  it('webhooks: a replay answers the same id and signing secret; one webhook exists', async () => {
    const owner = await signUp()
    const k = key()
    const body = { url: 'https://hooks.example.com/atrium', events: ['member.invited'] }
    const first = await call(`${owner.host}/v1/webhooks`, { body, token: owner.access_token, headers: withKey(k) })
    expect(first.status).toBe(201)
    const again = await call(`${owner.host}/v1/webhooks`, { body, token: owner.access_token, headers: withKey(k) })
    expect(again.body).toEqual(first.body)
    expect(await rowsIn(owner, 'webhooks', { column: 'url', value: body.url })).toBe(1)
  })

  it('invitations: concurrent duplicates send one mail and create one invitation', async () => {
    const owner = await signUp()
    const email = newEmail()
    const k = key()
    const answers = await Promise.all(Array.from({ length: 4 }, () =>
      call(`${owner.host}/v1/invitations`, { body: { email, role: 'member' }, token: owner.access_token, headers: withKey(k) })))
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(1)
    for (const a of answers.filter((x) => x.status !== 201)) expect([409]).toContain(a.status)
    const again = await call(`${owner.host}/v1/invitations`, { body: { email, role: 'member' }, token: owner.access_token, headers: withKey(k) })
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotency-replayed')).toBe('true')
    expect(await rowsIn(owner, 'invitations', { column: 'email', value: email })).toBe(1)
    const mail = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent(email)}`)
    expect(mail.body.messages).toHaveLength(1)
  })

  it('keeps keys apart per caller and per tenant: the same key elsewhere is a new request', async () => {
    const a = await signUp()
    const b = await signUp()
    const admin = await addMember(a, 'admin')
    const k = key()
    const make = (host: string, token: string, name: string) =>
      call(`${host}/v1/api-keys`, { body: { name, roles: ['member'] }, token, headers: withKey(k) })
    const fromA = await make(a.host, a.access_token, 'same key A')
    const fromB = await make(b.host, b.access_token, 'same key B')
    const fromAdmin = await make(a.host, admin.access_token, 'same key admin')
    expect([fromA.status, fromB.status, fromAdmin.status]).toEqual([201, 201, 201])
    expect(new Set([fromA.body.id, fromB.body.id, fromAdmin.body.id]).size).toBe(3)
    // Tenant B's owner cannot replay tenant A's answer (and its secret) with A's key.
    const crossTenant = await call(`${b.host}/v1/api-keys`, { body: { name: 'same key A', roles: ['member'] }, token: b.access_token, headers: withKey(k) })
    expect(crossTenant.status).toBe(422)
    expect(JSON.stringify(crossTenant.body)).not.toContain(fromA.body.secret)
  })

  it('still requires authentication and the permission before looking at the key', async () => {
    const owner = await signUp()
    const member = await addMember(owner, 'member')
    const k = key()
    expect((await call(`${owner.host}/v1/api-keys`, { body: { name: 'x', roles: ['member'] }, headers: withKey(k) })).status).toBe(401)
    expect((await call(`${owner.host}/v1/api-keys`, { body: { name: 'x', roles: ['member'] }, token: member.access_token, headers: withKey(k) })).status).toBe(403)
  })
})
