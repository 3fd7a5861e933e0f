import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { tenants } from '../src/db/public-schema.ts'
import { addMember, call, database, redis, signUp, tenantAction } from './support.ts'

/**
 * A warm request answers session state, membership and role from what the isolate holds, checked
 * against versions read in the rate limiter's Redis round trip (src/identity/session-checks.ts).
 * Each test warms those caches with the very token it uses, makes a change through the API, and
 * expects the next request, right after the change answered, to see it.
 */
describe('no stale session state, membership or role after a change', () => {
  it('refuses an access token as soon as its session is signed out', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    for (let i = 0; i < 2; i++) expect((await call(`${owner.host}/v1/me`, { token: member.access_token })).status).toBe(200)
    expect((await call(`${owner.host}/v1/auth/logout`, { method: 'POST', token: member.access_token })).status).toBe(204)
    const after = await call(`${owner.host}/v1/me`, { token: member.access_token })
    expect(after.status).toBe(401)
    expect(after.body.error.code).toBe('invalid_token')
    expect((await call(`${owner.host}/v1/tenant`, { token: member.access_token })).status).toBe(401)
  })

  it('refuses a session ended from another session of the same user', async () => {
    const owner = await signUp()
    const other = await call(`${owner.host}/v1/auth/login`, { body: { email: owner.email, password: 'correct horse battery' } })
    expect(other.status).toBe(200)
    expect((await call(`${owner.host}/v1/me`, { token: other.body.access_token })).status).toBe(200)
    const revoked = await call(`${owner.host}/v1/me/sessions/revoke-others`, { method: 'POST', token: owner.access_token })
    expect(revoked.status).toBe(200)
    expect((await call(`${owner.host}/v1/me`, { token: other.body.access_token })).status).toBe(401)
    expect((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status).toBe(200)
  })

  it('refuses a removed member at once', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    for (let i = 0; i < 2; i++) expect((await call(`${owner.host}/v1/me`, { token: member.access_token })).status).toBe(200)
    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: owner.access_token })).status).toBe(204)
    const me = await call(`${owner.host}/v1/me`, { token: member.access_token })
    expect([401, 403]).toContain(me.status)
    expect((await call(`${owner.host}/v1/members`, { token: member.access_token })).status).not.toBe(200)
  })

  it('applies a role change to the next request: a promoted member may, a demoted admin may not', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const target = await addMember(owner)
    const patch = (token: string, role: string) => call(`${owner.host}/v1/members/${target.user.id}`, { method: 'PATCH', body: { role }, token })
    // Warm: the member's view of the tenant and a refused change.
    expect((await call(`${owner.host}/v1/tenant`, { token: member.access_token })).body.role).toBe('member')
    expect((await patch(member.access_token, 'member')).status).toBe(403)

    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: owner.access_token })).status).toBe(200)
    expect((await call(`${owner.host}/v1/tenant`, { token: member.access_token })).body.role).toBe('admin')
    expect((await patch(member.access_token, 'member')).status).toBe(200)

    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: owner.access_token })).status).toBe(200)
    expect((await call(`${owner.host}/v1/tenant`, { token: member.access_token })).body.role).toBe('member')
    const refused = await patch(member.access_token, 'member')
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('permission_denied')
  })

  it('refuses every request to a suspended tenant at once, and serves it again once resumed', async () => {
    const owner = await signUp()
    for (let i = 0; i < 2; i++) expect((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status).toBe(200)
    expect((await tenantAction(owner.tenant.id, 'suspend')).status).toBe(200)
    const me = await call(`${owner.host}/v1/me`, { token: owner.access_token })
    expect(me.status).toBe(403)
    expect(me.body.error.code).toBe('tenant_suspended')
    expect((await call(`${owner.host}/v1/tenant`)).body.error.code).toBe('tenant_suspended')
    expect((await tenantAction(owner.tenant.id, 'resume')).status).toBe(200)
    expect((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status).toBe(200)
  })

  it('refuses a tenant suspended from another isolate, whose copy this isolate still holds', async () => {
    const owner = await signUp()
    for (let i = 0; i < 2; i++) expect((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status).toBe(200)
    // What the suspension does seen from here: the row changes and the Redis entries go (another
    // isolate's invalidate); this isolate's in-memory copy (TENANT_CACHE_TTL_SECONDS) is untouched.
    await database().update(tenants).set({ status: 'suspended', updatedAt: sql`now()` as unknown as string }).where(eq(tenants.id, owner.tenant.id))
    await redis.del(`tenant:id:${owner.tenant.id}`, `tenant:slug:${owner.tenant.slug}`)
    const me = await call(`${owner.host}/v1/me`, { token: owner.access_token })
    expect(me.status).toBe(403)
    expect(me.body.error.code).toBe('tenant_suspended')
    expect((await call(`${owner.host}/v1/tenant`)).body.error.code).toBe('tenant_suspended')
    await database().update(tenants).set({ status: 'active', updatedAt: sql`now()` as unknown as string }).where(eq(tenants.id, owner.tenant.id))
    await redis.del(`tenant:id:${owner.tenant.id}`, `tenant:slug:${owner.tenant.slug}`)
    expect((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status).toBe(200)
  })
})
