import { describe, expect, it } from 'vitest'
import { addMember, adminToken, apiKey, call, invite, newEmail, outboxEvents, type Owner, PASSWORD, PLATFORM, received, signUp, subscribe, webhookReceiver } from './support.ts'

/**
 * Membership changes as a tenant's webhook receiver gets them (member.invited, member.joined via
 * invitation, member.role_changed, member.removed), and as the authorization model sees them:
 * the very next check after a change answers from the new membership.
 */

const receiver = webhookReceiver()

async function check(o: Owner, userId: string, action: string) {
  const res = await call(`${o.host}/v1/authz/check`, { body: { subject: { type: 'user', id: userId }, action, resource: { type: 'members' } }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { allowed: boolean; reason: string }
}

describe('membership webhook events', () => {
  it('sends member.invited with the invitation, its role, expiry and inviter', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/invited', ['member.*'])
    const email = newEmail()
    const { invitation } = await invite(o.host, o.access_token, email, 'admin')
    const [event] = await received(got, 'member.invited')
    const expiresAt = (await call(`${o.host}/v1/invitations`, { token: o.access_token })).body.data[0].expires_at
    expect(event).toMatchObject({
      type: 'member.invited',
      tenant_id: o.tenant.id,
      actor: { type: 'user', id: o.user.id },
      data: { invitation_id: invitation.id, email, role: 'admin', invited_by: o.user.id },
    })
    expect(new Date(event!.data.expires_at as string).toISOString()).toBe(expiresAt)
  })

  it('sends member.invited with the API key as actor and inviter when a key invites', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/invited-by-key', ['member.*'])
    const key = await apiKey(o, ['admin'])
    const res = await call(`${o.host}/v1/invitations`, { body: { email: newEmail(), role: 'member' }, headers: key.headers })
    expect(res.status).toBe(201)
    const [event] = await received(got, 'member.invited')
    expect(event).toMatchObject({ actor: { type: 'api_key', id: key.id }, data: { invitation_id: res.body.id, invited_by: key.id } })
  })

  it('sends member.joined (via invitation) when an invitation is accepted, with the invited role', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/joined', ['member.*'])
    const email = newEmail()
    const { token } = await invite(o.host, o.access_token, email, 'admin')
    const accepted = await call(`${o.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(accepted.status).toBe(200)
    const [event] = await received(got, 'member.joined')
    expect(event).toMatchObject({
      tenant_id: o.tenant.id,
      actor: { type: 'user', id: accepted.body.user.id },
      data: { user_id: accepted.body.user.id, email, role: 'admin', via: 'invitation' },
    })
  })

  it('writes no member.joined for an accept that fails', async () => {
    const o = await signUp()
    await subscribe(receiver, o, '/joined-twice', ['member.*'])
    const { token } = await invite(o.host, o.access_token, newEmail())
    expect((await call(`${o.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })).status).toBe(200)
    expect((await call(`${o.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })).status).toBe(410)
    expect(await outboxEvents(o, 'member.joined')).toHaveLength(1)
  })

  it('sends member.role_changed with the previous and new role and who changed it', async () => {
    const o = await signUp()
    const member = await addMember(o)
    const got = await subscribe(receiver, o, '/role', ['member.*'])
    const res = await call(`${o.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: o.access_token })
    expect(res.status).toBe(200)
    const [event] = await received(got, 'member.role_changed')
    expect(event).toMatchObject({
      tenant_id: o.tenant.id,
      actor: { type: 'user', id: o.user.id },
      data: { user_id: member.user.id, previous_role: 'member', role: 'admin', changed_by: o.user.id },
    })
  })

  it('writes no member.role_changed for a change that did not happen: a no-op, a refusal, the last owner', async () => {
    const o = await signUp()
    const member = await addMember(o)
    const admin = await addMember(o, 'admin')
    await subscribe(receiver, o, '/role-none', ['member.*'])
    const patch = (userId: string, role: string, token: string) => call(`${o.host}/v1/members/${userId}`, { method: 'PATCH', body: { role }, token })
    expect((await patch(member.user.id, 'member', o.access_token)).status).toBe(200)
    expect((await patch(member.user.id, 'owner', admin.access_token)).status).toBe(403)
    expect((await patch(o.user.id, 'admin', o.access_token)).status).toBe(409)
    expect(await outboxEvents(o, 'member.role_changed')).toEqual([])
  })

  it('sends member.removed when an admin removes a member, and when a member leaves (removed_by themselves)', async () => {
    const o = await signUp()
    const admin = await addMember(o, 'admin')
    const removed = await addMember(o)
    const leaver = await addMember(o, 'admin')
    const got = await subscribe(receiver, o, '/removed', ['member.*'])
    expect((await call(`${o.host}/v1/members/${removed.user.id}`, { method: 'DELETE', token: admin.access_token })).status).toBe(204)
    expect((await call(`${o.host}/v1/members/${leaver.user.id}`, { method: 'DELETE', token: leaver.access_token })).status).toBe(204)
    const events = await received(got, 'member.removed', 2)
    expect(events.map((e) => ({ actor: e.actor, data: e.data })).sort((x, y) => String(x.data.user_id).localeCompare(String(y.data.user_id)))).toEqual(
      [
        { actor: { type: 'user', id: admin.user.id }, data: { user_id: removed.user.id, role: 'member', removed_by: admin.user.id } },
        { actor: { type: 'user', id: leaver.user.id }, data: { user_id: leaver.user.id, role: 'admin', removed_by: leaver.user.id } },
      ].sort((x, y) => x.data.user_id.localeCompare(y.data.user_id)),
    )
    // Removing again finds nobody and emits nothing more.
    expect((await call(`${o.host}/v1/members/${removed.user.id}`, { method: 'DELETE', token: admin.access_token })).status).toBe(404)
    expect(await outboxEvents(o, 'member.removed')).toHaveLength(2)
  })

  it('sends member.removed with the API key as actor when a key removes a member', async () => {
    const o = await signUp()
    const member = await addMember(o)
    const key = await apiKey(o, ['admin'])
    const got = await subscribe(receiver, o, '/removed-by-key', ['member.*'])
    expect((await call(`${o.host}/v1/members/${member.user.id}`, { method: 'DELETE', headers: key.headers })).status).toBe(204)
    const [event] = await received(got, 'member.removed')
    expect(event).toMatchObject({ actor: { type: 'api_key', id: key.id }, data: { user_id: member.user.id, role: 'member', removed_by: key.id } })
  })

  it('keeps each tenant’s member events to itself: B’s webhook receives none of A’s', async () => {
    const a = await signUp()
    const b = await signUp()
    const aGot = await subscribe(receiver, a, '/tenant-a', ['*'])
    const bGot = await subscribe(receiver, b, '/tenant-b', ['*'])
    const member = await addMember(a)
    await call(`${a.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: a.access_token })
    await call(`${a.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: a.access_token })
    await received(aGot, 'member.removed')
    expect(aGot().map((e) => e.type).sort()).toEqual(['member.invited', 'member.joined', 'member.removed', 'member.role_changed'])
    expect(aGot().every((e) => e.tenant_id === a.tenant.id)).toBe(true)
    // B's own event arrives; nothing of A's came before it.
    await addMember(b)
    await received(bGot, 'member.joined')
    expect(bGot().every((e) => e.tenant_id === b.tenant.id)).toBe(true)
    expect(JSON.stringify(bGot())).not.toContain(member.user.id)
    expect(await outboxEvents(b, 'member.removed')).toEqual([])
  })
})

describe('membership changes and authorization checks', () => {
  it('refuses a removed member at once: the check after the removal is not a stale allow', async () => {
    const o = await signUp()
    const member = await addMember(o)
    expect(await check(o, member.user.id, 'read')).toMatchObject({ allowed: true })
    expect((await call(`${o.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect(await check(o, member.user.id, 'read')).toEqual({ allowed: false, reason: `user ${member.user.id} is not a member of this tenant` })
  })

  it('refuses a member who left at once', async () => {
    const o = await signUp()
    const member = await addMember(o)
    expect(await check(o, member.user.id, 'read')).toMatchObject({ allowed: true })
    expect((await call(`${o.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: member.access_token })).status).toBe(204)
    expect(await check(o, member.user.id, 'read')).toMatchObject({ allowed: false })
  })

  it('takes members:remove from an admin demoted to member at once', async () => {
    const o = await signUp()
    const admin = await addMember(o, 'admin')
    expect(await check(o, admin.user.id, 'remove')).toMatchObject({ allowed: true })
    expect((await call(`${o.host}/v1/members/${admin.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: o.access_token })).status).toBe(200)
    expect(await check(o, admin.user.id, 'remove')).toEqual({ allowed: false, reason: 'no role or policy grants members:remove' })
    // And the demoted admin's own next request is refused too.
    const other = await addMember(o)
    const refused = await call(`${o.host}/v1/members/${other.user.id}`, { method: 'DELETE', token: admin.access_token })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('permission_denied')
  })

  it('gives members:remove to a member promoted to admin at once', async () => {
    const o = await signUp()
    const member = await addMember(o)
    expect(await check(o, member.user.id, 'remove')).toMatchObject({ allowed: false })
    expect((await call(`${o.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: o.access_token })).status).toBe(200)
    expect(await check(o, member.user.id, 'remove')).toMatchObject({ allowed: true })
  })

  it('allows a just-accepted invitee members:read at once', async () => {
    const o = await signUp()
    const email = newEmail()
    const { token } = await invite(o.host, o.access_token, email)
    // The model is cached before the invitee exists…
    const outsider = crypto.randomUUID()
    expect(await check(o, outsider, 'read')).toMatchObject({ allowed: false })
    const accepted = await call(`${o.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(accepted.status).toBe(200)
    // …and the check right after the accept sees the new member.
    expect(await check(o, accepted.body.user.id, 'read')).toEqual({ allowed: true, reason: "role 'member' held as a member of the tenant" })
  })

  it('allows a member who signed up on the tenant host at once', async () => {
    const o = await signUp()
    const opened = await call(`${PLATFORM}/v1/tenants/${o.tenant.id}`, { method: 'PATCH', body: { settings: { signup_policy: 'open' } }, token: adminToken() })
    expect(opened.status).toBe(200)
    expect(await check(o, crypto.randomUUID(), 'read')).toMatchObject({ allowed: false })
    const joined = await call(`${o.host}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    expect(joined.status, JSON.stringify(joined.body)).toBe(201)
    expect(await check(o, joined.body.user.id, 'read')).toMatchObject({ allowed: true })
  })
})
