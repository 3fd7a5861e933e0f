import { describe, expect, it } from 'vitest'
import { ATRIUM_RESOURCE_TYPES } from '../src/authz/atrium-types.ts'
import { addMember, call, customRole, PLATFORM, signUp, type Owner } from './support.ts'

/** GET /v1/me/permissions (what the console shows) and the members list's search. */

const EVERY = Object.entries(ATRIUM_RESOURCE_TYPES).flatMap(([type, t]) => t.actions.map((a) => `${type}:${a}`))
const mine = (host: string, token: string) => call(`${host}/v1/me/permissions`, { token })

async function bind(o: Owner, userId: string, role: string) {
  const res = await call(`${o.host}/v1/role-bindings`, { body: { subject: { type: 'user', id: userId }, role }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

describe('GET /v1/me/permissions', () => {
  it('answers every Atrium permission to an owner, and the member role’s to a member', async () => {
    const o = await signUp()
    const owner = await mine(o.host, o.access_token)
    expect(owner.status).toBe(200)
    expect(owner.body.permissions).toEqual(EVERY)
    expect(owner.body.authz_version).toEqual(expect.any(Number))
    expect(owner.headers.get('cache-control')).toBe('no-store')
    const m = await addMember(o)
    expect((await mine(o.host, m.access_token)).body.permissions).toEqual(['tenant:read', 'members:read', 'roles:read', 'resource_types:read'])
  })

  it('follows the model, not role names: a member role emptied, then a custom role bound, then a deny policy', async () => {
    const o = await signUp()
    const m = await addMember(o)
    expect((await call(`${o.host}/v1/roles/member`, { method: 'PATCH', body: { permissions: [] }, token: o.access_token })).status).toBe(200)
    expect((await mine(o.host, m.access_token)).body.permissions).toEqual([])
    await customRole(o, 'inviter', ['members:read', 'members:invite', 'invitations:*'])
    await bind(o, m.user.id, 'inviter')
    expect((await mine(o.host, m.access_token)).body.permissions).toEqual(['members:read', 'members:invite', 'invitations:read', 'invitations:revoke'])
    // The endpoints agree with the answer.
    expect((await call(`${o.host}/v1/members`, { token: m.access_token })).status).toBe(200)
    expect((await call(`${o.host}/v1/roles`, { token: m.access_token })).status).toBe(403)
    const deny = await call(`${o.host}/v1/policies`, { body: { name: 'no-invites', effect: 'deny', permission: 'members:invite' }, token: o.access_token })
    expect(deny.status, JSON.stringify(deny.body)).toBe(201)
    expect((await mine(o.host, m.access_token)).body.permissions).toEqual(['members:read', 'invitations:read', 'invitations:revoke'])
    // A deny policy reaches the owner too (except on policies, the break-glass rule).
    expect((await mine(o.host, o.access_token)).body.permissions).toEqual(EVERY.filter((p) => p !== 'members:invite'))
  })

  it('needs a signed-in member of this tenant: 401 without a token or with another tenant’s, 404 on the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    const anonymous = await mine(a.host, '')
    expect(anonymous.status).toBe(401)
    const foreign = await mine(a.host, b.access_token)
    expect(foreign.status).toBe(401)
    expect(foreign.body.error.code).toBe('invalid_token')
    expect(JSON.stringify(foreign.body)).not.toContain('members:')
    expect((await call(`${PLATFORM}/v1/me/permissions`)).status).toBe(404)
  })
})

describe('GET /v1/members?q=', () => {
  it('keeps members whose email or name contains the text, case-insensitive, pages included', async () => {
    const o = await signUp({ name: 'Oleg Owner' })
    const a = await addMember(o)
    const b = await addMember(o, 'admin')
    const byEmail = await call(`${o.host}/v1/members?q=${encodeURIComponent(a.email.slice(0, 12).toUpperCase())}`, { token: o.access_token })
    expect(byEmail.status).toBe(200)
    expect(byEmail.body.data.map((x: { user_id: string }) => x.user_id)).toEqual([a.user.id])
    const byName = await call(`${o.host}/v1/members?q=oleg`, { token: o.access_token })
    expect(byName.body.data.map((x: { user_id: string }) => x.user_id)).toEqual([o.user.id])
    // "A admin" is addMember's name for an admin; every address is at example.com, so the search spans pages.
    const rest = await call(`${o.host}/v1/members?q=admi&limit=1`, { token: o.access_token })
    expect(rest.body.data.map((x: { user_id: string }) => x.user_id)).toEqual([b.user.id])
    const second = await call(`${o.host}/v1/members?q=${encodeURIComponent('@EXAMPLE.com')}&limit=2`, { token: o.access_token })
    expect(second.body.data.map((x: { user_id: string }) => x.user_id)).toEqual([o.user.id, a.user.id])
    const third = await call(`${o.host}/v1/members?q=${encodeURIComponent('@EXAMPLE.com')}&limit=2&cursor=${second.body.next_cursor}`, { token: o.access_token })
    expect(third.body.data.map((x: { user_id: string }) => x.user_id)).toEqual([b.user.id])
    expect(third.body.next_cursor).toBeNull()
  })

  it('takes % and _ literally, and refuses an empty or too long search', async () => {
    const o = await signUp()
    await addMember(o)
    expect((await call(`${o.host}/v1/members?q=%25`, { token: o.access_token })).body.data).toEqual([])
    expect((await call(`${o.host}/v1/members?q=_`, { token: o.access_token })).body.data).toEqual([])
    expect((await call(`${o.host}/v1/members?q=${'x'.repeat(201)}`, { token: o.access_token })).status).toBe(400)
    expect((await call(`${o.host}/v1/members?q=%20`, { token: o.access_token })).status).toBe(400)
  })
})
