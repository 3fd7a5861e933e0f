import { describe, expect, it } from 'vitest'
import { addMember, adminToken, apiKey, auditEntries, call, customRole, PASSWORD, PLATFORM, signUp } from './support.ts'

const patch = (host: string, token: string | undefined, body: unknown, headers?: Record<string, string>) => call(`${host}/v1/tenant`, { method: 'PATCH', body, token, headers })

describe('PATCH /v1/tenant (tenant:update)', () => {
  it('lets the owner rename the tenant and merge its settings (RFC 7396); the next request sees the change; audited', async () => {
    const o = await signUp()
    const first = await patch(o.host, o.access_token, { name: 'Acme Renamed', settings: { signup_policy: 'open', password_policy: { min_length: 12 }, brand: { color: 'teal', logo: 'x.png' } } })
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.body).toMatchObject({ id: o.tenant.id, slug: o.tenant.slug, name: 'Acme Renamed', settings: { signup_policy: 'open', password_policy: { min_length: 12 }, brand: { color: 'teal', logo: 'x.png' } } })

    const second = await patch(o.host, o.access_token, { settings: { brand: { logo: null }, password_policy: null } })
    expect(second.status).toBe(200)
    expect(second.body.settings).toEqual({ signup_policy: 'open', brand: { color: 'teal' } })

    // The cache was cleared: the tenant host answers the new name, and the new sign-up policy applies at once.
    expect((await call(`${o.host}/v1/tenant`)).body.name).toBe('Acme Renamed')
    const joined = await call(`${o.host}/v1/auth/register`, { body: { email: `${crypto.randomUUID()}@example.com`, password: PASSWORD } })
    expect(joined.status).toBe(201)
    // The platform sees the same tenant.
    const platform = await call(`${PLATFORM}/v1/tenants/${o.tenant.id}`, { token: adminToken() })
    expect(platform.body.settings).toEqual({ signup_policy: 'open', brand: { color: 'teal' } })

    const audit = (await auditEntries(o.tenant.id)).filter((e) => e.action === 'tenant.updated')
    expect(audit).toHaveLength(2)
    expect(audit[0]).toMatchObject({ actorType: 'user', actorId: o.user.id, targetId: o.tenant.id, details: { fields: ['name', 'settings'] } })
  })

  it('validates settings with the platform’s schema, and refuses what the platform keeps to itself', async () => {
    const o = await signUp()
    const bodies = [
      {},
      { settings: { signup_policy: 'everyone' } },
      { settings: { password_policy: { min_length: 3 } } },
      { settings: { rate_limit: { max: 1_000_000, window_seconds: 1 } } },
      { settings: { oauth: { google: { enabled: true } } } },
      { plan: 'enterprise' },
      { name: '' },
      { settings: 'open' },
    ]
    for (const body of bodies) {
      const res = await patch(o.host, o.access_token, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const unchanged = await call(`${PLATFORM}/v1/tenants/${o.tenant.id}`, { token: adminToken() })
    expect(unchanged.body.settings).toEqual({})
    expect(unchanged.body.plan).toBe('free')
  })

  it('needs tenant:update: a member is refused, a custom role or API key holding it is let through', async () => {
    const o = await signUp()
    const m = await addMember(o, 'member')
    const refused = await patch(o.host, m.access_token, { name: 'Mine now' })
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'tenant:update' } })

    await customRole(o, 'tenant-editor', ['tenant:update'])
    const key = await apiKey(o, ['tenant-editor'])
    const byKey = await patch(o.host, undefined, { name: 'Renamed by key' }, key.headers)
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(200)
    const audit = (await auditEntries(o.tenant.id)).filter((e) => e.action === 'tenant.updated')
    expect(audit.at(-1)).toMatchObject({ actorType: 'api_key', actorId: key.id })
  })

  it('answers 401 without credentials and to another tenant’s token; 404 on the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await patch(a.host, undefined, { name: 'x' })).status).toBe(401)
    const crossed = await patch(b.host, a.access_token, { name: 'Taken over' })
    expect(crossed.status).toBe(401)
    expect(crossed.body.error.code).toBe('invalid_token')
    expect((await patch(PLATFORM, undefined, { name: 'x' })).status).toBe(404)
    expect((await call(`${b.host}/v1/tenant`)).body.name).not.toBe('Taken over')
  })
})

describe('GET /v1/tenant', () => {
  it('tells a signed-in caller its role and Atrium permissions here; settings only to those who may change them', async () => {
    const o = await signUp()
    const m = await addMember(o, 'member')
    const anonymous = await call(`${o.host}/v1/tenant`)
    expect(anonymous.status).toBe(200)
    expect(Object.keys(anonymous.body).sort()).toEqual(['created_at', 'id', 'name', 'plan', 'slug', 'status'])

    const owner = await call(`${o.host}/v1/tenant`, { token: o.access_token })
    expect(owner.body).toMatchObject({ id: o.tenant.id, role: 'owner', settings: {} })
    expect(owner.body.permissions).toEqual(expect.arrayContaining(['tenant:update', 'members:invite', 'audit:read']))

    const member = await call(`${o.host}/v1/tenant`, { token: m.access_token })
    expect(member.body.role).toBe('member')
    expect(member.body.permissions.sort()).toEqual(['members:read', 'resource_types:read', 'roles:read', 'tenant:read'])
    expect(member.body.settings).toBeUndefined()

    const key = await apiKey(o, ['member'])
    const byKey = await call(`${o.host}/v1/tenant`, { headers: key.headers })
    expect(byKey.body).toMatchObject({ role: null, permissions: expect.arrayContaining(['tenant:read']) })
  })

  it('refuses another tenant’s token rather than describing the caller there', async () => {
    const a = await signUp()
    const b = await signUp()
    const res = await call(`${b.host}/v1/tenant`, { token: a.access_token })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('invalid_token')
  })
})
