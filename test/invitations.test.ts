import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { hashToken } from '../src/identity/secrets.ts'
import { numericId, signIn } from './oauth-flow.ts'
import { FakeProviders } from './oauth-providers.ts'
import { addMember, apiKey, auditActions, auditEntries, call, createTenant, customRole, database, enableTotp, faults, invite, mailedLink, newEmail, openTenant, PASSWORD, PLATFORM, publicRole, signUp, tablesOf, tenantOrigin, TOTP_STEP_MS, totpCode, verifyEmail } from './support.ts'

const NOBODY = '0190a0b0-0000-7000-8000-000000000000'

describe('POST /v1/invitations', () => {
  it('creates an invitation (201) and mails a single accept link on the tenant host; the token is not in the answer', async () => {
    const owner = await signUp()
    const email = newEmail()
    const res = await call(`${owner.host}/v1/invitations`, { body: { email: email.toUpperCase(), role: 'admin' }, token: owner.access_token })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      id: expect.any(String), email, role: 'admin', status: 'pending', invited_by: owner.user.id,
      created_at: expect.any(String), expires_at: expect.any(String), accepted_at: null, revoked_at: null,
    })
    const days = (new Date(res.body.expires_at).getTime() - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(6.99)
    expect(days).toBeLessThanOrEqual(7)
    const mail = await mailedLink(email, '/accept-invitation')
    expect(mail.url.href.startsWith(`${owner.host}/accept-invitation#token=`)).toBe(true)
    expect(JSON.stringify(res.body)).not.toContain(mail.token)
    // Stored as its SHA-256 only.
    const t = tablesOf(owner.tenant.id)
    const [row] = await database().select().from(t.invitations).where(eq(t.invitations.id, res.body.id))
    expect(row!.tokenHash).toBe(await hashToken(mail.token))
    const invited = (await auditActions(owner.tenant.id)).filter((e) => e.action === 'member.invited')
    expect(invited).toEqual([{ action: 'member.invited', actorId: owner.user.id, targetId: res.body.id, details: { email, role: 'admin' } }])
  })

  it('refuses a bad email, a bad role, missing fields and extra fields with 400', async () => {
    const owner = await signUp()
    const post = (body: unknown) => call(`${owner.host}/v1/invitations`, { body, token: owner.access_token })
    for (const body of [{ email: 'not-an-email', role: 'member' }, { email: newEmail(), role: 'boss' }, { email: newEmail() }, { role: 'member' }, { email: newEmail(), role: 'member', token: 'x' }]) {
      const res = await post(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })

  it('refuses inviting a member (409 already_member) or someone with a pending invitation (409 invitation_pending)', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const already = await call(`${owner.host}/v1/invitations`, { body: { email: member.email, role: 'admin' }, token: owner.access_token })
    expect(already.status).toBe(409)
    expect(already.body.error.code).toBe('already_member')
    const email = newEmail()
    const first = await invite(owner.host, owner.access_token, email)
    const twice = await call(`${owner.host}/v1/invitations`, { body: { email, role: 'member' }, token: owner.access_token })
    expect(twice.status).toBe(409)
    expect(twice.body.error).toMatchObject({ code: 'invitation_pending', details: { invitation_id: first.invitation.id } })
  })

  it('needs members:invite: 401 without a token, 403 permission_denied for a plain member, owner invitations for owners only', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const member = await addMember(owner)
    expect((await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' } })).status).toBe(401)
    const byMember = await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' }, token: member.access_token })
    expect(byMember.status).toBe(403)
    expect(byMember.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:invite', reason: expect.any(String) } })
    const ownerByAdmin = await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'owner' }, token: admin.access_token })
    expect(ownerByAdmin.status).toBe(403)
    expect(ownerByAdmin.body.error.code).toBe('owner_role_required')
    expect((await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'admin' }, token: admin.access_token })).status).toBe(201)
    expect((await call(`${PLATFORM}/v1/invitations`, { body: { email: newEmail(), role: 'member' } })).status).toBe(404)
  })
})

describe('GET /v1/invitations', () => {
  it('lists pending invitations only, newest first, in pages', async () => {
    const owner = await signUp()
    const [one, two, three] = [newEmail(), newEmail(), newEmail()]
    const first = await invite(owner.host, owner.access_token, one)
    await invite(owner.host, owner.access_token, two, 'admin')
    const third = await invite(owner.host, owner.access_token, three)
    await call(`${owner.host}/v1/invitations/accept`, { body: { token: third.token, password: PASSWORD } })
    const page1 = await call(`${owner.host}/v1/invitations?limit=1`, { token: owner.access_token })
    expect(page1.status).toBe(200)
    expect(page1.body.data.map((i: { email: string }) => i.email)).toEqual([two])
    const page2 = await call(`${owner.host}/v1/invitations?limit=1&cursor=${page1.body.next_cursor}`, { token: owner.access_token })
    expect(page2.body.data.map((i: { id: string }) => i.id)).toEqual([first.invitation.id])
    expect(page2.body.next_cursor).toBeNull()
    expect((await call(`${owner.host}/v1/invitations?cursor=abc`, { token: owner.access_token })).status).toBe(400)
    expect((await call(`${owner.host}/v1/invitations?limit=500`, { token: owner.access_token })).status).toBe(400)
  })

  it('needs invitations:read: 401 without a token, 403 permission_denied for a plain member', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    expect((await call(`${owner.host}/v1/invitations`)).status).toBe(401)
    const res = await call(`${owner.host}/v1/invitations`, { token: member.access_token })
    expect(res.status).toBe(403)
    expect(res.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'invitations:read', reason: expect.any(String) } })
  })
})

describe('DELETE /v1/invitations/:id', () => {
  it('revokes a pending invitation: its link stops working, and the audit log records it', async () => {
    const owner = await signUp()
    const email = newEmail()
    const { invitation, token } = await invite(owner.host, owner.access_token, email)
    const res = await call(`${owner.host}/v1/invitations/${invitation.id}`, { method: 'DELETE', token: owner.access_token })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: invitation.id, status: 'revoked', revoked_at: expect.any(String) })
    const accept = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(accept.status).toBe(410)
    expect(accept.body.error.code).toBe('invitation_revoked')
    expect((await call(`${owner.host}/v1/invitations`, { token: owner.access_token })).body.data).toEqual([])
    const again = await call(`${owner.host}/v1/invitations/${invitation.id}`, { method: 'DELETE', token: owner.access_token })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('invitation_not_pending')
    const revoked = (await auditActions(owner.tenant.id)).filter((e) => e.action === 'invitation.revoked')
    expect(revoked).toEqual([{ action: 'invitation.revoked', actorId: owner.user.id, targetId: invitation.id, details: { email, role: 'member' } }])
  })

  it('refuses a bad id (400), an unknown one (404), an accepted one (409), anonymous (401) and plain members (403)', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const { invitation, token } = await invite(owner.host, owner.access_token, newEmail())
    expect((await call(`${owner.host}/v1/invitations/nope`, { method: 'DELETE', token: owner.access_token })).status).toBe(400)
    const unknown = await call(`${owner.host}/v1/invitations/${NOBODY}`, { method: 'DELETE', token: owner.access_token })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('invitation_not_found')
    expect((await call(`${owner.host}/v1/invitations/${invitation.id}`, { method: 'DELETE' })).status).toBe(401)
    const byMember = await call(`${owner.host}/v1/invitations/${invitation.id}`, { method: 'DELETE', token: member.access_token })
    expect(byMember.status).toBe(403)
    expect(byMember.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'invitations:revoke' } })
    await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    const accepted = await call(`${owner.host}/v1/invitations/${invitation.id}`, { method: 'DELETE', token: owner.access_token })
    expect(accepted.status).toBe(409)
    expect(accepted.body.error.message).toContain('accepted')
  })
})

describe('POST /v1/invitations/accept', () => {
  it('creates the account for a new email, joins with the invited role and signs in', async () => {
    const owner = await signUp()
    const email = newEmail()
    const { token, invitation } = await invite(owner.host, owner.access_token, email, 'admin')
    const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD, name: 'Grace' } })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String), expires_in: expect.any(Number),
      user: { email, name: 'Grace', email_verified: true, has_password: true }, tenant: owner.tenant,
    })
    const members = await call(`${owner.host}/v1/members`, { token: res.body.access_token })
    expect(members.status).toBe(200)
    expect(members.body.data.find((m: { email: string }) => m.email === email).role).toBe('admin')
    expect(await publicRole(owner.tenant.id, res.body.user.id)).toBe('admin')
    // The new account signs in with its password on this (invite-only) tenant.
    expect((await call(`${owner.host}/v1/auth/login`, { body: { email, password: PASSWORD } })).status).toBe(200)
    const joined = (await auditActions(owner.tenant.id)).filter((e) => e.action === 'member.joined' && e.targetId === res.body.user.id)
    expect(joined).toEqual([{ action: 'member.joined', actorId: res.body.user.id, targetId: res.body.user.id, details: { role: 'admin', via: 'invitation', invitation_id: invitation.id } }])
    const listed = await call(`${owner.host}/v1/invitations`, { token: owner.access_token })
    expect(listed.body.data).toEqual([])
  })

  it('lets an existing (verified) account join with its password, and refuses a wrong or missing one', async () => {
    const owner = await signUp()
    const existing = await signUp()
    // A verified address: an unverified account would be taken over by a different password (test/account-claim.test.ts).
    await verifyEmail(existing)
    const { token } = await invite(owner.host, owner.access_token, existing.email)
    const missing = await call(`${owner.host}/v1/invitations/accept`, { body: { token } })
    expect(missing.status).toBe(400)
    expect(missing.body.error.code).toBe('password_required')
    const wrong = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: 'not the password' } })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error.code).toBe('invalid_credentials')
    const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD, name: 'ignored' } })
    expect(res.status).toBe(200)
    expect(res.body.user).toMatchObject({ id: existing.user.id, name: 'Owner' })
    expect(res.body.tenant).toEqual(owner.tenant)
    const tenants = await call(`${owner.host}/v1/me/tenants`, { token: res.body.access_token })
    expect(tenants.body.data.map((t: { id: string; role: string }) => [t.id, t.role]).sort()).toEqual([[existing.tenant.id, 'owner'], [owner.tenant.id, 'member']].sort())
  })

  it('lets an account without a password (social sign-in only) join on the strength of the mailed link', async () => {
    const fake = new FakeProviders()
    fake.install()
    try {
      const open = await openTenant()
      const address = newEmail()
      const social = await signIn(fake, open.slug, 'google', { id: numericId(), email: address, name: 'Ada' })
      expect(social.status).toBe(200)
      const owner = await signUp()
      const { token } = await invite(owner.host, owner.access_token, address, 'admin')
      const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token } })
      expect(res.status).toBe(200)
      expect(res.body.user).toMatchObject({ email: address, has_password: false })
      expect(await publicRole(owner.tenant.id, res.body.user.id)).toBe('admin')
    } finally {
      fake.uninstall()
    }
  })

  it('joins an account with TOTP on, then asks for the second factor before any session', async () => {
    const owner = await signUp()
    const invitee = await signUp()
    const step = Math.floor(Date.now() / TOTP_STEP_MS)
    const { secret } = await enableTotp(invitee, step * TOTP_STEP_MS)
    const { token } = await invite(owner.host, owner.access_token, invitee.email)
    const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ mfa_required: true, mfa_token: expect.any(String), user: expect.objectContaining({ id: invitee.user.id }), tenant: owner.tenant })
    expect(res.body).not.toHaveProperty('access_token')
    expect(await publicRole(owner.tenant.id, invitee.user.id)).toBe('member')
    // The next step's code (one step of drift is allowed) completes the sign-in on the tenant joined.
    const verified = await call(`${owner.host}/v1/auth/mfa/verify`, { body: { mfa_token: res.body.mfa_token, code: totpCode(secret, (step + 1) * TOTP_STEP_MS) } })
    expect(verified.status).toBe(200)
    expect((await call(`${owner.host}/v1/members`, { token: verified.body.access_token })).status).toBe(200)
  })

  it('refuses an invitation accepted twice (410 invitation_used), even by the same person', async () => {
    const owner = await signUp()
    const { token } = await invite(owner.host, owner.access_token, newEmail())
    expect((await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })).status).toBe(200)
    const again = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(again.status).toBe(410)
    expect(again.body.error.code).toBe('invitation_used')
  })

  it('lets only one of two simultaneous accepts through', async () => {
    const owner = await signUp()
    const email = newEmail()
    const { token } = await invite(owner.host, owner.access_token, email)
    const results = await Promise.all([1, 2].map(() => call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })))
    expect(results.map((r) => r.status).sort()).toEqual([200, expect.any(Number)])
    const refused = results.find((r) => r.status !== 200)!
    expect([409, 410]).toContain(refused.status)
    const members = await call(`${owner.host}/v1/members`, { token: owner.access_token })
    expect(members.body.data.filter((m: { email: string }) => m.email === email)).toHaveLength(1)
  })

  it('does not let an invitation revoked while it is being accepted grant a membership', async () => {
    const owner = await signUp()
    const existing = await signUp()
    const { token, invitation } = await invite(owner.host, owner.access_token, existing.email)
    // Slowed SQL: the accept reads the invitation as pending, then the revocation commits, then
    // the accept writes — only its conditional UPDATE (and the role it feeds) can refuse.
    await faults('sql', { mode: 'delay', delayMs: 200 })
    const [accept, revoke] = await Promise.all([
      call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } }),
      call(`${owner.host}/v1/invitations/${invitation.id}`, { method: 'DELETE', token: owner.access_token }),
    ]).finally(() => faults('sql', { mode: 'off' }))
    expect(revoke.status).toBe(200)
    expect(accept.status).toBe(410)
    expect(accept.body.error.code).toBe('invitation_revoked')
    expect(await publicRole(owner.tenant.id, existing.user.id)).toBeUndefined()
    const members = await call(`${owner.host}/v1/members`, { token: owner.access_token })
    expect(members.body.data.map((m: { user_id: string }) => m.user_id)).toEqual([owner.user.id])
    expect((await auditActions(owner.tenant.id)).filter((e) => e.action === 'member.joined' && e.targetId === existing.user.id)).toEqual([])
  })

  it('refuses an expired invitation with 410 invitation_expired, and no longer lists it', async () => {
    const owner = await signUp()
    const email = newEmail()
    const { token, invitation } = await invite(owner.host, owner.access_token, email)
    const t = tablesOf(owner.tenant.id)
    await database().update(t.invitations).set({ expiresAt: sql`now() - interval '1 minute'` as unknown as string }).where(eq(t.invitations.id, invitation.id))
    const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(res.status).toBe(410)
    expect(res.body.error.code).toBe('invitation_expired')
    expect((await call(`${owner.host}/v1/invitations`, { token: owner.access_token })).body.data).toEqual([])
    // An expired invitation does not block a new one.
    expect((await call(`${owner.host}/v1/invitations`, { body: { email, role: 'member' }, token: owner.access_token })).status).toBe(201)
  })

  it('refuses another email than the invited one: in the body, or signed in as someone else', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const email = newEmail()
    const { token } = await invite(owner.host, owner.access_token, email)
    const other = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD, email: newEmail() } })
    expect(other.status).toBe(403)
    expect(other.body.error.code).toBe('invitation_email_mismatch')
    const signedIn = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD }, token: member.access_token })
    expect(signedIn.status).toBe(403)
    expect(signedIn.body.error.code).toBe('invitation_email_mismatch')
    // Still usable by the invitee.
    expect((await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD, email: email.toUpperCase() } })).status).toBe(200)
  })

  it('refuses bad input: no token, an unknown token, a weak password for a new account', async () => {
    const tenant = await createTenant({ settings: { password_policy: { min_length: 12 } } })
    const host = tenantOrigin(tenant.slug)
    expect((await call(`${host}/v1/invitations/accept`, { body: {} })).status).toBe(400)
    expect((await call(`${host}/v1/invitations/accept`, { body: { token: 'x' } })).status).toBe(400)
    expect((await call(`${host}/v1/invitations/accept`, { body: { token: 'a'.repeat(43), password: PASSWORD, role: 'owner' } })).status).toBe(400)
    const unknown = await call(`${host}/v1/invitations/accept`, { body: { token: 'a'.repeat(43), password: PASSWORD } })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('invitation_not_found')
    const owner = await signUp()
    const { token } = await invite(owner.host, owner.access_token, newEmail())
    const weak = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: 'short' } })
    expect(weak.status).toBe(400)
    expect(weak.body.error.code).toBe('weak_password')
    const noPassword = await call(`${owner.host}/v1/invitations/accept`, { body: { token } })
    expect(noPassword.body.error.code).toBe('password_required')
    expect((await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })).status).toBe(200)
    expect((await call(`${PLATFORM}/v1/invitations/accept`, { body: { token, password: PASSWORD } })).status).toBe(404)
  })
})

describe('invitations across tenants', () => {
  it('refuses tenant A’s admin token on tenant B’s host, and B finds none of A’s invitations', async () => {
    const a = await signUp()
    const b = await signUp()
    const bInvite = await invite(b.host, b.access_token, newEmail())
    const aInvite = await invite(a.host, a.access_token, newEmail())
    for (const res of [
      await call(`${b.host}/v1/invitations`, { token: a.access_token }),
      await call(`${b.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' }, token: a.access_token }),
      await call(`${b.host}/v1/invitations/${bInvite.invitation.id}`, { method: 'DELETE', token: a.access_token }),
    ]) {
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('invalid_token')
    }
    const crossRevoke = await call(`${b.host}/v1/invitations/${aInvite.invitation.id}`, { method: 'DELETE', token: b.access_token })
    expect(crossRevoke.status).toBe(404)
    const bList = await call(`${b.host}/v1/invitations`, { token: b.access_token })
    expect(bList.body.data.map((i: { id: string }) => i.id)).toEqual([bInvite.invitation.id])
    const aList = await call(`${a.host}/v1/invitations`, { token: a.access_token })
    expect(aList.body.data[0]).toMatchObject({ id: aInvite.invitation.id, status: 'pending' })
  })

  it('does not accept tenant A’s invitation token on tenant B’s host', async () => {
    const a = await signUp()
    const b = await signUp()
    const email = newEmail()
    const { token } = await invite(a.host, a.access_token, email)
    const onB = await call(`${b.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(onB.status).toBe(404)
    expect(onB.body.error.code).toBe('invitation_not_found')
    const onA = await call(`${a.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(onA.status).toBe(200)
    expect(onA.body.tenant).toEqual(a.tenant)
    expect(await publicRole(b.tenant.id, onA.body.user.id)).toBeUndefined()
    // The tokens it got are for A only.
    expect((await call(`${b.host}/v1/members`, { token: onA.body.access_token })).status).toBe(401)
  })
})

describe('invitations behind permissions', () => {
  it('lets an API key holding admin invite, list and revoke; the invitation and the audit name the key', async () => {
    const owner = await signUp()
    const key = await apiKey(owner, ['admin'])
    const email = newEmail()
    const created = await call(`${owner.host}/v1/invitations`, { body: { email, role: 'admin' }, headers: key.headers })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body).toMatchObject({ email, role: 'admin', status: 'pending', invited_by: key.id })
    const listed = await call(`${owner.host}/v1/invitations`, { headers: key.headers })
    expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([created.body.id])
    expect((await call(`${owner.host}/v1/invitations/${created.body.id}`, { method: 'DELETE', headers: key.headers })).status).toBe(200)
    const entries = (await auditEntries(owner.tenant.id)).filter((e) => e.action === 'member.invited' || e.action === 'invitation.revoked')
    expect(entries).toEqual([
      { action: 'member.invited', actorType: 'api_key', actorId: key.id, targetId: created.body.id, details: { email, role: 'admin' } },
      { action: 'invitation.revoked', actorType: 'api_key', actorId: key.id, targetId: created.body.id, details: { email, role: 'admin' } },
    ])
  })

  it('refuses owner invitations to API keys, even admin ones (403 owner_role_required)', async () => {
    const owner = await signUp()
    const key = await apiKey(owner, ['admin'])
    const res = await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'owner' }, headers: key.headers })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('owner_role_required')
  })

  it('never invites into a role holding more than the inviter holds (403 grant_exceeds_own), and refuses keys without the permissions', async () => {
    const owner = await signUp()
    await customRole(owner, 'recruiter', ['tenant:read', 'members:read', 'roles:read', 'resource_types:read', 'members:invite'])
    const recruiter = await apiKey(owner, ['recruiter'])
    const admin = await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'admin' }, headers: recruiter.headers })
    expect(admin.status).toBe(403)
    expect(admin.body.error).toMatchObject({ code: 'grant_exceeds_own', details: { role: 'admin', permissions: ['*:*'] } })
    expect((await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' }, headers: recruiter.headers })).status).toBe(201)
    // Inviting is not reading or revoking.
    expect((await call(`${owner.host}/v1/invitations`, { headers: recruiter.headers })).body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'invitations:read' } })
    const reader = await apiKey(owner, ['member'])
    const refused = await call(`${owner.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' }, headers: reader.headers })
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:invite' } })
  })

  it('refuses tenant B’s admin key on tenant A’s host', async () => {
    const a = await signUp()
    const b = await signUp()
    const { invitation } = await invite(a.host, a.access_token, newEmail())
    const key = await apiKey(b, ['admin'])
    for (const res of [
      await call(`${a.host}/v1/invitations`, { headers: key.headers }),
      await call(`${a.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' }, headers: key.headers }),
      await call(`${a.host}/v1/invitations/${invitation.id}`, { method: 'DELETE', headers: key.headers }),
    ]) expect(res.status).toBe(401)
    expect((await call(`${a.host}/v1/invitations`, { token: a.access_token })).body.data[0]).toMatchObject({ id: invitation.id, status: 'pending' })
  })
})
