import { beforeAll, describe, expect, it } from 'vitest'
import { type Account, addMember, call, endpointRequests, type Owner, resetEndpointStats, signUp } from './support.ts'

/**
 * Decisions through POST /v1/authz/check and /check-batch: policies and their condition
 * language, deny over allow, the check endpoint's refusals, and the cache after changes.
 */

type Check = {
  subject: { type: 'user' | 'api_key'; id: string; attributes?: Record<string, unknown> }
  action: string
  resource: { type: string; id?: string; attributes?: Record<string, unknown> }
  context?: { ip?: string; time?: string; attributes?: Record<string, unknown> }
}

const check = (o: Owner, body: Check | Record<string, unknown>, token = o.access_token) => call(`${o.host}/v1/authz/check`, { body, token })
const checkBatch = (o: Owner, checks: unknown[], token = o.access_token) => call(`${o.host}/v1/authz/check-batch`, { body: { checks }, token })

async function registerType(o: Owner, body: Record<string, unknown>) {
  const res = await call(`${o.host}/v1/resource-types`, { body, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

async function createPolicy(o: Owner, body: Record<string, unknown>) {
  const res = await call(`${o.host}/v1/policies`, { body, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body as { id: string; name: string }
}

const INVOICE = {
  name: 'invoice',
  actions: ['read', 'edit', 'approve', 'delete'],
  attributes: { owner: { type: 'string' }, amount: { type: 'number' }, status: { type: 'string' }, issued: { type: 'time' } },
}
const ownInvoices = { eq: [{ ref: 'resource.attributes.owner' }, { ref: 'subject.id' }] }

/**
 * One case per operator family (comparison, membership, network, combinators, the subject's roles) through the
 * API: the whole operator matrix is evaluated in src/authz/conditions.test.ts.
 */
describe('condition operators, through allow policies granting a plain member what the member role does not', () => {
  let o: Owner
  let member: Account
  const OPERATORS = ['eq', 'in', 'not_in', 'ip_in_cidr', 'ip_single', 'all', 'roles']

  beforeAll(async () => {
    o = await signUp()
    member = await addMember(o)
    await registerType(o, { name: 'probe', actions: OPERATORS })
  })

  /** One allow policy on probe:<action> with `condition`, then each input checked for the member: the decisions in order. */
  async function decisions(action: string, condition: unknown, inputs: Array<Pick<Check, 'resource' | 'context'> & { subject?: Record<string, unknown> }>) {
    await createPolicy(o, { name: `probe-${action.replaceAll('_', '-')}`, effect: 'allow', permission: `probe:${action}`, conditions: condition })
    const res = await checkBatch(o, inputs.map((i) => ({ subject: { type: 'user', id: member.user.id, attributes: i.subject }, action, resource: i.resource, context: i.context })))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    for (const [n, d] of (res.body.results as { allowed: boolean; reason: string }[]).entries()) {
      expect(d.reason, `check ${n}`).toMatch(d.allowed ? /^allowed by policy 'probe-/ : /^no role or policy grants probe:/)
    }
    return (res.body.results as { allowed: boolean }[]).map((d) => d.allowed)
  }

  const attrs = (attributes: Record<string, unknown>) => ({ resource: { type: 'probe', attributes } })

  it('eq compares without coercion; a missing attribute never allows', async () => {
    expect(await decisions('eq', { eq: [{ ref: 'resource.attributes.status' }, 'open'] }, [attrs({ status: 'open' }), attrs({ status: 'closed' }), attrs({ status: ['open'] }), attrs({})])).toEqual([true, false, false, false])
  })

  it('in and not_in test membership of a list', async () => {
    const dept = (department?: string) => ({ resource: { type: 'probe' }, subject: department === undefined ? {} : { department } })
    expect(await decisions('in', { in: [{ ref: 'subject.attributes.department' }, ['finance', 'legal']] }, [dept('finance'), dept('sales'), dept()])).toEqual([true, false, false])
    expect(await decisions('not_in', { not_in: [{ ref: 'subject.attributes.department' }, ['sales']] }, [dept('finance'), dept('sales'), dept()])).toEqual([true, false, false])
  })

  it('ip_in_cidr matches IPv4 and IPv6 addresses against a list of ranges, or one range (an IPv4-mapped IPv6 address counts as IPv4)', async () => {
    const from = (ip?: string) => ({ resource: { type: 'probe' }, context: ip ? { ip } : {} })
    expect(await decisions('ip_in_cidr', { ip_in_cidr: [{ ref: 'context.ip' }, ['10.0.0.0/8', '2001:db8::/32']] }, [from('10.200.3.4'), from('11.0.0.1'), from('2001:db8:1::7'), from('2001:db9::1'), from()])).toEqual([true, false, true, false, false])
    expect(await decisions('ip_single', { ip_in_cidr: [{ ref: 'context.ip' }, '192.168.1.0/24'] }, [from('192.168.1.77'), from('192.168.2.1'), from('::ffff:c0a8:0101'), from('2001:db8::c0a8:101')])).toEqual([true, false, true, false])
  })

  it('all needs every part true: department and office hours (context.hour, UTC)', async () => {
    const cond = { all: [{ eq: [{ ref: 'subject.attributes.department' }, 'finance'] }, { gte: [{ ref: 'context.hour' }, 9] }, { lt: [{ ref: 'context.hour' }, 17] }] }
    const who = (department: string | undefined, time: string) => ({ resource: { type: 'probe' }, subject: department ? { department } : {}, context: { time } })
    expect(await decisions('all', cond, [who('finance', '2026-03-02T10:00:00Z'), who('finance', '2026-03-02T08:59:59Z'), who('sales', '2026-03-02T10:00:00Z'), who(undefined, '2026-03-02T10:00:00Z')])).toEqual([true, false, false, false])
  })

  it('subject.roles lists the roles the subject holds', async () => {
    expect(await decisions('roles', { contains: [{ ref: 'subject.roles' }, 'member'] }, [{ resource: { type: 'probe' } }])).toEqual([true])
  })
})

describe('policies in decisions', () => {
  it('allows a plain member to edit their own invoices only (resource.attributes.owner == subject.id)', async () => {
    const o = await signUp()
    const alice = await addMember(o)
    const bob = await addMember(o)
    await registerType(o, INVOICE)
    const policy = await createPolicy(o, { name: 'own-invoices', effect: 'allow', permission: 'invoice:edit', conditions: ownInvoices })
    const edit = (who: Account, owner?: string) => ({ subject: { type: 'user', id: who.user.id }, action: 'edit', resource: { type: 'invoice', id: 'inv-1', attributes: owner ? { owner } : {} } })
    const res = await checkBatch(o, [edit(alice, alice.user.id), edit(alice, bob.user.id), edit(bob, alice.user.id), edit(alice)])
    expect(res.body.results).toEqual([
      { allowed: true, reason: `allowed by policy 'own-invoices' (${policy.id})` },
      { allowed: false, reason: 'no role or policy grants invoice:edit' },
      { allowed: false, reason: 'no role or policy grants invoice:edit' },
      { allowed: false, reason: 'no role or policy grants invoice:edit' },
    ])
    // The policy grants edit only: approving one's own invoice is still refused.
    expect((await check(o, { ...edit(alice, alice.user.id), action: 'approve' })).body.allowed).toBe(false)
  })

  it('lets a deny policy override what the member role grants, naming the policy', async () => {
    const o = await signUp()
    const member = await addMember(o)
    const readMembers = (ip?: string) => ({ subject: { type: 'user', id: member.user.id }, action: 'read', resource: { type: 'members' }, context: ip ? { ip } : {} })
    expect((await check(o, readMembers('203.0.113.7'))).body).toEqual({ allowed: true, reason: "role 'member' held as a member of the tenant" })
    const policy = await createPolicy(o, { name: 'office-only', effect: 'deny', permission: 'members:read', conditions: { not: { ip_in_cidr: [{ ref: 'context.ip' }, '10.0.0.0/8'] } } })
    const res = await checkBatch(o, [readMembers('10.1.1.1'), readMembers('203.0.113.7'), readMembers()])
    expect(res.body.results[0]).toEqual({ allowed: true, reason: "role 'member' held as a member of the tenant" })
    expect(res.body.results[1]).toEqual({ allowed: false, reason: `denied by policy 'office-only' (${policy.id})` })
    // No address: the deny cannot be decided, so it applies (fail closed).
    expect(res.body.results[2].allowed).toBe(false)
    expect(res.body.results[2].reason).toContain(`denied by policy 'office-only' (${policy.id}): its conditions could not be decided (context.ip`)
  })

  it('lets a deny policy override an allow policy and an owner’s *:*', async () => {
    const o = await signUp()
    const member = await addMember(o)
    await registerType(o, INVOICE)
    await createPolicy(o, { name: 'own-invoices', effect: 'allow', permission: 'invoice:edit', conditions: ownInvoices })
    const locked = await createPolicy(o, { name: 'locked-invoices', effect: 'deny', permission: 'invoice:*', conditions: { eq: [{ ref: 'resource.attributes.status' }, 'locked'] } })
    const edit = (id: string, status: string) => ({ subject: { type: 'user', id }, action: 'edit', resource: { type: 'invoice', attributes: { owner: member.user.id, status } } })
    const res = await checkBatch(o, [edit(member.user.id, 'open'), edit(member.user.id, 'locked'), edit(o.user.id, 'open'), edit(o.user.id, 'locked')])
    expect(res.body.results.map((d: { allowed: boolean }) => d.allowed)).toEqual([true, false, true, false])
    expect(res.body.results[1].reason).toBe(`denied by policy 'locked-invoices' (${locked.id})`)
    expect(res.body.results[2].reason).toBe("role 'owner' held as a member of the tenant")
  })

  it('applies a deny policy whose operand is missing or not comparable (fail closed), and an allow policy never', async () => {
    const o = await signUp()
    const member = await addMember(o)
    await registerType(o, { name: 'vault', actions: ['open'] })
    const deny = await createPolicy(o, { name: 'low-clearance', effect: 'deny', permission: 'vault:open', conditions: { lt: [{ ref: 'subject.attributes.clearance' }, 3] } })
    await createPolicy(o, { name: 'high-clearance', effect: 'allow', permission: 'vault:open', conditions: { gte: [{ ref: 'subject.attributes.clearance' }, 3] } })
    const open = (id: string, attributes: Record<string, unknown>) => ({ subject: { type: 'user', id, attributes }, action: 'open', resource: { type: 'vault' } })
    const res = await checkBatch(o, [open(o.user.id, { clearance: 5 }), open(o.user.id, { clearance: 1 }), open(o.user.id, { clearance: '5' }), open(o.user.id, {}), open(member.user.id, { clearance: 4 })])
    expect(res.body.results.map((d: { allowed: boolean }) => d.allowed)).toEqual([true, false, false, false, true])
    expect(res.body.results[2].reason).toBe(`denied by policy 'low-clearance' (${deny.id}): its conditions could not be decided (subject.attributes.clearance missing or not comparable)`)
    expect(res.body.results[4].reason).toMatch(/^allowed by policy 'high-clearance'/)
    // Without the deny, the member with an undecidable clearance is still not allowed by the allow policy.
    expect((await call(`${o.host}/v1/policies/low-clearance`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    const after = await checkBatch(o, [open(member.user.id, { clearance: 'top' }), open(member.user.id, {})])
    expect(after.body.results).toEqual([
      { allowed: false, reason: 'no role or policy grants vault:open' },
      { allowed: false, reason: 'no role or policy grants vault:open' },
    ])
  })

  it('never allows a subject of another tenant or an unknown id, even with an allow policy on *:*', async () => {
    const a = await signUp()
    const b = await signUp()
    const member = await addMember(a)
    await createPolicy(a, { name: 'everything', effect: 'allow', permission: '*:*' })
    const read = (type: 'user' | 'api_key', id: string) => ({ subject: { type, id }, action: 'read', resource: { type: 'audit' } })
    const strangerId = crypto.randomUUID()
    const res = await checkBatch(a, [read('user', member.user.id), read('user', b.user.id), read('user', strangerId), read('api_key', strangerId)])
    expect(res.body.results).toEqual([
      { allowed: true, reason: expect.stringMatching(/^allowed by policy 'everything'/) },
      { allowed: false, reason: `user ${b.user.id} is not a member of this tenant` },
      { allowed: false, reason: `user ${strangerId} is not a member of this tenant` },
      { allowed: false, reason: `api_key ${strangerId} is not an active API key of this tenant` },
    ])
  })
})

describe('POST /v1/authz/check and /check-batch', () => {
  let o: Owner
  let member: Account
  beforeAll(async () => {
    o = await signUp()
    member = await addMember(o)
    await registerType(o, INVOICE)
  })
  const approve = (id: string, attributes: Record<string, unknown> = {}) => ({ subject: { type: 'user' as const, id }, action: 'approve', resource: { type: 'invoice', id: '42', attributes } })

  it('answers a decision with its reason', async () => {
    const res = await check(o, approve(o.user.id, { amount: 1200, issued: '2026-01-05T09:00:00Z' }))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ allowed: true, reason: "role 'owner' held as a member of the tenant" })
    expect((await check(o, approve(member.user.id))).body).toEqual({ allowed: false, reason: 'no role or policy grants invoice:approve' })
  })

  it('refuses an unknown resource type (400 unknown_resource_type naming it) and an unknown action (400 unknown_action)', async () => {
    const type = await check(o, { subject: { type: 'user', id: o.user.id }, action: 'read', resource: { type: 'ticket' } })
    expect(type.status).toBe(400)
    expect(type.body.error).toMatchObject({ code: 'unknown_resource_type', details: { resource_type: 'ticket' } })
    expect(type.body.error.message).toContain('"ticket"')
    const action = await check(o, { subject: { type: 'user', id: o.user.id }, action: 'pay', resource: { type: 'invoice' } })
    expect(action.status).toBe(400)
    expect(action.body.error).toMatchObject({ code: 'unknown_action', details: { resource_type: 'invoice', action: 'pay', actions: INVOICE.actions } })
  })

  it('refuses a resource attribute of another type than declared (400 invalid_resource_attributes) and a malformed check (400 validation_failed)', async () => {
    const wrong = await check(o, approve(o.user.id, { amount: '1200', owner: 'x' }))
    expect(wrong.status).toBe(400)
    expect(wrong.body.error).toMatchObject({ code: 'invalid_resource_attributes', details: { problems: [{ attribute: 'amount', expected: 'number' }] } })
    const badTime = await check(o, approve(o.user.id, { issued: 'yesterday' }))
    expect(badTime.body.error.code).toBe('invalid_resource_attributes')
    const badIp = await check(o, { ...approve(o.user.id), context: { ip: '10.0.0.300' } })
    expect(badIp.status).toBe(400)
    expect(badIp.body.error.details[0].path).toBe('context.ip')
    const noSubject = await check(o, { action: 'approve', resource: { type: 'invoice' } })
    expect(noSubject.body.error.code).toBe('validation_failed')
  })

  it('answers up to 100 checks in order, and refuses 101 (400 validation_failed)', async () => {
    const checks = Array.from({ length: 100 }, (_, i) => approve(i % 3 === 0 ? member.user.id : o.user.id))
    const res = await checkBatch(o, checks)
    expect(res.status).toBe(200)
    expect(res.body.results.map((d: { allowed: boolean }) => d.allowed)).toEqual(checks.map((_, i) => i % 3 !== 0))
    const tooMany = await checkBatch(o, [...checks, approve(o.user.id)])
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error.code).toBe('validation_failed')
    expect((await checkBatch(o, [])).status).toBe(400)
  })

  it('refuses a whole batch with one bad check, naming its index', async () => {
    const res = await checkBatch(o, [approve(o.user.id), approve(o.user.id), { ...approve(o.user.id), action: 'pay' }, approve(o.user.id)])
    expect(res.status).toBe(400)
    expect(res.body.error).toMatchObject({ code: 'unknown_action', details: { index: 2, action: 'pay' } })
    expect(res.body.error.message).toMatch(/^checks\[2\]: /)
  })

  it('needs a caller holding authz:check: 401 without a token, 403 for a plain member, 401 with another tenant’s token', async () => {
    expect((await call(`${o.host}/v1/authz/check`, { body: approve(o.user.id) })).status).toBe(401)
    expect((await call(`${o.host}/v1/authz/check-batch`, { body: { checks: [approve(o.user.id)] } })).status).toBe(401)
    const refused = await check(o, approve(o.user.id), member.access_token)
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'authz:check' } })
    expect((await checkBatch(o, [approve(o.user.id)], member.access_token)).status).toBe(403)
    const other = await signUp()
    expect((await check(o, approve(o.user.id), other.access_token)).status).toBe(401)
    // And that tenant's own check endpoint knows nothing of this tenant's subjects or types.
    expect((await check(other, { subject: { type: 'user', id: o.user.id }, action: 'read', resource: { type: 'tenant' } })).body.allowed).toBe(false)
    expect((await check(other, approve(other.user.id))).body.error.code).toBe('unknown_resource_type')
  })
})

describe('the decision cache after policy changes', () => {
  it('denies the check right after the allow policy that allowed it is deleted (no stale allow)', async () => {
    const o = await signUp()
    const member = await addMember(o)
    await registerType(o, INVOICE)
    const policy = await createPolicy(o, { name: 'readers', effect: 'allow', permission: 'invoice:read' })
    const read = { subject: { type: 'user' as const, id: member.user.id }, action: 'read', resource: { type: 'invoice', id: '7' } }
    expect((await check(o, read)).body.allowed).toBe(true)
    expect((await check(o, read)).body.allowed).toBe(true)
    expect((await call(`${o.host}/v1/policies/${policy.id}`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await check(o, read)).body).toEqual({ allowed: false, reason: 'no role or policy grants invoice:read' })
  })

  it('reflects a deny policy’s new conditions in the very next check', async () => {
    const o = await signUp()
    await registerType(o, INVOICE)
    await createPolicy(o, { name: 'big-ones', effect: 'deny', permission: 'invoice:approve', conditions: { gt: [{ ref: 'resource.attributes.amount' }, 10000] } })
    const approve = { subject: { type: 'user' as const, id: o.user.id }, action: 'approve', resource: { type: 'invoice', attributes: { amount: 5000 } } }
    expect((await check(o, approve)).body.allowed).toBe(true)
    const patched = await call(`${o.host}/v1/policies/big-ones`, { method: 'PATCH', body: { conditions: { gt: [{ ref: 'resource.attributes.amount' }, 1000] } }, token: o.access_token })
    expect(patched.status).toBe(200)
    expect((await check(o, approve)).body).toMatchObject({ allowed: false, reason: expect.stringContaining("denied by policy 'big-ones'") })
    await call(`${o.host}/v1/policies/big-ones`, { method: 'PATCH', body: { conditions: null, effect: 'deny', permission: 'invoice:read' }, token: o.access_token })
    expect((await check(o, approve)).body.allowed).toBe(true)
  })

  it('answers a warm check without any SQL', async () => {
    const o = await signUp()
    await registerType(o, INVOICE)
    await createPolicy(o, { name: 'own-invoices', effect: 'allow', permission: 'invoice:edit', conditions: ownInvoices })
    const edit = { subject: { type: 'user' as const, id: o.user.id }, action: 'edit', resource: { type: 'invoice', attributes: { owner: o.user.id } } }
    expect((await check(o, edit)).status).toBe(200)
    await resetEndpointStats('sql')
    const warm = await check(o, edit)
    expect(warm.body.allowed).toBe(true)
    expect(await endpointRequests('sql')).toBe(0)
  })
})
