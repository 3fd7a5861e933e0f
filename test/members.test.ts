import { describe, expect, it } from 'vitest'
import { addMember, apiKey, auditActions, auditEntries, call, customRole, faults, PLATFORM, publicRole, signUp } from './support.ts'

const NOBODY = '0190a0b0-0000-7000-8000-000000000000'

describe('GET /v1/members', () => {
  it('lists every member with email, name, role, status and joined_at, to any member', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const res = await call(`${owner.host}/v1/members`, { token: member.access_token })
    expect(res.status).toBe(200)
    expect(res.body.next_cursor).toBeNull()
    expect(res.body.data).toEqual([
      { user_id: owner.user.id, email: owner.email, name: 'Owner', role: 'owner', status: 'active', joined_at: expect.any(String) },
      { user_id: member.user.id, email: member.email, name: 'A member', role: 'member', status: 'active', joined_at: expect.any(String) },
    ])
    expect(new Date(res.body.data[0].joined_at).toISOString()).toBe(res.body.data[0].joined_at)
  })

  it('pages with an opaque cursor, in joining order, without repeats', async () => {
    const owner = await signUp()
    const a = await addMember(owner)
    const b = await addMember(owner, 'admin')
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: { status: number; body: { data: { user_id: string }[]; next_cursor: string | null } } = await call(`${owner.host}/v1/members?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: owner.access_token })
      expect(res.status).toBe(200)
      expect(res.body.data.length).toBeLessThanOrEqual(1)
      seen.push(...res.body.data.map((m) => m.user_id))
      cursor = res.body.next_cursor
      pages++
    } while (cursor && pages < 10)
    expect(seen).toEqual([owner.user.id, a.user.id, b.user.id])
    const two = await call(`${owner.host}/v1/members?limit=2`, { token: owner.access_token })
    expect(two.body.data).toHaveLength(2)
    expect(two.body.next_cursor).toEqual(expect.any(String))
  })

  it('refuses a bad limit or a forged cursor with 400', async () => {
    const owner = await signUp()
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=not-a-cursor', `cursor=${btoa('["x","y"]')}`, `cursor=${btoa(`["2025-01-01 00:00:00+00","${NOBODY}'--"]`)}`]) {
      const res = await call(`${owner.host}/v1/members?${query}`, { token: owner.access_token })
      expect(res.status, query).toBe(400)
      expect(['validation_failed', 'invalid_cursor']).toContain(res.body.error.code)
    }
  })

  it('needs a signed-in member of this tenant: 401 without a token, 404 on the platform host', async () => {
    const owner = await signUp()
    const anonymous = await call(`${owner.host}/v1/members`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.error.code).toBe('unauthenticated')
    expect((await call(`${PLATFORM}/v1/members`)).status).toBe(404)
  })
})

describe('PATCH /v1/members/:userId', () => {
  it('lets an admin change a member’s role, in the tenant and the public index, with an audit entry', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const member = await addMember(owner)
    const res = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: admin.access_token })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ user_id: member.user.id, email: member.email, role: 'admin' })
    expect(await publicRole(owner.tenant.id, member.user.id)).toBe('admin')
    const me = await call(`${owner.host}/v1/me/tenants`, { token: member.access_token })
    expect(me.body.data.find((t: { id: string }) => t.id === owner.tenant.id).role).toBe('admin')
    const entry = (await auditActions(owner.tenant.id)).filter((e) => e.action === 'member.role_changed')
    expect(entry).toEqual([{ action: 'member.role_changed', actorId: admin.user.id, targetId: member.user.id, details: { from: 'member', to: 'admin' } }])
  })

  it('refuses a bad role, a bad id, an unknown member and extra fields', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const patch = (id: string, body: unknown) => call(`${owner.host}/v1/members/${id}`, { method: 'PATCH', body, token: owner.access_token })
    expect((await patch(member.user.id, { role: 'superuser' })).status).toBe(400)
    expect((await patch(member.user.id, {})).status).toBe(400)
    expect((await patch(member.user.id, { role: 'admin', status: 'disabled' })).status).toBe(400)
    const badId = await patch('not-a-uuid', { role: 'admin' })
    expect(badId.status).toBe(400)
    expect(badId.body.error.code).toBe('validation_failed')
    const unknown = await patch(NOBODY, { role: 'admin' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('member_not_found')
  })

  it('needs members:update: 401 without a token, 403 permission_denied for a plain member', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const other = await addMember(owner)
    expect((await call(`${owner.host}/v1/members/${other.user.id}`, { method: 'PATCH', body: { role: 'admin' } })).status).toBe(401)
    const res = await call(`${owner.host}/v1/members/${other.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: member.access_token })
    expect(res.status).toBe(403)
    expect(res.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:update', reason: expect.any(String) } })
    // Not even for oneself.
    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: member.access_token })).status).toBe(403)
  })

  it('leaves the owner role to owners: an admin can neither grant it nor take it away', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const member = await addMember(owner)
    const grant = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'owner' }, token: admin.access_token })
    expect(grant.status).toBe(403)
    expect(grant.body.error.code).toBe('owner_role_required')
    const self = await call(`${owner.host}/v1/members/${admin.user.id}`, { method: 'PATCH', body: { role: 'owner' }, token: admin.access_token })
    expect(self.body.error.code).toBe('owner_role_required')
    const demote = await call(`${owner.host}/v1/members/${owner.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: admin.access_token })
    expect(demote.status).toBe(403)
    expect(demote.body.error.code).toBe('owner_role_required')
    const byOwner = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'owner' }, token: owner.access_token })
    expect(byOwner.status).toBe(200)
    expect(byOwner.body.role).toBe('owner')
  })

  it('never demotes the last owner, and lets an owner step down once another owner exists', async () => {
    const owner = await signUp()
    const last = await call(`${owner.host}/v1/members/${owner.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: owner.access_token })
    expect(last.status).toBe(409)
    expect(last.body.error.code).toBe('last_owner')
    const second = await addMember(owner, 'owner')
    const stepDown = await call(`${owner.host}/v1/members/${owner.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: owner.access_token })
    expect(stepDown.status).toBe(200)
    const nowLast = await call(`${owner.host}/v1/members/${second.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: second.access_token })
    expect(nowLast.status).toBe(409)
    expect(nowLast.body.error.code).toBe('last_owner')
  })

  it('keeps one owner when two owners demote each other at the same time', async () => {
    const a = await signUp()
    const b = await addMember(a, 'owner')
    // Every SQL call slowed down: both requests read "another owner exists" before either writes,
    // so only the guarded statement (with its owner lock) can keep the last owner.
    await faults('sql', { mode: 'delay', delayMs: 150 })
    const [x, y] = await Promise.all([
      call(`${a.host}/v1/members/${b.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: a.access_token }),
      call(`${a.host}/v1/members/${a.user.id}`, { method: 'PATCH', body: { role: 'member' }, token: b.access_token }),
    ]).finally(() => faults('sql', { mode: 'off' }))
    expect([x.status, y.status].sort()).toEqual([200, 409])
    const list = await call(`${a.host}/v1/members`, { token: (x.status === 200 ? a : b).access_token })
    expect(list.body.data.filter((m: { role: string }) => m.role === 'owner')).toHaveLength(1)
  })

  it('keeps one owner when the two owners step down or leave at the same time', async () => {
    for (const method of ['PATCH', 'DELETE']) {
      const a = await signUp()
      const b = await addMember(a, 'owner')
      const stepDown = (who: { user: { id: string }; access_token: string }) =>
        call(`${a.host}/v1/members/${who.user.id}`, { method, body: method === 'PATCH' ? { role: 'admin' } : undefined, token: who.access_token })
      await faults('sql', { mode: 'delay', delayMs: 150 })
      const results = await Promise.all([stepDown(a), stepDown(b)]).finally(() => faults('sql', { mode: 'off' }))
      expect(results.map((r) => r.status).sort(), method).toEqual([method === 'PATCH' ? 200 : 204, 409])
      expect(results.find((r) => r.status === 409)!.body.error.code).toBe('last_owner')
      const stayed = results[0]!.status === 409 ? a : b
      const list = await call(`${a.host}/v1/members`, { token: stayed.access_token })
      expect(list.body.data.filter((m: { role: string }) => m.role === 'owner').map((m: { user_id: string }) => m.user_id)).toEqual([stayed.user.id])
    }
  })
})

describe('DELETE /v1/members/:userId', () => {
  it('lets an admin remove a member: the membership rows go, their sessions end, the audit log records it', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const member = await addMember(owner)
    expect((await call(`${owner.host}/v1/me`, { token: member.access_token })).status).toBe(200)
    const res = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: admin.access_token })
    expect(res.status).toBe(204)
    const after = await call(`${owner.host}/v1/me`, { token: member.access_token })
    expect(after.status).toBe(401)
    const refresh = await call(`${owner.host}/v1/auth/refresh`, { body: { refresh_token: member.refresh_token } })
    expect(refresh.status).toBe(401)
    expect(await publicRole(owner.tenant.id, member.user.id)).toBeUndefined()
    const list = await call(`${owner.host}/v1/members`, { token: owner.access_token })
    expect(list.body.data.map((m: { user_id: string }) => m.user_id)).not.toContain(member.user.id)
    const removed = (await auditActions(owner.tenant.id)).filter((e) => e.action === 'member.removed')
    expect(removed).toEqual([{ action: 'member.removed', actorId: admin.user.id, targetId: member.user.id, details: { role: 'member' } }])
    const again = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: admin.access_token })
    expect(again.status).toBe(404)
  })

  it('lets a member leave with their own id (member.left), but not remove anyone else', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const other = await addMember(owner)
    const refused = await call(`${owner.host}/v1/members/${other.user.id}`, { method: 'DELETE', token: member.access_token })
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:remove', reason: expect.any(String) } })
    const left = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: member.access_token })
    expect(left.status).toBe(204)
    expect((await call(`${owner.host}/v1/members`, { token: member.access_token })).status).toBe(401)
    const actions = await auditActions(owner.tenant.id)
    expect(actions.filter((e) => e.action === 'member.left')).toEqual([{ action: 'member.left', actorId: member.user.id, targetId: member.user.id, details: { role: 'member' } }])
    expect(actions.some((e) => e.action === 'member.removed')).toBe(false)
  })

  it('keeps owners for owners: an admin cannot remove one, the last owner cannot leave', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const byAdmin = await call(`${owner.host}/v1/members/${owner.user.id}`, { method: 'DELETE', token: admin.access_token })
    expect(byAdmin.status).toBe(403)
    expect(byAdmin.body.error.code).toBe('owner_role_required')
    const leave = await call(`${owner.host}/v1/members/${owner.user.id}`, { method: 'DELETE', token: owner.access_token })
    expect(leave.status).toBe(409)
    expect(leave.body.error.code).toBe('last_owner')
    expect((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status).toBe(200)
    const second = await addMember(owner, 'owner')
    expect((await call(`${owner.host}/v1/members/${owner.user.id}`, { method: 'DELETE', token: owner.access_token })).status).toBe(204)
    const secondLeaves = await call(`${owner.host}/v1/members/${second.user.id}`, { method: 'DELETE', token: second.access_token })
    expect(secondLeaves.body.error.code).toBe('last_owner')
  })

  it('refuses a bad id (400), an unknown member (404) and anonymous callers (401)', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    expect((await call(`${owner.host}/v1/members/123`, { method: 'DELETE', token: owner.access_token })).status).toBe(400)
    expect((await call(`${owner.host}/v1/members/${NOBODY}`, { method: 'DELETE', token: owner.access_token })).status).toBe(404)
    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE' })).status).toBe(401)
  })
})

describe('members across tenants', () => {
  it('refuses tenant A’s admin token on tenant B’s host, for listing, changing and removing', async () => {
    const a = await signUp()
    const b = await signUp()
    const bMember = await addMember(b)
    const attempts = [
      call(`${b.host}/v1/members`, { token: a.access_token }),
      call(`${b.host}/v1/members/${bMember.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: a.access_token }),
      call(`${b.host}/v1/members/${bMember.user.id}`, { method: 'DELETE', token: a.access_token }),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('invalid_token')
    }
    const list = await call(`${b.host}/v1/members`, { token: b.access_token })
    expect(list.body.data.find((m: { user_id: string }) => m.user_id === bMember.user.id).role).toBe('member')
  })

  it('finds nothing on B’s host for a member of A, even for B’s owner', async () => {
    const a = await signUp()
    const b = await signUp()
    const aMember = await addMember(a)
    const patch = await call(`${b.host}/v1/members/${aMember.user.id}`, { method: 'PATCH', body: { role: 'admin' }, token: b.access_token })
    expect(patch.status).toBe(404)
    expect(patch.body.error.code).toBe('member_not_found')
    expect((await call(`${b.host}/v1/members/${aMember.user.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/members/${a.user.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
    const list = await call(`${b.host}/v1/members`, { token: b.access_token })
    expect(list.body.data.map((m: { user_id: string }) => m.user_id)).toEqual([b.user.id])
    expect(await publicRole(a.tenant.id, aMember.user.id)).toBe('member')
  })
})

/** The member role's own permissions, which a caller must hold to invite or make someone a member. */
const MEMBER_ROLE = ['tenant:read', 'members:read', 'roles:read', 'resource_types:read']

describe('members behind permissions', () => {
  it('lets an API key holding admin list, change and remove members, audited as the key', async () => {
    const owner = await signUp()
    const key = await apiKey(owner, ['admin'])
    const member = await addMember(owner)
    const other = await addMember(owner)
    const list = await call(`${owner.host}/v1/members`, { headers: key.headers })
    expect(list.status).toBe(200)
    expect(list.body.data).toHaveLength(3)
    const promoted = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, headers: key.headers })
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200)
    expect(promoted.body.role).toBe('admin')
    expect((await call(`${owner.host}/v1/members/${other.user.id}`, { method: 'DELETE', headers: key.headers })).status).toBe(204)
    const entries = (await auditEntries(owner.tenant.id)).filter((e) => e.action === 'member.role_changed' || e.action === 'member.removed')
    expect(entries).toEqual([
      { action: 'member.role_changed', actorType: 'api_key', actorId: key.id, targetId: member.user.id, details: { from: 'member', to: 'admin' } },
      { action: 'member.removed', actorType: 'api_key', actorId: key.id, targetId: other.user.id, details: { role: 'member' } },
    ])
  })

  it('keeps the owner role with owners who are people: an admin API key can neither grant it, take it away nor remove an owner', async () => {
    const owner = await signUp()
    const second = await addMember(owner, 'owner')
    const member = await addMember(owner)
    const key = await apiKey(owner, ['admin'])
    for (const res of [
      await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'owner' }, headers: key.headers }),
      await call(`${owner.host}/v1/members/${second.user.id}`, { method: 'PATCH', body: { role: 'admin' }, headers: key.headers }),
      await call(`${owner.host}/v1/members/${second.user.id}`, { method: 'DELETE', headers: key.headers }),
    ]) {
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('owner_role_required')
    }
    expect(await publicRole(owner.tenant.id, second.user.id)).toBe('owner')
    expect(await publicRole(owner.tenant.id, member.user.id)).toBe('member')
  })

  it('lets a key with the member role list members but not change or remove them (403 permission_denied)', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const key = await apiKey(owner, ['member'])
    expect((await call(`${owner.host}/v1/members`, { headers: key.headers })).status).toBe(200)
    const patch = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, headers: key.headers })
    expect(patch.status).toBe(403)
    expect(patch.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:update', reason: 'no role or policy grants members:update' } })
    const remove = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', headers: key.headers })
    expect(remove.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:remove' } })
    expect(await publicRole(owner.tenant.id, member.user.id)).toBe('member')
  })

  it('never lets a caller grant a role holding more than it holds (403 grant_exceeds_own), while members:update still demotes and members:remove removes', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const member = await addMember(owner)
    await customRole(owner, 'people-manager', [...MEMBER_ROLE, 'members:update', 'members:remove'])
    const key = await apiKey(owner, ['people-manager'])
    const promote = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'PATCH', body: { role: 'admin' }, headers: key.headers })
    expect(promote.status).toBe(403)
    expect(promote.body.error).toMatchObject({ code: 'grant_exceeds_own', details: { role: 'admin', permissions: ['*:*'] } })
    expect(await publicRole(owner.tenant.id, member.user.id)).toBe('member')
    const demote = await call(`${owner.host}/v1/members/${admin.user.id}`, { method: 'PATCH', body: { role: 'member' }, headers: key.headers })
    expect(demote.status, JSON.stringify(demote.body)).toBe(200)
    expect(await publicRole(owner.tenant.id, admin.user.id)).toBe('member')
    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', headers: key.headers })).status).toBe(204)
    expect(await publicRole(owner.tenant.id, member.user.id)).toBeUndefined()
  })

  it('lets a member leave even when a deny policy refuses members:remove to everyone', async () => {
    const owner = await signUp()
    const admin = await addMember(owner, 'admin')
    const member = await addMember(owner)
    const policy = await call(`${owner.host}/v1/policies`, { body: { name: 'nobody-removes', effect: 'deny', permission: 'members:remove' }, token: owner.access_token })
    expect(policy.status, JSON.stringify(policy.body)).toBe(201)
    const byAdmin = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: admin.access_token })
    expect(byAdmin.status).toBe(403)
    expect(byAdmin.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'members:remove', reason: expect.stringContaining("denied by policy 'nobody-removes'") } })
    const left = await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: member.access_token })
    expect(left.status).toBe(204)
    expect(await publicRole(owner.tenant.id, member.user.id)).toBeUndefined()
  })

  it('refuses another tenant’s callers: A’s owner “leaving” on B’s host is 401, B’s admin key finds no member of A (404) and is refused on A’s host (401)', async () => {
    const a = await signUp()
    const b = await signUp()
    const leave = await call(`${b.host}/v1/members/${a.user.id}`, { method: 'DELETE', token: a.access_token })
    expect(leave.status).toBe(401)
    expect(leave.body.error.code).toBe('invalid_token')
    // And B's admin key cannot reach A's members through B's host.
    const key = await apiKey(b, ['admin'])
    expect((await call(`${b.host}/v1/members/${a.user.id}`, { method: 'DELETE', headers: key.headers })).status).toBe(404)
    expect((await call(`${a.host}/v1/members`, { headers: key.headers })).status).toBe(401)
    expect(await publicRole(a.tenant.id, a.user.id)).toBe('owner')
  })
})
