import { describe, expect, it } from 'vitest'
import { addMember, auditActions, call, type Owner, PASSWORD, PLATFORM, signUp, tenantOrigin, webhookReceiver } from './support.ts'
import { until, type Envelope } from './webhook-receiver.ts'

const CONFIRM = 'delete my account'
// (The social-only account's case is in account-deletion-social.test.ts: the provider stand-ins and this receiver both replace fetch.)
const receiver = webhookReceiver()

const remove = (host: string, token: string | undefined, body: unknown) => call(`${host}/v1/me`, { method: 'DELETE', body, token })
const plan = (host: string, token: string) => call(`${host}/v1/me/deletion`, { token })

async function subscribe(o: Owner, path: string, events: string[]) {
  const res = await call(`${o.host}/v1/webhooks`, { body: { url: receiver.url(path), events }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return () => receiver.requestsTo(path).map((r) => JSON.parse(r.body) as Envelope)
}

/** An admin of `owner`'s organization who also owns an organization of their own, alone. */
async function adminWithOwnOrganization(owner: Owner) {
  const m = await addMember(owner, 'admin')
  const own = await call(`${owner.host}/v1/me/tenants`, { body: { name: 'Solo Co' }, token: m.access_token })
  expect(own.status, JSON.stringify(own.body)).toBe(201)
  return { ...m, own: own.body.tenant as { id: string; slug: string } }
}

describe('DELETE /v1/me', () => {
  it('states the plan first, then deletes the account: its lone organization goes with it, it leaves the others, every session ends', async () => {
    const owner = await signUp()
    const got = await subscribe(owner, '/deleted', ['user.deleted', 'member.removed'])
    const m = await adminWithOwnOrganization(owner)
    const second = await call(`${owner.host}/v1/auth/login`, { body: { email: m.email, password: PASSWORD } })
    expect(second.status).toBe(200)

    const before = await plan(owner.host, m.access_token)
    expect(before.status).toBe(200)
    expect(before.body).toEqual({
      blocked: false,
      confirmation: 'password',
      tenants: expect.arrayContaining([
        expect.objectContaining({ id: owner.tenant.id, role: 'admin', other_members: 1, outcome: 'left' }),
        expect.objectContaining({ id: m.own.id, role: 'owner', other_members: 0, outcome: 'deleted' }),
      ]),
    })
    expect(before.body.tenants).toHaveLength(2)

    const res = await remove(owner.host, m.access_token, { confirm: CONFIRM, password: PASSWORD })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toEqual({ deleted: true, deleted_tenants: [m.own.id] })
    expect(res.headers.getSetCookie().some((line) => line.startsWith('atrium_session=;') || /atrium_session=.*Max-Age=0/.test(line))).toBe(true)

    // Every session ended; the account cannot sign in; the lone organization's host is gone.
    for (const token of [m.access_token, second.body.access_token]) expect((await call(`${owner.host}/v1/me`, { token })).status).toBe(401)
    expect((await call(`${owner.host}/v1/auth/login`, { body: { email: m.email, password: PASSWORD } })).status).toBe(401)
    expect((await call(`${tenantOrigin(m.own.slug)}/v1/tenant`)).status).toBe(404)
    // It left the other organization: no longer a member, audited, with the webhook events.
    const members = await call(`${owner.host}/v1/members`, { token: owner.access_token })
    expect(members.body.data.map((x: { user_id: string }) => x.user_id)).not.toContain(m.user.id)
    const audit = (await auditActions(owner.tenant.id)).filter((e) => e.action === 'user.deleted')
    expect(audit).toEqual([expect.objectContaining({ actorId: m.user.id, targetId: m.user.id, details: expect.objectContaining({ role: 'admin' }) })])
    expect((await auditActions(m.own.id)).some((e) => e.action === 'tenant.deleted' && e.details.reason === 'owner_account_deleted')).toBe(true)
    const events = await until('both events', () => got().length >= 2 && got())
    expect(events.map((e) => e.type).sort()).toEqual(['member.removed', 'user.deleted'])
    expect(events.find((e) => e.type === 'user.deleted')).toMatchObject({ tenant_id: owner.tenant.id, actor: { type: 'user', id: m.user.id }, data: { user_id: m.user.id } })
    // The address is free again.
    expect((await call(`${PLATFORM}/v1/auth/register`, { body: { email: m.email, password: PASSWORD } })).status).toBe(201)
  })

  it('refuses while the account is the only owner of an organization with other members, naming it; another owner unblocks it', async () => {
    const o = await signUp()
    const m = await addMember(o)
    const before = await plan(o.host, o.access_token)
    expect(before.body.blocked).toBe(true)
    expect(before.body.tenants).toEqual([expect.objectContaining({ id: o.tenant.id, role: 'owner', other_members: 1, outcome: 'blocks_deletion' })])
    const refused = await remove(o.host, o.access_token, { confirm: CONFIRM, password: PASSWORD })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('sole_owner')
    expect(refused.body.error.details.tenants).toEqual([expect.objectContaining({ id: o.tenant.id, slug: o.tenant.slug, other_members: 1 })])
    expect((await call(`${o.host}/v1/me`, { token: o.access_token })).status).toBe(200)

    expect((await call(`${o.host}/v1/members/${m.user.id}`, { method: 'PATCH', body: { role: 'owner' }, token: o.access_token })).status).toBe(200)
    expect((await plan(o.host, o.access_token)).body.tenants[0].outcome).toBe('left')
    const res = await remove(o.host, o.access_token, { confirm: CONFIRM, password: PASSWORD })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.deleted_tenants).toEqual([])
    // The organization stays, with its other owner.
    const tenant = await call(`${o.host}/v1/tenant`, { token: m.access_token })
    expect(tenant.body).toMatchObject({ id: o.tenant.id, role: 'owner' })
  })

  it('refuses invalid input: the confirmation words, a missing or wrong password (counted), unknown fields', async () => {
    const o = await signUp()
    for (const body of [{}, { confirm: 'yes', password: PASSWORD }, { confirm: CONFIRM, password: '' }, { confirm: CONFIRM, password: PASSWORD, extra: 1 }]) {
      const res = await remove(o.host, o.access_token, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const missing = await remove(o.host, o.access_token, { confirm: CONFIRM })
    expect(missing.status).toBe(400)
    expect(missing.body.error.code).toBe('password_required')
    const wrong = await remove(o.host, o.access_token, { confirm: CONFIRM, password: 'not the password' })
    expect(wrong.status).toBe(403)
    expect(wrong.body.error.code).toBe('incorrect_password')
    expect((await auditActions(o.tenant.id)).some((e) => e.action === 'user.delete' && e.details.reason === 'incorrect_password')).toBe(true)
    expect((await call(`${o.host}/v1/me`, { token: o.access_token })).status).toBe(200)
  })

  it('does the work once when sent twice at the same time; a repeat answers 401 (the session is gone)', async () => {
    const owner = await signUp()
    const m = await adminWithOwnOrganization(owner)
    const both = await Promise.all([1, 2].map(() => remove(owner.host, m.access_token, { confirm: CONFIRM, password: PASSWORD })))
    const statuses = both.map((r) => r.status)
    expect(statuses, JSON.stringify(both.map((r) => r.body))).toContain(200)
    for (const s of statuses) expect([200, 401, 403]).toContain(s)
    expect((await auditActions(owner.tenant.id)).filter((e) => e.action === 'user.deleted')).toHaveLength(1)
    expect((await auditActions(m.own.id)).filter((e) => e.action === 'tenant.deleted')).toHaveLength(1)
    const repeat = await remove(owner.host, m.access_token, { confirm: CONFIRM, password: PASSWORD })
    expect(repeat.status).toBe(401)
  })

  it('needs the account’s own session on this host: 401 without one or with another tenant’s token, 404 on the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await remove(a.host, undefined, { confirm: CONFIRM, password: PASSWORD })).status).toBe(401)
    const crossed = await remove(b.host, a.access_token, { confirm: CONFIRM, password: PASSWORD })
    expect(crossed.status).toBe(401)
    expect(crossed.body.error.code).toBe('invalid_token')
    expect((await call(`${b.host}/v1/me/deletion`, { token: a.access_token })).status).toBe(401)
    expect((await remove(PLATFORM, undefined, { confirm: CONFIRM, password: PASSWORD })).status).toBe(404)
    // Both accounts are untouched.
    expect((await call(`${a.host}/v1/me`, { token: a.access_token })).status).toBe(200)
    expect((await call(`${b.host}/v1/me`, { token: b.access_token })).status).toBe(200)
  })
})
