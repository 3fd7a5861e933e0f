import { describe, expect, it } from 'vitest'
import { type Account, addMember, apiKey, auditActions, call, type Owner, signUp, subscribe, webhookReceiver } from './support.ts'
import { until } from './webhook-receiver.ts'

/** Custom roles (/v1/roles) and role bindings (/v1/role-bindings), and the decisions they make. */

async function invoiceType(o: Owner) {
  const res = await call(`${o.host}/v1/resource-types`, { body: { name: 'invoice', actions: ['read', 'approve', 'pay'] }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

async function createRole(o: { host: string; access_token: string }, body: Record<string, unknown>) {
  return call(`${o.host}/v1/roles`, { body, token: o.access_token })
}

async function bind(o: { host: string; access_token: string }, body: Record<string, unknown>) {
  return call(`${o.host}/v1/role-bindings`, { body, token: o.access_token })
}

async function check(o: Owner, subject: { type: string; id: string }, action: string, resource: { type: string; id?: string }) {
  const res = await call(`${o.host}/v1/authz/check`, { body: { subject, action, resource }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as { allowed: boolean; reason: string }
}

const user = (a: Account) => ({ type: 'user', id: a.user.id })
/** Calls made as `a` on `o`'s tenant host. */
const as = (o: Owner, a: Account) => ({ host: o.host, access_token: a.access_token })

describe('/v1/roles', () => {
  it('creates, lists, reads, renames and deletes a custom role, audited', async () => {
    const o = await signUp()
    await invoiceType(o)
    const created = await createRole(o, { name: 'approver', description: 'Approves invoices', permissions: ['invoice:read', 'invoice:approve', 'invoice:read'] })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body).toMatchObject({ name: 'approver', description: 'Approves invoices', permissions: ['invoice:read', 'invoice:approve'], built_in: false })

    const list = await call(`${o.host}/v1/roles?limit=2`, { token: o.access_token })
    expect(list.status).toBe(200)
    expect(list.body.data.map((r: { name: string }) => r.name)).toEqual(['admin', 'approver'])
    const rest = await call(`${o.host}/v1/roles?limit=2&cursor=${list.body.next_cursor}`, { token: o.access_token })
    expect(rest.body.data.map((r: { name: string }) => r.name)).toEqual(['member', 'owner'])
    expect(rest.body.next_cursor).toBeNull()

    expect((await call(`${o.host}/v1/roles/${created.body.id}`, { token: o.access_token })).body.name).toBe('approver')
    const renamed = await call(`${o.host}/v1/roles/approver`, { method: 'PATCH', body: { name: 'invoice-approver', permissions: ['invoice:*'] }, token: o.access_token })
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200)
    expect(renamed.body).toMatchObject({ id: created.body.id, name: 'invoice-approver', permissions: ['invoice:*'] })
    expect((await call(`${o.host}/v1/roles/approver`, { token: o.access_token })).status).toBe(404)

    expect((await call(`${o.host}/v1/roles/invoice-approver`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await call(`${o.host}/v1/roles/${created.body.id}`, { token: o.access_token })).body.error.code).toBe('role_not_found')
    const actions = (await auditActions(o.tenant.id)).map((a) => a.action)
    expect(actions).toEqual(expect.arrayContaining(['role.created', 'role.updated', 'role.deleted']))
  })

  it('refuses bad input: malformed or unknown permissions, taken names, UUID-shaped names, empty updates', async () => {
    const o = await signUp()
    await invoiceType(o)
    const malformed = await createRole(o, { name: 'x', permissions: ['invoice'] })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.code).toBe('validation_failed')
    const unknownType = await createRole(o, { name: 'x', permissions: ['invoices:read', 'invoice:fly'] })
    expect(unknownType.status).toBe(400)
    expect(unknownType.body.error.code).toBe('invalid_permission')
    expect(unknownType.body.error.details.problems).toHaveLength(2)
    expect((await createRole(o, { name: 'x', permissions: ['*:raed'] })).body.error.code).toBe('invalid_permission')
    expect((await createRole(o, { name: 'member', permissions: [] })).body.error.code).toBe('role_exists')
    expect((await createRole(o, { name: crypto.randomUUID(), permissions: [] })).status).toBe(400)
    expect((await createRole(o, { name: 'Has Spaces', permissions: [] })).status).toBe(400)
    expect((await createRole(o, { name: 'ok', permissions: [], extra: 1 })).status).toBe(400)
    expect((await call(`${o.host}/v1/roles/member`, { method: 'PATCH', body: {}, token: o.access_token })).status).toBe(400)
    await createRole(o, { name: 'a', permissions: [] })
    await createRole(o, { name: 'b', permissions: [] })
    const clash = await call(`${o.host}/v1/roles/a`, { method: 'PATCH', body: { name: 'b' }, token: o.access_token })
    expect(clash.status).toBe(409)
    expect(clash.body.error.code).toBe('role_exists')
  })

  it('keeps the built-in roles: no renaming or deleting them, owner and admin keep *:*, member’s permissions may change', async () => {
    const o = await signUp()
    expect((await call(`${o.host}/v1/roles/admin`, { method: 'PATCH', body: { permissions: ['tenant:read'] }, token: o.access_token })).body.error.code).toBe('built_in_role')
    expect((await call(`${o.host}/v1/roles/owner`, { method: 'PATCH', body: { name: 'boss' }, token: o.access_token })).body.error.code).toBe('built_in_role')
    expect((await call(`${o.host}/v1/roles/member`, { method: 'DELETE', token: o.access_token })).body.error.code).toBe('built_in_role')
    const m = await addMember(o)
    expect((await check(o, user(m), 'read', { type: 'audit' })).allowed).toBe(false)
    const widened = await call(`${o.host}/v1/roles/member`, { method: 'PATCH', body: { permissions: ['tenant:read', 'members:read', 'audit:read'] }, token: o.access_token })
    expect(widened.status, JSON.stringify(widened.body)).toBe(200)
    const decision = await check(o, user(m), 'read', { type: 'audit' })
    expect(decision).toMatchObject({ allowed: true, reason: "role 'member' held as a member of the tenant" })
    expect((await call(`${o.host}/v1/audit`, { token: m.access_token })).status).toBe(200)
  })

  it('refuses a role in use unless forced; force takes it from bindings and API keys; a rename follows into API keys', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'reader', permissions: ['invoice:read', 'authz:check'] })
    const key = await apiKey(o, ['reader'])
    const m = await addMember(o)
    expect((await bind(o, { subject: user(m), role: 'reader' })).status).toBe(201)

    const renamed = await call(`${o.host}/v1/roles/reader`, { method: 'PATCH', body: { name: 'invoice-reader' }, token: o.access_token })
    expect(renamed.status).toBe(200)
    const listed = await call(`${o.host}/v1/api-keys/${key.id}`, { token: o.access_token })
    expect(listed.body.roles).toEqual(['invoice-reader'])
    expect((await check(o, { type: 'api_key', id: key.id }, 'read', { type: 'invoice' })).allowed).toBe(true)

    const refused = await call(`${o.host}/v1/roles/invoice-reader`, { method: 'DELETE', token: o.access_token })
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatchObject({ code: 'role_in_use', details: { bindings: 1, api_keys: [expect.any(String)] } })
    expect((await check(o, user(m), 'read', { type: 'invoice' })).allowed).toBe(true)

    expect((await call(`${o.host}/v1/roles/invoice-reader?force=true`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await check(o, user(m), 'read', { type: 'invoice' })).allowed).toBe(false)
    expect((await check(o, { type: 'api_key', id: key.id }, 'read', { type: 'invoice' })).allowed).toBe(false)
    expect((await call(`${o.host}/v1/api-keys/${key.id}`, { token: o.access_token })).body.roles).toEqual([])
    expect((await call(`${o.host}/v1/role-bindings?subject_id=${m.user.id}`, { token: o.access_token })).body.data).toEqual([])
  })

  it('never lets a caller write a role holding more than they hold (403 grant_exceeds_own)', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'role-admin', permissions: ['roles:create', 'roles:read', 'roles:update', 'invoice:read'] })
    const m = await addMember(o)
    expect((await bind(o, { subject: user(m), role: 'role-admin' })).status).toBe(201)
    const within = await createRole(as(o, m), { name: 'reader', permissions: ['invoice:read'] })
    expect(within.status, JSON.stringify(within.body)).toBe(201)
    const beyond = await createRole(as(o, m), { name: 'god', permissions: ['*:*'] })
    expect(beyond.status).toBe(403)
    expect(beyond.body.error).toMatchObject({ code: 'grant_exceeds_own', details: { permissions: ['*:*'] } })
    // Holding today's invoice actions is not holding invoice:* (a later action would escape).
    expect((await createRole(as(o, m), { name: 'all-invoices', permissions: ['invoice:*'] })).body.error.code).toBe('grant_exceeds_own')
    expect((await call(`${o.host}/v1/roles/reader`, { method: 'PATCH', body: { permissions: ['invoice:read', 'invoice:pay'] }, token: m.access_token })).body.error.code).toBe('grant_exceeds_own')
  })

  it('needs credentials and the permission: 401 without a token, 403 for a plain member', async () => {
    const o = await signUp()
    const m = await addMember(o)
    expect((await call(`${o.host}/v1/roles`)).status).toBe(401)
    expect((await call(`${o.host}/v1/roles`, { body: { name: 'x', permissions: [] } })).status).toBe(401)
    expect((await call(`${o.host}/v1/roles`, { token: m.access_token })).status).toBe(200)
    const denied = await createRole(as(o, m), { name: 'x', permissions: [] })
    expect(denied.status).toBe(403)
    expect(denied.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'roles:create' } })
    expect((await call(`${o.host}/v1/roles/member`, { method: 'PATCH', body: { description: 'x' }, token: m.access_token })).status).toBe(403)
    expect((await call(`${o.host}/v1/role-bindings`, { token: m.access_token })).status).toBe(403)
  })

  it('keeps tenants apart: another tenant’s owner sees none of these roles or bindings', async () => {
    const a = await signUp()
    const b = await signUp()
    await invoiceType(a)
    const role = await createRole(a, { name: 'reader', permissions: ['invoice:read'] })
    const m = await addMember(a)
    const binding = await bind(a, { subject: user(m), role: 'reader' })
    expect((await call(`${b.host}/v1/roles/${role.body.id}`, { token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/roles/${role.body.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/role-bindings/${binding.body.id}`, { token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/role-bindings/${binding.body.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/role-bindings`, { token: b.access_token })).body.data).toEqual([])
    // A's member cannot be bound in B, and A's token is no credential on B's host.
    const foreign = await bind(b, { subject: user(m), role: 'member' })
    expect(foreign.status).toBe(400)
    expect(foreign.body.error.code).toBe('unknown_subject')
    expect((await call(`${b.host}/v1/roles`, { token: a.access_token })).status).toBe(401)
    expect((await check(a, user(m), 'read', { type: 'invoice' })).allowed).toBe(true)
  })
})

describe('/v1/role-bindings', () => {
  it('binds a role on one resource instance: allowed there only, with the binding named in the reason', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'approver', permissions: ['invoice:approve'] })
    const m = await addMember(o)
    const created = await bind(o, { subject: user(m), role: 'approver', resource_type: 'invoice', resource_id: '42' })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body).toMatchObject({ subject: user(m), role: 'approver', resource_type: 'invoice', resource_id: '42', expires_at: null, expired: false, created_by: o.user.id })
    const there = await check(o, user(m), 'approve', { type: 'invoice', id: '42' })
    expect(there).toEqual({ allowed: true, reason: `role 'approver' bound on invoice:42 (binding ${created.body.id})` })
    expect((await check(o, user(m), 'approve', { type: 'invoice', id: '43' })).allowed).toBe(false)
    expect((await check(o, user(m), 'approve', { type: 'invoice' })).allowed).toBe(false)
    expect((await check(o, user(m), 'read', { type: 'invoice', id: '42' })).allowed).toBe(false)
  })

  it('binds tenant-wide with wildcards: invoice:* and *:read', async () => {
    const o = await signUp()
    await invoiceType(o)
    await call(`${o.host}/v1/resource-types`, { body: { name: 'report', actions: ['read', 'export'] }, token: o.access_token })
    await createRole(o, { name: 'invoicer', permissions: ['invoice:*'] })
    await createRole(o, { name: 'auditor', permissions: ['*:read'] })
    const m = await addMember(o)
    const n = await addMember(o)
    const b1 = await bind(o, { subject: user(m), role: 'invoicer' })
    await bind(o, { subject: user(n), role: 'auditor' })
    expect(await check(o, user(m), 'pay', { type: 'invoice', id: '1' })).toEqual({ allowed: true, reason: `role 'invoicer' bound tenant-wide (binding ${b1.body.id})` })
    expect((await check(o, user(m), 'read', { type: 'report' })).allowed).toBe(false)
    expect((await check(o, user(n), 'read', { type: 'report' })).allowed).toBe(true)
    expect((await check(o, user(n), 'read', { type: 'invoice' })).allowed).toBe(true)
    expect((await check(o, user(n), 'export', { type: 'report' })).allowed).toBe(false)
    // An action added later is covered by invoice:* at once.
    await call(`${o.host}/v1/resource-types/invoice`, { method: 'PATCH', body: { add_actions: ['void'] }, token: o.access_token })
    expect((await check(o, user(m), 'void', { type: 'invoice' })).allowed).toBe(true)
  })

  it('stops allowing when the binding expires', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'temp', permissions: ['invoice:pay'] })
    const m = await addMember(o)
    // Long enough that the first check lands before the expiry even when the machine is busy (files run in parallel).
    const expiresAt = new Date(Date.now() + 6000)
    const created = await bind(o, { subject: user(m), role: 'temp', expires_at: expiresAt.toISOString() })
    expect(created.status).toBe(201)
    expect((await check(o, user(m), 'pay', { type: 'invoice' })).allowed).toBe(true)
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() - Date.now()) + 100))
    const after = await check(o, user(m), 'pay', { type: 'invoice' })
    expect(after).toEqual({ allowed: false, reason: 'no role or policy grants invoice:pay' })
    const listed = await call(`${o.host}/v1/role-bindings/${created.body.id}`, { token: o.access_token })
    expect(listed.body.expired).toBe(true)
  })

  it('has no stale allow: the check right after a binding is deleted, a role loses the permission, or the member leaves is denied', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'payer', permissions: ['invoice:pay', 'invoice:read'] })
    const m = await addMember(o)
    const binding = await bind(o, { subject: user(m), role: 'payer' })
    expect((await check(o, user(m), 'pay', { type: 'invoice' })).allowed).toBe(true)
    expect((await call(`${o.host}/v1/role-bindings/${binding.body.id}`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await check(o, user(m), 'pay', { type: 'invoice' })).allowed).toBe(false)

    await bind(o, { subject: user(m), role: 'payer' })
    expect((await check(o, user(m), 'pay', { type: 'invoice' })).allowed).toBe(true)
    await call(`${o.host}/v1/roles/payer`, { method: 'PATCH', body: { permissions: ['invoice:read'] }, token: o.access_token })
    expect((await check(o, user(m), 'pay', { type: 'invoice' })).allowed).toBe(false)
    expect((await check(o, user(m), 'read', { type: 'invoice' })).allowed).toBe(true)

    // Leaving takes the member's bindings with the membership (a rejoin starts afresh).
    expect((await call(`${o.host}/v1/members/${m.user.id}`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await check(o, user(m), 'read', { type: 'invoice' })).allowed).toBe(false)
    expect((await call(`${o.host}/v1/role-bindings?subject_id=${m.user.id}`, { token: o.access_token })).body.data).toEqual([])
  })

  it('gives an API key a role on one resource, and takes it back with the key', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'approver', permissions: ['invoice:approve'] })
    const key = await apiKey(o, ['member'])
    const created = await bind(o, { subject: { type: 'api_key', id: key.id }, role: 'approver', resource_type: 'invoice', resource_id: '7' })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect((await check(o, { type: 'api_key', id: key.id }, 'approve', { type: 'invoice', id: '7' })).allowed).toBe(true)
    await call(`${o.host}/v1/api-keys/${key.id}`, { method: 'DELETE', token: o.access_token })
    expect((await check(o, { type: 'api_key', id: key.id }, 'approve', { type: 'invoice', id: '7' })).allowed).toBe(false)
    expect((await bind(o, { subject: { type: 'api_key', id: key.id }, role: 'approver' })).body.error.code).toBe('unknown_subject')
  })

  it('lists and filters bindings, a page at a time', async () => {
    const o = await signUp()
    await invoiceType(o)
    await createRole(o, { name: 'approver', permissions: ['invoice:approve'] })
    const m = await addMember(o)
    for (const id of ['1', '2', '3']) expect((await bind(o, { subject: user(m), role: 'approver', resource_type: 'invoice', resource_id: id })).status).toBe(201)
    await bind(o, { subject: user(m), role: 'admin' })
    const page = await call(`${o.host}/v1/role-bindings?role=approver&limit=2`, { token: o.access_token })
    expect(page.body.data.map((b: { resource_id: string }) => b.resource_id)).toEqual(['1', '2'])
    const next = await call(`${o.host}/v1/role-bindings?role=approver&limit=2&cursor=${page.body.next_cursor}`, { token: o.access_token })
    expect(next.body.data.map((b: { resource_id: string }) => b.resource_id)).toEqual(['3'])
    expect(next.body.next_cursor).toBeNull()
    expect((await call(`${o.host}/v1/role-bindings?resource_type=invoice&resource_id=2`, { token: o.access_token })).body.data).toHaveLength(1)
    expect((await call(`${o.host}/v1/role-bindings?subject_type=user&subject_id=${m.user.id}`, { token: o.access_token })).body.data).toHaveLength(4)
    expect((await call(`${o.host}/v1/role-bindings?subject_id=nope`, { token: o.access_token })).status).toBe(400)
  })

  it('refuses bad bindings: unknown role, owner, unknown type, half a resource, a past expiry, duplicates, granting beyond one’s own', async () => {
    const o = await signUp()
    await invoiceType(o)
    const m = await addMember(o)
    const code = async (body: Record<string, unknown>, token = o.access_token) => (await bind({ host: o.host, access_token: token }, body)).body.error?.code
    expect(await code({ subject: user(m), role: 'nope' })).toBe('unknown_role')
    expect(await code({ subject: user(m), role: 'owner' })).toBe('built_in_role')
    expect(await code({ subject: user(m), role: 'admin', resource_type: 'nope', resource_id: '1' })).toBe('unknown_resource_type')
    expect(await code({ subject: user(m), role: 'admin', resource_type: 'invoice' })).toBe('validation_failed')
    expect(await code({ subject: user(m), role: 'admin', expires_at: new Date(Date.now() - 1000).toISOString() })).toBe('validation_failed')
    expect(await code({ subject: { type: 'user', id: crypto.randomUUID() }, role: 'admin' })).toBe('unknown_subject')
    expect(await code({ subject: { type: 'group', id: m.user.id }, role: 'admin' })).toBe('validation_failed')
    expect((await bind(o, { subject: user(m), role: 'member', resource_type: 'invoice', resource_id: '1' })).status).toBe(201)
    expect(await code({ subject: user(m), role: 'member', resource_type: 'invoice', resource_id: '1' })).toBe('role_binding_exists')
    // A binder holding role_bindings:create but not admin's *:* cannot hand out admin.
    await createRole(o, { name: 'binder', permissions: ['role_bindings:create', 'invoice:read'] })
    await createRole(o, { name: 'reader', permissions: ['invoice:read'] })
    const n = await addMember(o)
    await bind(o, { subject: user(n), role: 'binder' })
    expect(await code({ subject: user(m), role: 'admin' }, n.access_token)).toBe('grant_exceeds_own')
    expect((await bind(as(o, n), { subject: user(m), role: 'reader' })).status).toBe(201)
  })
})

describe('role webhook events', () => {
  const receiver = webhookReceiver()

  it('sends role.created, updated, assigned, unassigned and deleted to a webhook subscribed to role.*', async () => {
    const o = await signUp()
    await invoiceType(o)
    const m = await addMember(o)
    const got = await subscribe(receiver, o, '/roles', ['role.*'])
    await createRole(o, { name: 'approver', description: 'Approves', permissions: ['invoice:approve'] })
    await call(`${o.host}/v1/roles/approver`, { method: 'PATCH', body: { permissions: ['invoice:approve', 'invoice:read'] }, token: o.access_token })
    const binding = await bind(o, { subject: user(m), role: 'approver', resource_type: 'invoice', resource_id: '9' })
    await call(`${o.host}/v1/role-bindings/${binding.body.id}`, { method: 'DELETE', token: o.access_token })
    await call(`${o.host}/v1/roles/approver`, { method: 'DELETE', token: o.access_token })
    const events = await until('five role events', () => got().length >= 5 && got())
    const byType = Object.fromEntries(events.map((e) => [e.type, e]))
    expect(byType['role.created']).toMatchObject({ data: { role: 'approver', description: 'Approves', permissions: ['invoice:approve'] }, actor: { type: 'user', id: o.user.id } })
    expect(byType['role.updated']).toMatchObject({ data: { role: 'approver', permissions: ['invoice:approve', 'invoice:read'] } })
    const bound = { binding_id: binding.body.id, role: 'approver', subject: user(m), resource_type: 'invoice', resource_id: '9' }
    expect(byType['role.assigned']).toMatchObject({ data: { ...bound, expires_at: null } })
    expect(byType['role.unassigned']).toMatchObject({ data: bound })
    expect(byType['role.deleted']).toMatchObject({ data: { role: 'approver' } })
    // A refused change sends nothing.
    await createRole(o, { name: 'member', permissions: [] })
    await bind(o, { subject: user(m), role: 'nope' })
    await new Promise((r) => setTimeout(r, 200))
    expect(receiver.requestsTo('/roles')).toHaveLength(5)
  })
})

describe('events of forced deletes', () => {
  const receiver = webhookReceiver()

  it('a forced resource-type delete announces each policy, binding and role it changes, in its own batch', async () => {
    const o = await signUp()
    await invoiceType(o)
    const m = await addMember(o)
    await createRole(o, { name: 'approver', description: 'Approves', permissions: ['invoice:approve', 'members:read'] })
    const policy = await call(`${o.host}/v1/policies`, { body: { name: 'weekdays', effect: 'deny', permission: 'invoice:pay', conditions: { eq: [{ ref: 'resource.attributes.owner' }, { ref: 'subject.id' }] } }, token: o.access_token })
    expect(policy.status, JSON.stringify(policy.body)).toBe(201)
    const binding = await bind(o, { subject: user(m), role: 'approver', resource_type: 'invoice', resource_id: '7' })
    expect(binding.status, JSON.stringify(binding.body)).toBe(201)
    const got = await subscribe(receiver, o, '/forced-type', ['policy.*', 'role.*'])

    expect((await call(`${o.host}/v1/resource-types/invoice?force=true`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    const events = await until('three events', () => got().length >= 3 && got())
    const byType = Object.fromEntries(events.map((e) => [e.type, e]))
    expect(byType['policy.deleted']).toMatchObject({ data: { policy_id: policy.body.id, name: 'weekdays' }, actor: { type: 'user', id: o.user.id } })
    expect(byType['role.unassigned']).toMatchObject({ data: { binding_id: binding.body.id, role: 'approver', subject: user(m), resource_type: 'invoice', resource_id: '7' } })
    expect(byType['role.updated']).toMatchObject({ data: { role: 'approver', description: 'Approves', permissions: ['members:read'] } })
    await new Promise((r) => setTimeout(r, 200))
    expect(receiver.requestsTo('/forced-type')).toHaveLength(3)
  })

  it('a refused (unforced) delete announces nothing; a forced role delete announces its bindings', async () => {
    const o = await signUp()
    await invoiceType(o)
    const m = await addMember(o)
    await createRole(o, { name: 'payer', permissions: ['invoice:pay'] })
    const binding = await bind(o, { subject: user(m), role: 'payer' })
    const got = await subscribe(receiver, o, '/forced-role', ['role.*', 'policy.*'])
    expect((await call(`${o.host}/v1/resource-types/invoice`, { method: 'DELETE', token: o.access_token })).status).toBe(409)
    expect((await call(`${o.host}/v1/roles/payer`, { method: 'DELETE', token: o.access_token })).status).toBe(409)
    expect((await call(`${o.host}/v1/roles/payer?force=true`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    const events = await until('two events', () => got().length >= 2 && got())
    expect(events.map((e) => e.type).sort()).toEqual(['role.deleted', 'role.unassigned'])
    expect(events.find((e) => e.type === 'role.unassigned')).toMatchObject({ data: { binding_id: binding.body.id, role: 'payer', subject: user(m), resource_type: null, resource_id: null } })
    await new Promise((r) => setTimeout(r, 200))
    expect(receiver.requestsTo('/forced-role')).toHaveLength(2)
  })
})
