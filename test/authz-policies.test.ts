import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { schemaNameFor } from '../src/db/tenant-schema.ts'
import { addMember, auditActions, call, database, type Owner, signUp, subscribe, webhookReceiver } from './support.ts'
import { until } from './webhook-receiver.ts'

/** /v1/policies through the Worker (docs/api/authorization-policies.md). Decisions: test/authz-check.test.ts. */

const receiver = webhookReceiver()

const createPolicy = (o: { host: string }, body: unknown, token: string) => call(`${o.host}/v1/policies`, { body, token })

async function registerInvoice(o: Owner) {
  const res = await call(`${o.host}/v1/resource-types`, {
    body: { name: 'invoice', actions: ['read', 'edit', 'approve'], attributes: { owner: { type: 'string' }, amount: { type: 'number' } } },
    token: o.access_token,
  })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

const ownInvoices = { eq: [{ ref: 'resource.attributes.owner' }, { ref: 'subject.id' }] }

describe('/v1/policies', () => {
  it('creates, reads (by id and by name), updates and deletes a policy, with an audit entry for each change', async () => {
    const o = await signUp()
    await registerInvoice(o)
    const created = await createPolicy(o, { name: 'own-invoices', description: 'Edit your own', effect: 'allow', permission: 'invoice:edit', conditions: ownInvoices }, o.access_token)
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body).toMatchObject({ name: 'own-invoices', description: 'Edit your own', effect: 'allow', permission: 'invoice:edit', conditions: ownInvoices })
    const id = created.body.id as string

    const byId = await call(`${o.host}/v1/policies/${id}`, { token: o.access_token })
    const byName = await call(`${o.host}/v1/policies/own-invoices`, { token: o.access_token })
    expect(byId.status).toBe(200)
    expect(byName.body).toEqual(byId.body)

    const patched = await call(`${o.host}/v1/policies/${id}`, { method: 'PATCH', body: { name: 'big-invoices', effect: 'deny', permission: 'invoice:*', conditions: { gt: [{ ref: 'resource.attributes.amount' }, 10000] } }, token: o.access_token })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    expect(patched.body).toMatchObject({ id, name: 'big-invoices', description: 'Edit your own', effect: 'deny', permission: 'invoice:*', conditions: { gt: [{ ref: 'resource.attributes.amount' }, 10000] } })
    expect(patched.body.updated_at >= created.body.updated_at).toBe(true)

    const removed = await call(`${o.host}/v1/policies/big-invoices`, { method: 'PATCH', body: { conditions: null, description: null }, token: o.access_token })
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ conditions: null, description: null, effect: 'deny' })

    const deleted = await call(`${o.host}/v1/policies/big-invoices`, { method: 'DELETE', token: o.access_token })
    expect(deleted.status).toBe(204)
    expect((await call(`${o.host}/v1/policies/${id}`, { token: o.access_token })).status).toBe(404)
    const audit = (await auditActions(o.tenant.id)).filter((a) => a.action.startsWith('policy.'))
    expect(audit.map((a) => a.action)).toEqual(['policy.created', 'policy.updated', 'policy.updated', 'policy.deleted'])
    expect(audit.every((a) => a.targetId === id && a.actorId === o.user.id)).toBe(true)
  })

  it('lists policies by name, a page at a time', async () => {
    const o = await signUp()
    for (const name of ['c-policy', 'a-policy', 'b-policy']) {
      expect((await createPolicy(o, { name, effect: 'deny', permission: 'webhooks:delete' }, o.access_token)).status).toBe(201)
    }
    const first = await call(`${o.host}/v1/policies?limit=2`, { token: o.access_token })
    expect(first.status).toBe(200)
    expect(first.body.data.map((p: { name: string }) => p.name)).toEqual(['a-policy', 'b-policy'])
    expect(first.body.next_cursor).toBe('b-policy')
    const second = await call(`${o.host}/v1/policies?limit=2&cursor=${first.body.next_cursor}`, { token: o.access_token })
    expect(second.body.data.map((p: { name: string }) => p.name)).toEqual(['c-policy'])
    expect(second.body.next_cursor).toBeNull()
    expect((await call(`${o.host}/v1/policies?limit=0`, { token: o.access_token })).status).toBe(400)
  })

  it('sends policy.created, policy.updated and policy.deleted to a webhook subscribed to policy.*', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/policies', ['policy.*'])
    const created = await createPolicy(o, { name: 'no-deletes', effect: 'deny', permission: 'webhooks:delete' }, o.access_token)
    await call(`${o.host}/v1/policies/no-deletes`, { method: 'PATCH', body: { description: 'keep hooks' }, token: o.access_token })
    await call(`${o.host}/v1/policies/no-deletes`, { method: 'DELETE', token: o.access_token })
    const sent = await until('three policy events', () => got().length === 3 && got())
    const events = sent.sort((a, b) => (a.id < b.id ? -1 : 1))
    expect(events.map((e) => e.type)).toEqual(['policy.created', 'policy.updated', 'policy.deleted'])
    expect(events[0]!.data).toEqual({ policy_id: created.body.id, name: 'no-deletes', effect: 'deny', permission: 'webhooks:delete', conditions: null })
    expect(events[2]!.data).toEqual({ policy_id: created.body.id, name: 'no-deletes' })
  })

  it.each([
    ['an unknown operator', { like: [{ ref: 'subject.id' }, 'x'] }, 'conditions.like'],
    ['the wrong number of operands', { all: [{ eq: [{ ref: 'subject.id' }] }] }, 'conditions.all.0.eq'],
    ['a bad CIDR range', { ip_in_cidr: [{ ref: 'context.ip' }, ['10.0.0.0/8', '10.0.0.0/33']] }, 'conditions.ip_in_cidr.1.1'],
    ['an unknown reference', { any: [{ eq: [{ ref: 'subject.name' }, 'x'] }] }, 'conditions.any.0.eq.0.ref'],
    ['two operators in one node', { eq: [1, 1], ne: [1, 2] }, 'conditions'],
    ['nesting deeper than 8 levels', { not: { not: { not: { not: { not: { not: { not: { not: { eq: [1, 1] } } } } } } } } }, 'conditions'],
  ])('refuses conditions with %s (400 validation_failed at the exact path)', async (_what, conditions, path) => {
    const o = await signUp()
    const res = await createPolicy(o, { name: 'bad', effect: 'deny', permission: 'tenant:update', conditions }, o.access_token)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([path])
    // PATCH validates the same way, and a refused write changes nothing.
    const good = await createPolicy(o, { name: 'good', effect: 'deny', permission: 'tenant:update', conditions: { eq: [{ ref: 'context.hour' }, 3] } }, o.access_token)
    const patched = await call(`${o.host}/v1/policies/good`, { method: 'PATCH', body: { conditions }, token: o.access_token })
    expect(patched.status).toBe(400)
    expect(patched.body.error.details[0].path).toBe(path)
    expect((await call(`${o.host}/v1/policies/good`, { token: o.access_token })).body.conditions).toEqual(good.body.conditions)
  })

  it('refuses a permission naming an unknown type or action (400 invalid_permission) and a malformed one (400 validation_failed)', async () => {
    const o = await signUp()
    await registerInvoice(o)
    for (const permission of ['ticket:read', 'invoice:pay', '*:pay']) {
      const res = await createPolicy(o, { name: 'p', effect: 'deny', permission }, o.access_token)
      expect(res.status, permission).toBe(400)
      expect(res.body.error.code).toBe('invalid_permission')
      expect(res.body.error.message).toContain(permission.split(':')[permission.startsWith('ticket') ? 0 : 1])
    }
    const malformed = await createPolicy(o, { name: 'p', effect: 'deny', permission: 'invoice' }, o.access_token)
    expect(malformed.body.error.code).toBe('validation_failed')
    const ok = await createPolicy(o, { name: 'p', effect: 'deny', permission: '*:approve' }, o.access_token)
    expect(ok.status).toBe(201)
    const patched = await call(`${o.host}/v1/policies/p`, { method: 'PATCH', body: { permission: 'invoice:pay' }, token: o.access_token })
    expect(patched.body.error.code).toBe('invalid_permission')
  })

  it('refuses conditions reading resource attributes the type does not declare (400 invalid_conditions naming them)', async () => {
    const o = await signUp()
    await registerInvoice(o)
    const typo = { all: [{ eq: [{ ref: 'resource.attributes.ownr' }, { ref: 'subject.id' }] }, { gt: [{ ref: 'resource.attributes.amount' }, 5] }] }
    for (const permission of ['invoice:edit', 'invoice:*']) {
      const res = await createPolicy(o, { name: 'typo', effect: 'allow', permission, conditions: typo }, o.access_token)
      expect(res.status, permission).toBe(400)
      expect(res.body.error).toMatchObject({ code: 'invalid_conditions', details: { undeclared: ['resource.attributes.ownr'], resource_type: 'invoice', declared: ['owner', 'amount'] } })
      expect(res.body.error.message).toContain('resource.attributes.ownr')
    }
    // A pattern over every type cannot know which schema applies: accepted.
    const wide = await createPolicy(o, { name: 'typo', effect: 'allow', permission: '*:edit', conditions: typo }, o.access_token)
    expect(wide.status).toBe(201)
    const narrowed = await call(`${o.host}/v1/policies/typo`, { method: 'PATCH', body: { permission: 'invoice:edit' }, token: o.access_token })
    expect(narrowed.status).toBe(400)
    expect(narrowed.body.error.code).toBe('invalid_conditions')
  })

  it('refuses a name already taken (409 policy_exists), on create and on rename, and a UUID-shaped name (400)', async () => {
    const o = await signUp()
    expect((await createPolicy(o, { name: 'one', effect: 'deny', permission: 'audit:read' }, o.access_token)).status).toBe(201)
    expect((await createPolicy(o, { name: 'two', effect: 'deny', permission: 'audit:read' }, o.access_token)).status).toBe(201)
    const again = await createPolicy(o, { name: 'one', effect: 'allow', permission: 'tenant:read' }, o.access_token)
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('policy_exists')
    const rename = await call(`${o.host}/v1/policies/two`, { method: 'PATCH', body: { name: 'one' }, token: o.access_token })
    expect(rename.status).toBe(409)
    expect(rename.body.error.code).toBe('policy_exists')
    const uuidName = await createPolicy(o, { name: crypto.randomUUID(), effect: 'deny', permission: 'audit:read' }, o.access_token)
    expect(uuidName.status).toBe(400)
    expect(uuidName.body.error.details[0].path).toBe('name')
    const empty = await call(`${o.host}/v1/policies/two`, { method: 'PATCH', body: {}, token: o.access_token })
    expect(empty.status).toBe(400)
  })

  it('answers 404 policy_not_found for an unknown id or name, on read, update and delete', async () => {
    const o = await signUp()
    for (const target of [crypto.randomUUID(), 'nothing-here']) {
      for (const [method, body] of [['GET', undefined], ['PATCH', { description: 'x' }], ['DELETE', undefined]] as const) {
        const res = await call(`${o.host}/v1/policies/${target}`, { method, body, token: o.access_token })
        expect(res.status, `${method} ${target}`).toBe(404)
        expect(res.body.error.code).toBe('policy_not_found')
      }
    }
  })

  it('refuses an allow policy granting what the caller does not hold (403 grant_exceeds_own), but not a deny policy', async () => {
    const o = await signUp()
    await registerInvoice(o)
    const member = await addMember(o)
    // Members may now manage policies (through an allow policy, which grants nothing tenant-wide).
    for (const action of ['create', 'update']) {
      expect((await createPolicy(o, { name: `members-${action}-policies`, effect: 'allow', permission: `policies:${action}` }, o.access_token)).status).toBe(201)
    }
    const exceeds = await createPolicy(o, { name: 'approve-all', effect: 'allow', permission: 'invoice:approve' }, member.access_token)
    expect(exceeds.status).toBe(403)
    expect(exceeds.body.error).toMatchObject({ code: 'grant_exceeds_own', details: { permissions: ['invoice:approve'] } })
    // The member role holds members:read, so that much may be granted; a deny needs nothing held.
    expect((await createPolicy(o, { name: 'read-members', effect: 'allow', permission: 'members:read' }, member.access_token)).status).toBe(201)
    const deny = await createPolicy(o, { name: 'no-approvals', effect: 'deny', permission: 'invoice:approve' }, member.access_token)
    expect(deny.status).toBe(201)
    // Turning that deny into an allow is granting it.
    const flip = await call(`${o.host}/v1/policies/no-approvals`, { method: 'PATCH', body: { effect: 'allow' }, token: member.access_token })
    expect(flip.status).toBe(403)
    expect(flip.body.error.code).toBe('grant_exceeds_own')
    expect((await call(`${o.host}/v1/policies/no-approvals`, { token: o.access_token })).body.effect).toBe('deny')
  })

  it('refuses the 1,001st policy (409 policy_limit_reached)', async () => {
    const o = await signUp()
    // 1,000 rows written directly: the limit, not the create path, is under test here.
    const s = sql.identifier(schemaNameFor(o.tenant.id))
    await database().execute(sql`insert into ${s}.policies (id, name, effect, permission) select gen_random_uuid(), 'bulk-' || n, 'deny', 'audit:read' from generate_series(1, 1000) n`)
    const res = await createPolicy(o, { name: 'one-more', effect: 'deny', permission: 'audit:read' }, o.access_token)
    expect(res.status).toBe(409)
    expect(res.body.error).toMatchObject({ code: 'policy_limit_reached', details: { max: 1000 } })
  })

  it('needs credentials: 401 on every endpoint without a token', async () => {
    const o = await signUp()
    const requests = [['POST', '/v1/policies', { name: 'x', effect: 'deny', permission: 'audit:read' }], ['GET', '/v1/policies'], ['GET', '/v1/policies/x'], ['PATCH', '/v1/policies/x', { description: 'y' }], ['DELETE', '/v1/policies/x']] as const
    for (const [method, path, body] of requests) {
      const res = await call(`${o.host}${path}`, { method, body })
      expect(res.status, `${method} ${path}`).toBe(401)
    }
  })

  it('refuses a plain member on every endpoint (403 permission_denied)', async () => {
    const o = await signUp()
    await createPolicy(o, { name: 'x', effect: 'deny', permission: 'audit:read' }, o.access_token)
    const member = await addMember(o)
    const requests = [['POST', '/v1/policies', { name: 'y', effect: 'deny', permission: 'audit:read' }, 'policies:create'], ['GET', '/v1/policies', undefined, 'policies:read'], ['GET', '/v1/policies/x', undefined, 'policies:read'], ['PATCH', '/v1/policies/x', { description: 'y' }, 'policies:update'], ['DELETE', '/v1/policies/x', undefined, 'policies:delete']] as const
    for (const [method, path, body, permission] of requests) {
      const res = await call(`${o.host}${path}`, { method, body, token: member.access_token })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.error).toMatchObject({ code: 'permission_denied', details: { permission } })
    }
    expect((await call(`${o.host}/v1/policies/x`, { token: o.access_token })).body.description).toBeNull()
  })

  it('keeps tenants apart: another tenant’s owner gets 404 for this tenant’s policies, and this tenant’s token is refused on the other host', async () => {
    const a = await signUp()
    const b = await signUp()
    const created = await createPolicy(a, { name: 'a-only', effect: 'deny', permission: 'audit:read' }, a.access_token)
    const id = created.body.id as string
    for (const [method, body] of [['GET', undefined], ['PATCH', { description: 'hijacked' }], ['DELETE', undefined]] as const) {
      const res = await call(`${b.host}/v1/policies/${id}`, { method, body, token: b.access_token })
      expect(res.status, method).toBe(404)
    }
    expect((await call(`${b.host}/v1/policies`, { token: b.access_token })).body.data).toEqual([])
    const foreign = await call(`${b.host}/v1/policies`, { token: a.access_token })
    expect(foreign.status).toBe(401)
    const write = await createPolicy(b, { name: 'planted', effect: 'allow', permission: '*:*' }, a.access_token)
    expect(write.status).toBe(401)
    expect((await call(`${a.host}/v1/policies/${id}`, { token: a.access_token })).body).toMatchObject({ name: 'a-only', description: null })
  })

  it('never locks an owner out of managing policies: a deny on *:* stops admins, and the owner deletes it', async () => {
    const o = await signUp()
    const admin = await addMember(o, 'admin')
    const lockout = await createPolicy(o, { name: 'lockout', effect: 'deny', permission: '*:*' }, o.access_token)
    expect(lockout.status).toBe(201)
    const refused = await call(`${o.host}/v1/policies`, { token: admin.access_token })
    expect(refused.status).toBe(403)
    expect(refused.body.error.details.reason).toContain("denied by policy 'lockout'")
    // The owner is denied everything else (resource_types:read here), but not policies:*.
    expect((await call(`${o.host}/v1/resource-types`, { token: o.access_token })).status).toBe(403)
    expect((await call(`${o.host}/v1/policies`, { token: o.access_token })).status).toBe(200)
    expect((await call(`${o.host}/v1/policies/lockout`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await call(`${o.host}/v1/policies`, { token: admin.access_token })).status).toBe(200)
  })
})
