import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { numericId, signIn } from './oauth-flow.ts'
import { auditActions, call, database, fakeProviders, invite, mailedLink, newEmail, type Owner, PASSWORD, patchTenantSettings, publicRole, signUp, tablesOf } from './support.ts'

/**
 * signup_policy "domain": typing an address of the domain proves nothing, so the membership is
 * pending — no session, not a member anywhere it counts — until the address is verified; the
 * verification activates it, with member.joined, in its own batch.
 */

const fake = fakeProviders()

const DOMAIN = 'corp.test'

async function domainTenant(): Promise<Owner> {
  const o = await signUp()
  await patchTenantSettings(o.tenant.id, { signup_policy: 'domain', signup_domains: [DOMAIN] })
  return o
}

/** The token of the newest verification link mailed to `to`. */
async function verificationToken(to: string): Promise<string> {
  return (await mailedLink(to, '/verify-email')).token
}

async function memberEmails(o: Owner): Promise<string[]> {
  const res = await call(`${o.host}/v1/members?limit=100`, { token: o.access_token })
  expect(res.status).toBe(200)
  return res.body.data.map((m: { email: string }) => m.email)
}

async function memberRow(tenantId: string, userId: string) {
  const m = tablesOf(tenantId).members
  return (await database().select().from(m).where(eq(m.userId, userId)))[0]
}

const joinedEntries = async (tenantId: string, userId: string) =>
  (await auditActions(tenantId)).filter((a) => a.action === 'member.joined' && a.targetId === userId)

describe('domain sign-up', () => {
  it('is pending until the address is verified: no session, no sign-in, not listed, no member.joined; the link activates it', async () => {
    const o = await domainTenant()
    const address = newEmail(DOMAIN)
    const registered = await call(`${o.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })
    expect(registered.status, JSON.stringify(registered.body)).toBe(202)
    expect(registered.body).toMatchObject({ verification_required: true, verification_sent: true, tenant: { id: o.tenant.id }, user: { email: address, email_verified: false } })
    expect(registered.body.access_token).toBeUndefined()
    const userId = registered.body.user.id as string

    // The right password signs nobody in: the answer asks for the proof (and mails a fresh link).
    const login = await call(`${o.host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })
    expect(login.status).toBe(403)
    expect(login.body.error).toMatchObject({ code: 'email_verification_required', details: { verification_sent: true } })
    // Not a member anywhere it counts: list, public index, audit (the authorization model reads active rows only).
    expect(await memberEmails(o)).not.toContain(address)
    expect(await publicRole(o.tenant.id, userId)).toBeUndefined()
    expect(await joinedEntries(o.tenant.id, userId)).toEqual([])
    expect((await memberRow(o.tenant.id, userId))?.status).toBe('pending')

    const confirmed = await call(`${o.host}/v1/auth/verify-email/confirm`, { body: { token: await verificationToken(address) } })
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200)
    expect(confirmed.body).toEqual({ email_verified: true, membership_activated: true })
    expect((await memberRow(o.tenant.id, userId))?.status).toBe('active')
    expect(await publicRole(o.tenant.id, userId)).toBe('member')
    const joined = await joinedEntries(o.tenant.id, userId)
    expect(joined).toHaveLength(1)
    expect(joined[0]!.details).toMatchObject({ role: 'member', via: 'signup', proof: 'verification_link' })
    expect(await memberEmails(o)).toContain(address)

    const signedIn = await call(`${o.host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })
    expect(signedIn.status).toBe(200)
    const members = await call(`${o.host}/v1/members`, { token: signedIn.body.access_token })
    expect(members.status).toBe(200)
  })

  it('admits at once an existing account whose address is already verified', async () => {
    const o = await domainTenant()
    const other = await domainTenant()
    const address = newEmail(DOMAIN)
    await call(`${other.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })
    await call(`${other.host}/v1/auth/verify-email/confirm`, { body: { token: await verificationToken(address) } })
    const joined = await call(`${o.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })
    expect(joined.status, JSON.stringify(joined.body)).toBe(201)
    expect(joined.body.access_token).toBeTruthy()
  })

  it('activates a pending membership at sign-in once the address was verified elsewhere', async () => {
    const a = await domainTenant()
    const b = await domainTenant()
    const address = newEmail(DOMAIN)
    expect((await call(`${a.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })).status).toBe(202)
    expect((await call(`${b.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })).status).toBe(202)
    // The newest mail is B's link: it verifies the address and activates B only.
    const confirmed = await call(`${b.host}/v1/auth/verify-email/confirm`, { body: { token: await verificationToken(address) } })
    expect(confirmed.body.membership_activated).toBe(true)
    expect(await memberEmails(a)).not.toContain(address)
    const inA = await call(`${a.host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })
    expect(inA.status, JSON.stringify(inA.body)).toBe(200)
    expect(await memberEmails(a)).toContain(address)
  })

  it('with a social sign-in whose provider does not vouch for the address: pending, then active once verified', async () => {
    const o = await domainTenant()
    const address = newEmail(DOMAIN)
    const person = { id: numericId(), email: address, emailVerified: false }
    const first = await signIn(fake, o.tenant.slug, 'google', person)
    expect(first.status, JSON.stringify(first.body)).toBe(403)
    expect(first.body.error.code).toBe('email_verification_required')
    expect(await memberEmails(o)).not.toContain(address)
    expect((await call(`${o.host}/v1/auth/verify-email/confirm`, { body: { token: await verificationToken(address) } })).body.membership_activated).toBe(true)
    const again = await signIn(fake, o.tenant.slug, 'google', person)
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    expect(again.body.access_token).toBeTruthy()
  })

  it('gives way to an invitation: accepting it makes the pending account a member with the invited role', async () => {
    const o = await domainTenant()
    const address = newEmail(DOMAIN)
    const registered = await call(`${o.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })
    expect(registered.status).toBe(202)
    const { token } = await invite(o.host, o.access_token, address, 'admin')
    const accepted = await call(`${o.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    const row = await memberRow(o.tenant.id, registered.body.user.id)
    expect(row).toMatchObject({ status: 'active', role: 'admin' })
  })

  it('leaves a pending membership pending when the tenant stopped admitting the domain before the link was followed', async () => {
    const o = await domainTenant()
    const address = newEmail(DOMAIN)
    const registered = await call(`${o.host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })
    await patchTenantSettings(o.tenant.id, { signup_policy: 'invite_only' })
    const confirmed = await call(`${o.host}/v1/auth/verify-email/confirm`, { body: { token: await verificationToken(address) } })
    expect(confirmed.body).toEqual({ email_verified: true, membership_activated: false })
    expect((await memberRow(o.tenant.id, registered.body.user.id))?.status).toBe('pending')
    const m = tablesOf(o.tenant.id).members
    expect(await database().select().from(m).where(and(eq(m.userId, registered.body.user.id), eq(m.status, 'active')))).toEqual([])
  })
})
