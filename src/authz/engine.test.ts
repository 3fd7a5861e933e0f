import { describe, expect, it } from 'vitest'
import { AppError } from '../errors.ts'
import { compileAuthz, type CheckInput } from './engine.ts'
import type { AuthzSnapshot } from './snapshot.ts'

const ALICE = '018f0000-0000-7000-8000-00000000a11c'
const BOB = '018f0000-0000-7000-8000-000000000b0b'
const KEY = '018f0000-0000-7000-8000-0000000000ee'
const NOW = Date.parse('2026-02-04T10:00:00Z')

function snapshot(overrides: Partial<AuthzSnapshot> = {}): AuthzSnapshot {
  return {
    version: 7,
    builtAt: NOW,
    types: [['invoice', ['read', 'approve', 'pay'], { amount: { type: 'number' }, owner: { type: 'string' } }]],
    roles: [
      ['r-owner', 'owner', ['*:*']],
      ['r-member', 'member', ['members:read']],
      ['r-approver', 'approver', ['invoice:approve', 'invoice:read']],
      ['r-reader', 'reader', ['*:read']],
    ],
    bindings: [],
    policies: [],
    members: [[ALICE, 'member'], [BOB, 'owner']],
    apiKeys: [[KEY, ['reader'], null]],
    ...overrides,
  }
}

const check = (subject: string, action: string, resource: CheckInput['resource'], extra: Partial<CheckInput> = {}): CheckInput => ({
  subject: { type: 'user', id: subject },
  action,
  resource,
  ...extra,
})

describe('authorization engine', () => {
  it('grants through the implicit member role and explains a refusal', () => {
    const e = compileAuthz(snapshot())
    expect(e.decide(check(ALICE, 'read', { type: 'members' }), NOW)).toEqual({ allowed: true, reason: "role 'member' held as a member of the tenant" })
    expect(e.decide(check(ALICE, 'approve', { type: 'invoice', id: '42' }), NOW)).toEqual({ allowed: false, reason: 'no role or policy grants invoice:approve' })
  })

  it('applies an instance binding to that instance only, naming the binding', () => {
    const e = compileAuthz(snapshot({ bindings: [['b-1', 'user', ALICE, 'r-approver', 'invoice', '42', null]] }))
    expect(e.decide(check(ALICE, 'approve', { type: 'invoice', id: '42' }), NOW)).toEqual({ allowed: true, reason: "role 'approver' bound on invoice:42 (binding b-1)" })
    expect(e.decide(check(ALICE, 'approve', { type: 'invoice', id: '43' }), NOW).allowed).toBe(false)
    expect(e.decide(check(ALICE, 'approve', { type: 'invoice' }), NOW).allowed).toBe(false)
  })

  it('ignores a binding once it has expired', () => {
    const e = compileAuthz(snapshot({ bindings: [['b-1', 'user', ALICE, 'r-approver', null, null, NOW + 1000]] }))
    expect(e.decide(check(ALICE, 'approve', { type: 'invoice', id: '1' }), NOW)).toEqual({ allowed: true, reason: "role 'approver' bound tenant-wide (binding b-1)" })
    expect(e.decide(check(ALICE, 'approve', { type: 'invoice', id: '1' }), NOW + 1000).allowed).toBe(false)
  })

  it('lets a deny policy override every allow, including the owner role', () => {
    const e = compileAuthz(snapshot({
      policies: [['p-1', 'no-weekend', 'deny', 'invoice:*', { in: [{ ref: 'context.weekday' }, [6, 7]] }]],
    }))
    const saturday = { context: { time: '2026-02-07T12:00:00Z' } }
    expect(e.decide(check(BOB, 'approve', { type: 'invoice', id: '1' }, saturday), NOW)).toEqual({ allowed: false, reason: "denied by policy 'no-weekend' (p-1)" })
    expect(e.decide(check(BOB, 'approve', { type: 'invoice', id: '1' }), NOW).allowed).toBe(true) // NOW is a Wednesday
  })

  it('applies a deny policy whose conditions cannot be decided, and names what was missing', () => {
    const e = compileAuthz(snapshot({ policies: [['p-2', 'cap', 'deny', 'invoice:approve', { gt: [{ ref: 'resource.attributes.amount' }, 10000] }]] }))
    const d = e.decide(check(BOB, 'approve', { type: 'invoice', id: '1' }), NOW)
    expect(d.allowed).toBe(false)
    expect(d.reason).toContain('resource.attributes.amount')
    expect(e.decide(check(BOB, 'approve', { type: 'invoice', id: '1', attributes: { amount: 5 } }), NOW).allowed).toBe(true)
  })

  it('allows through a policy only when its conditions are definitely true', () => {
    const e = compileAuthz(snapshot({ policies: [['p-3', 'owners-pay', 'allow', 'invoice:pay', { eq: [{ ref: 'resource.attributes.owner' }, { ref: 'subject.id' }] }]] }))
    expect(e.decide(check(ALICE, 'pay', { type: 'invoice', id: '1', attributes: { owner: ALICE } }), NOW)).toEqual({ allowed: true, reason: "allowed by policy 'owners-pay' (p-3)" })
    expect(e.decide(check(ALICE, 'pay', { type: 'invoice', id: '1', attributes: { owner: BOB } }), NOW).allowed).toBe(false)
    expect(e.decide(check(ALICE, 'pay', { type: 'invoice', id: '1' }), NOW).allowed).toBe(false)
  })

  it('never allows a subject that is not in the tenant, whatever the policies say', () => {
    const e = compileAuthz(snapshot({ policies: [['p-4', 'everyone', 'allow', '*:*', null]] }))
    const stranger = '018f0000-0000-7000-8000-00000000dead'
    expect(e.decide(check(stranger, 'read', { type: 'invoice' }), NOW)).toEqual({ allowed: false, reason: `user ${stranger} is not a member of this tenant` })
    expect(e.decide({ subject: { type: 'api_key', id: stranger }, action: 'read', resource: { type: 'invoice' } }, NOW).allowed).toBe(false)
  })

  it('gives an API key its roles until it expires', () => {
    const e = compileAuthz(snapshot({ apiKeys: [[KEY, ['reader'], NOW + 5]] }))
    const q: CheckInput = { subject: { type: 'api_key', id: KEY }, action: 'read', resource: { type: 'invoice', id: '1' } }
    expect(e.decide(q, NOW)).toEqual({ allowed: true, reason: "role 'reader' held by the API key" })
    expect(e.decide(q, NOW + 5).allowed).toBe(false)
  })

  it('lets the owner manage policies even when a deny policy matches', () => {
    const e = compileAuthz(snapshot({ policies: [['p-5', 'lock', 'deny', '*:*', null]] }))
    expect(e.decide(check(BOB, 'delete', { type: 'policies' }), NOW).allowed).toBe(true)
    expect(e.decide(check(BOB, 'read', { type: 'members' }), NOW).allowed).toBe(false)
  })

  it('refuses unknown types, actions and mistyped attributes with 400s naming them', () => {
    const e = compileAuthz(snapshot())
    const error = (q: CheckInput) => {
      try {
        e.assertCheckable(q)
      } catch (err) {
        return err as AppError
      }
      return undefined
    }
    expect(error(check(ALICE, 'approve', { type: 'invoise' }))).toMatchObject({ status: 400, code: 'unknown_resource_type', message: expect.stringContaining('invoise') })
    expect(error(check(ALICE, 'aprove', { type: 'invoice' }))).toMatchObject({ status: 400, code: 'unknown_action', message: expect.stringContaining('aprove') })
    expect(error(check(ALICE, 'approve', { type: 'invoice', attributes: { amount: '12' } }))).toMatchObject({ code: 'invalid_resource_attributes' })
    expect(error(check(ALICE, 'approve', { type: 'invoice', attributes: { amount: 12, extra: 'ok' } }))).toBeUndefined()
    expect(error(check(ALICE, 'invite', { type: 'members' }))).toBeUndefined()
  })

  // Timing is measured by `npm run bench` (workerd freezes clocks inside a test).
  it('answers from 10,000 roles and bindings through the subject index', () => {
    const roles: AuthzSnapshot['roles'] = Array.from({ length: 10_000 }, (_, i) => [`r-${i}`, `role-${i}`, [`invoice:read`, `t${i}:*`]])
    const members: AuthzSnapshot['members'] = Array.from({ length: 10_000 }, (_, i) => [`u-${i}`, 'member'])
    const bindings: AuthzSnapshot['bindings'] = Array.from({ length: 10_000 }, (_, i) => [`b-${i}`, 'user', `u-${i}`, `r-${i}`, i % 2 ? 'invoice' : null, i % 2 ? String(i) : null, null])
    const e = compileAuthz(snapshot({ roles: [...snapshot().roles, ...roles], members, bindings }))
    expect(e.decide(check('u-7', 'read', { type: 'invoice', id: '7' }), NOW).reason).toBe("role 'role-7' bound on invoice:7 (binding b-7)")
    expect(e.decide(check('u-8', 'read', { type: 'invoice', id: '7' }), NOW).reason).toBe("role 'role-8' bound tenant-wide (binding b-8)")
    expect(e.decide(check('u-7', 'read', { type: 'invoice', id: '8' }), NOW).allowed).toBe(false)
    expect(e.decide(check('u-9', 'read', { type: 'members' }), NOW).reason).toBe("role 'member' held as a member of the tenant")
  })
})
