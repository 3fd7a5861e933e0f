import { describe, expect, it } from 'vitest'
import { call, newEmail, openTenant, PASSWORD, signUp, tenantOrigin } from './support.ts'

describe('GET /v1/audit', () => {
  it('shows the tenant’s own events, newest first, to its owner', async () => {
    const o = await signUp()
    const host = tenantOrigin(o.tenant.slug)
    await call(`${host}/v1/auth/login`, { body: { email: 'nobody@example.com', password: 'wrong password' } })
    const res = await call(`${host}/v1/audit`, { token: o.access_token })
    expect(res.status).toBe(200)
    const actions = res.body.data.map((e: { action: string }) => e.action)
    expect(actions).toEqual(expect.arrayContaining(['tenant.created', 'member.joined', 'user.login']))
    expect(actions[0]).toBe('user.login')
    expect(res.body.data[0]).toMatchObject({ outcome: 'failure', actor_type: 'anonymous' })
    const ids = res.body.data.map((e: { id: string }) => e.id)
    expect([...ids].sort().reverse()).toEqual(ids)
  })

  it('filters by action (exact or prefix), actor and time range, and pages with a cursor', async () => {
    const o = await signUp()
    const host = tenantOrigin(o.tenant.slug)
    for (let i = 0; i < 3; i++) await call(`${host}/v1/auth/login`, { body: { email: 'x@example.com', password: 'wrong password' } })
    const logins = await call(`${host}/v1/audit?action=user.login&limit=2`, { token: o.access_token })
    expect(logins.body.data).toHaveLength(2)
    expect(logins.body.data.every((e: { action: string }) => e.action === 'user.login')).toBe(true)
    const next = await call(`${host}/v1/audit?action=user.login&limit=2&cursor=${logins.body.next_cursor}`, { token: o.access_token })
    expect(next.body.data.length).toBeGreaterThanOrEqual(1)
    expect(next.body.data[0].id < logins.body.data[1].id).toBe(true)
    const prefix = await call(`${host}/v1/audit?action=tenant.*`, { token: o.access_token })
    expect(prefix.body.data.map((e: { action: string }) => e.action)).toEqual(['tenant.created'])
    const byActor = await call(`${host}/v1/audit?actor=${o.user.id}`, { token: o.access_token })
    expect(byActor.body.data.length).toBeGreaterThan(0)
    expect(byActor.body.data.every((e: { actor_id: string }) => e.actor_id === o.user.id)).toBe(true)
    const future = await call(`${host}/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { token: o.access_token })
    expect(future.body.data).toEqual([])
  })

  it('refuses bad filters with 400', async () => {
    const o = await signUp()
    const host = tenantOrigin(o.tenant.slug)
    expect((await call(`${host}/v1/audit?from=yesterday`, { token: o.access_token })).status).toBe(400)
    expect((await call(`${host}/v1/audit?action=DROP TABLE`, { token: o.access_token })).status).toBe(400)
    expect((await call(`${host}/v1/audit?limit=0`, { token: o.access_token })).status).toBe(400)
  })

  it('needs audit:read: 401 without a token, 403 permission_denied for a plain member', async () => {
    const tenant = await openTenant()
    const host = tenantOrigin(tenant.slug)
    expect((await call(`${host}/v1/audit`)).status).toBe(401)
    const member = await call(`${host}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    const res = await call(`${host}/v1/audit`, { token: member.body.access_token })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('permission_denied')
    expect(res.body.error.details).toMatchObject({ permission: 'audit:read', reason: expect.stringContaining('audit:read') })
  })

  it('never shows one tenant’s events to another', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await call(`${tenantOrigin(b.tenant.slug)}/v1/audit`, { token: a.access_token })).status).toBe(401)
    const seenByB = await call(`${tenantOrigin(b.tenant.slug)}/v1/audit?limit=100`, { token: b.access_token })
    const targets = seenByB.body.data.map((e: { target_id: string | null }) => e.target_id)
    expect(targets).not.toContain(a.tenant.id)
    expect(targets).not.toContain(a.user.id)
  })
})

describe('GET /v1/me/events', () => {
  it('keeps account-level events for the user', async () => {
    const o = await signUp()
    const res = await call(`${tenantOrigin(o.tenant.slug)}/v1/me/events`, { token: o.access_token })
    expect(res.status).toBe(200)
    expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(['account.created'])
  })
})
