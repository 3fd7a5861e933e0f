import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { call, newEmail, openTenant, PASSWORD, PLATFORM, signUp, tenantOrigin } from './support.ts'

async function createKey(o: { host: string; access_token: string }, body: Record<string, unknown> = { name: 'ci', roles: ['member'] }) {
  return call(`${o.host}/v1/api-keys`, { body, token: o.access_token })
}

describe('API keys', () => {
  it('creates a key whose secret is shown once, prefixed atr_, and lists it without the secret', async () => {
    const o = await signUp()
    const created = await createKey(o, { name: 'deploy bot', roles: ['admin', 'member', 'admin'] })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^atr_[A-Za-z0-9_-]{43}$/)
    expect(created.body).toMatchObject({ name: 'deploy bot', roles: ['admin', 'member'], prefix: created.body.secret.slice(0, 12), created_by: o.user.id, last_used_at: null })
    const list = await call(`${o.host}/v1/api-keys`, { token: o.access_token })
    expect(list.body.data).toHaveLength(1)
    expect(list.body.data[0]).not.toHaveProperty('secret')
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret)
    const one = await call(`${o.host}/v1/api-keys/${created.body.id}`, { token: o.access_token })
    expect(one.body.id).toBe(created.body.id)
  })

  it('authenticates with X-API-Key or Authorization: Bearer on its own tenant host, rate-limited as itself', async () => {
    const o = await signUp()
    const { body } = await createKey(o)
    const viaHeader = await call(`${o.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })
    expect(viaHeader.status).toBe(200)
    expect(viaHeader.headers.get('ratelimit-limit')).toBeTruthy()
    expect((await call(`${o.host}/v1/tenant`, { token: body.secret })).status).toBe(200)
    const listed = await call(`${o.host}/v1/api-keys/${body.id}`, { token: o.access_token })
    expect(listed.body.last_used_at).not.toBeNull()
  })

  it('is refused on another tenant’s host and on the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    const { body } = await createKey(a)
    const other = await call(`${b.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })
    expect(other.status).toBe(401)
    expect(other.body.error.code).toBe('invalid_token')
    expect((await call(`${PLATFORM}/v1/tenant`, { headers: { 'x-api-key': body.secret } })).status).toBe(401)
    // B's admin cannot see or revoke A's key either.
    expect((await call(`${b.host}/v1/api-keys/${body.id}`, { token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/api-keys/${body.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
    expect((await call(`${a.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })).status).toBe(200)
  })

  it('is accepted on the platform host with X-Tenant-ID naming its own tenant, where the header is allowed', async () => {
    const a = await signUp()
    const b = await signUp()
    const { body } = await createKey(a)
    const withHeader = async (tenant: string | undefined, allow: 'true' | 'false') => {
      const headers: Record<string, string> = { 'x-api-key': body.secret }
      if (tenant) headers['x-tenant-id'] = tenant
      const res = await createApp().fetch(new Request(`${PLATFORM}/v1/tenant`, { headers }), { ...env, ALLOW_TENANT_HEADER: allow }, { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext)
      return { status: res.status, body: (await res.json()) as any }
    }
    const own = await withHeader(a.tenant.slug, 'true')
    expect(own.status).toBe(200)
    expect(own.body.id).toBe(a.tenant.id)
    // The header names where the key is looked up: another tenant does not know it.
    expect((await withHeader(b.tenant.slug, 'true')).body.error.code).toBe('invalid_token')
    expect((await withHeader(undefined, 'true')).status).toBe(401)
    expect((await withHeader(a.tenant.slug, 'false')).body.error.code).toBe('tenant_header_not_allowed')
  })

  it('stops working at once when revoked', async () => {
    const o = await signUp()
    const { body } = await createKey(o)
    expect((await call(`${o.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })).status).toBe(200)
    const revoked = await call(`${o.host}/v1/api-keys/${body.id}`, { method: 'DELETE', token: o.access_token })
    expect(revoked.status).toBe(200)
    expect(revoked.body.revoked_at).not.toBeNull()
    const after = await call(`${o.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })
    expect(after.status).toBe(401)
    expect((await call(`${o.host}/v1/api-keys`, { token: o.access_token })).body.data).toHaveLength(0)
    expect((await call(`${o.host}/v1/api-keys?include_revoked=true`, { token: o.access_token })).body.data).toHaveLength(1)
  })

  it('stops working after its expiry', async () => {
    const o = await signUp()
    // Long enough that the first call lands before the expiry even when the machine is busy (files run in parallel).
    const expiresAt = Date.now() + 6000
    const { body } = await createKey(o, { name: 'short', roles: ['member'], expires_at: new Date(expiresAt).toISOString() })
    expect((await call(`${o.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })).status).toBe(200)
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 200))
    const res = await call(`${o.host}/v1/tenant`, { headers: { 'x-api-key': body.secret } })
    expect(res.status).toBe(401)
    expect(res.body.error.message).toBe('The API key has expired.')
  })

  it('refuses malformed keys, bad input, unknown roles, the owner role, and members without api_keys:create', async () => {
    const o = await signUp()
    expect((await call(`${o.host}/v1/tenant`, { headers: { 'x-api-key': 'atr_short' } })).status).toBe(401)
    expect((await createKey(o, { name: '', roles: ['member'] })).status).toBe(400)
    expect((await createKey(o, { name: 'x', roles: [] })).status).toBe(400)
    const unknown = await createKey(o, { name: 'x', roles: ['wizard'] })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toMatchObject({ code: 'unknown_role', message: expect.stringContaining('wizard'), details: { roles: ['wizard'] } })
    const asOwner = await createKey(o, { name: 'x', roles: ['member', 'owner'] })
    expect(asOwner.status).toBe(400)
    expect(asOwner.body.error.code).toBe('invalid_role')
    expect((await createKey(o, { name: 'x', roles: ['member'], expires_at: '2001-01-01T00:00:00Z' })).status).toBe(400)
    expect((await call(`${o.host}/v1/api-keys`)).status).toBe(401)
    const open = await openTenant()
    const member = await call(`${tenantOrigin(open.slug)}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    const refused = await call(`${tenantOrigin(open.slug)}/v1/api-keys`, { body: { name: 'x', roles: ['member'] }, token: member.body.access_token })
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'api_keys:create' } })
    const listing = await call(`${tenantOrigin(open.slug)}/v1/api-keys`, { token: member.body.access_token })
    expect(listing.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'api_keys:read' } })
  })

  it('refuses a request that carries both an access token and an API key', async () => {
    const o = await signUp()
    const { body } = await createKey(o)
    const res = await call(`${o.host}/v1/tenant`, { token: o.access_token, headers: { 'x-api-key': body.secret } })
    expect(res.status).toBe(400)
  })
})
