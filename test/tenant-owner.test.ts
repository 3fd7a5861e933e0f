import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { adminToken, auditEntries, call, createTenant, mailedLink, newEmail, PASSWORD, PLATFORM, randomClientIp, signUp, tenantAction, tenantOrigin, uniqueSlug, verifyEmail } from './support.ts'
import { SendGridStandIn } from './sendgrid-stand-in.ts'

const create = (body: Record<string, unknown>, token: string | null = adminToken(), origin = PLATFORM) => call(`${origin}/v1/tenants`, { body: { name: 'Acme', ...body }, token })
const inviteInto = (id: string, body: unknown, token: string | null = adminToken(), origin = PLATFORM) => call(`${origin}/v1/tenants/${id}/invitations`, { body, token })

/** An account whose address is verified, through the verification link. */
async function verifiedAccount() {
  const o = await signUp()
  await verifyEmail(o)
  return o
}

describe('POST /v1/tenants with owner_email', () => {
  it('mails an owner invitation to an address without an account; accepting it makes the owner', async () => {
    const email = newEmail()
    const slug = uniqueSlug()
    const res = await create({ slug, owner_email: email })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body).toMatchObject({ slug, owner: { status: 'invited', email } })
    const { token, url } = await mailedLink(email, '/accept-invitation')
    expect(url.href).toContain(`${slug}.`)
    const accepted = await call(`${tenantOrigin(slug)}/v1/invitations/accept`, { body: { token, password: PASSWORD, name: 'Founder' } })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    const me = await call(`${tenantOrigin(slug)}/v1/tenant`, { token: accepted.body.access_token })
    expect(me.body.role).toBe('owner')
    const audit = await auditEntries(res.body.id)
    expect(audit.find((e) => e.action === 'member.invited')).toMatchObject({ actorType: 'platform_admin', actorId: null, details: { email, role: 'owner' } })
  })

  it('makes an account with a verified address the owner at once', async () => {
    const account = await verifiedAccount()
    const slug = uniqueSlug()
    const res = await create({ slug, owner_email: account.email.toUpperCase() })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.owner).toEqual({ status: 'added', user_id: account.user.id, email: account.email })
    const switched = await call(`${account.host}/v1/auth/switch`, { body: { tenant: slug }, token: account.access_token })
    expect(switched.status, JSON.stringify(switched.body)).toBe(200)
    const here = await call(`${tenantOrigin(slug)}/v1/tenant`, { token: switched.body.access_token })
    expect(here.body).toMatchObject({ role: 'owner', permissions: expect.arrayContaining(['tenant:update', 'members:invite']) })
    const audit = await auditEntries(res.body.id)
    expect(audit.find((e) => e.action === 'member.joined')).toMatchObject({ actorType: 'platform_admin', targetId: account.user.id, details: { role: 'owner', via: 'platform_admin' } })
  })

  it('invites, rather than adds, an account whose address is not verified', async () => {
    const account = await signUp()
    const res = await create({ slug: uniqueSlug(), owner_email: account.email })
    expect(res.status).toBe(201)
    expect(res.body.owner).toMatchObject({ status: 'invited', email: account.email })
    expect((await call(`${account.host}/v1/auth/switch`, { body: { tenant: res.body.slug }, token: account.access_token })).body.error.code).toBe('not_a_member')
  })

  it('refuses a malformed owner_email and creates nothing', async () => {
    const slug = uniqueSlug()
    const res = await create({ slug, owner_email: 'not an address' })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect((await call(`${tenantOrigin(slug)}/v1/tenant`)).status).toBe(404)
  })

  describe('when the mail service refuses', () => {
    const stand = new SendGridStandIn('SG.test-key')
    afterEach(() => stand.stop())

    it('answers 503 and leaves no tenant behind', async () => {
      stand.start()
      const slug = uniqueSlug()
      const req = new Request(`${PLATFORM}/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken()}`, 'cf-connecting-ip': randomClientIp() },
        body: JSON.stringify({ slug, name: 'Acme', owner_email: newEmail() }),
      })
      const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
      const res = await createApp().fetch(req, { ...env, MAIL_TRANSPORT: 'sendgrid', SENDGRID_API_KEY: 'SG.revoked' }, ctx)
      expect(res.status).toBe(503)
      expect(((await res.json()) as any).error.code).toBe('mail_unavailable')
      expect(stand.refused).toEqual([401])
      expect((await call(`${tenantOrigin(slug)}/v1/tenant`)).status).toBe(404)
    })
  })

  it('is the platform admin’s: 401 without a token or with a tenant’s, 403 with a wrong one, 404 on a tenant host', async () => {
    const slug = uniqueSlug()
    expect((await create({ slug, owner_email: newEmail() }, null)).status).toBe(401)
    const o = await signUp()
    expect((await create({ slug, owner_email: newEmail() }, o.access_token)).body.error.code).toBe('invalid_token')
    expect((await create({ slug, owner_email: newEmail() }, `not-the-admin-token-${crypto.randomUUID()}`)).status).toBe(403)
    expect((await create({ slug, owner_email: newEmail() }, adminToken(), o.host)).status).toBe(404)
    expect((await call(`${tenantOrigin(slug)}/v1/tenant`)).status).toBe(404)
  })
})

describe('POST /v1/tenants/:id/invitations (platform admin)', () => {
  it('invites into any tenant with any role, through the members section’s invitation', async () => {
    const o = await signUp()
    const email = newEmail()
    const res = await inviteInto(o.tenant.id, { email, role: 'owner' })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body).toMatchObject({ email, role: 'owner', status: 'pending', invited_by: null })
    // The tenant's own admins see it, and a second one for the same address is refused as on the tenant host.
    const listed = await call(`${o.host}/v1/invitations`, { token: o.access_token })
    expect(listed.body.data.map((i: { id: string }) => i.id)).toContain(res.body.id)
    expect((await inviteInto(o.tenant.id, { email, role: 'member' })).body.error.code).toBe('invitation_pending')
    const { token } = await mailedLink(email, '/accept-invitation')
    const accepted = await call(`${o.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(accepted.status).toBe(200)
    expect((await call(`${o.host}/v1/tenant`, { token: accepted.body.access_token })).body.role).toBe('owner')
    expect((await inviteInto(o.tenant.id, { email, role: 'member' })).body.error.code).toBe('already_member')
  })

  it('refuses invalid input, unknown, deleted and suspended tenants', async () => {
    const t = await createTenant()
    for (const body of [{ email: 'nope', role: 'member' }, { email: newEmail(), role: 'emperor' }, { email: newEmail() }]) {
      const res = await inviteInto(t.id, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    expect((await inviteInto('not-a-uuid', { email: newEmail(), role: 'member' })).status).toBe(400)
    expect((await inviteInto(crypto.randomUUID(), { email: newEmail(), role: 'member' })).body.error.code).toBe('tenant_not_found')
    await tenantAction(t.id, 'suspend')
    const suspended = await inviteInto(t.id, { email: newEmail(), role: 'member' })
    expect(suspended.status).toBe(409)
    expect(suspended.body.error.code).toBe('tenant_not_active')
  })

  it('is the platform admin’s: 401 without a token or with a tenant’s, 403 with a wrong one, 404 on a tenant host; an invitation belongs to its tenant only', async () => {
    const a = await signUp()
    const b = await signUp()
    const email = newEmail()
    expect((await inviteInto(a.tenant.id, { email, role: 'member' }, null)).status).toBe(401)
    expect((await inviteInto(a.tenant.id, { email, role: 'member' }, a.access_token)).body.error.code).toBe('invalid_token')
    expect((await inviteInto(a.tenant.id, { email, role: 'member' }, `not-the-admin-token-${crypto.randomUUID()}`)).status).toBe(403)
    expect((await inviteInto(a.tenant.id, { email, role: 'member' }, adminToken(), a.host)).status).toBe(404)
    expect((await inviteInto(a.tenant.id, { email, role: 'member' })).status).toBe(201)
    const { token } = await mailedLink(email, '/accept-invitation')
    const elsewhere = await call(`${b.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(elsewhere.body.error.code).toBe('invitation_not_found')
    expect((await call(`${b.host}/v1/invitations`, { token: b.access_token })).body.data).toEqual([])
  })
})
