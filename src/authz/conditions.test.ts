import { describe, expect, it } from 'vitest'
import { conditionSizeProblem, ConditionSchema, evaluateCondition, referencesIn, type Condition, type ConditionInput } from './conditions.ts'

function input(overrides: Partial<{ subject: Record<string, unknown>; resource: Record<string, unknown>; context: Record<string, unknown>; ip: string; time: string; roles: string[] }> = {}): ConditionInput {
  return {
    subject: { type: 'user', id: 'u-1', attributes: { department: 'finance', level: 3, tags: ['a', 'b'], ...overrides.subject }, roles: () => overrides.roles ?? ['member'] },
    resource: { type: 'invoice', id: 'inv-42', attributes: { owner: 'u-1', amount: 1200, due: '2026-03-01T00:00:00Z', ...overrides.resource } },
    action: 'approve',
    context: { ip: overrides.ip ?? '10.1.2.3', time: overrides.time ?? '2026-02-04T10:30:00Z', attributes: { ...overrides.context } },
  }
}

const ref = (path: string) => ({ ref: path })
const run = (c: unknown, i = input()) => evaluateCondition(ConditionSchema.parse(c), i)

describe('condition operators', () => {
  it('eq / ne compare values, references and times', () => {
    expect(run({ eq: [ref('resource.attributes.owner'), ref('subject.id')] })).toBe(true)
    expect(run({ eq: [ref('subject.attributes.department'), 'sales'] })).toBe(false)
    expect(run({ ne: [ref('subject.attributes.department'), 'sales'] })).toBe(true)
    expect(run({ eq: [ref('resource.attributes.due'), '2026-03-01T01:00:00+01:00'] })).toBe(true)
    expect(run({ eq: [ref('subject.attributes.tags'), ['a', 'b']] })).toBe(true)
    expect(run({ eq: [ref('action'), 'approve'] })).toBe(true)
    expect(run({ eq: [ref('resource.type'), 'invoice'] })).toBe(true)
    expect(run({ eq: [ref('resource.id'), 'inv-42'] })).toBe(true)
    expect(run({ eq: [ref('subject.type'), 'user'] })).toBe(true)
  })

  it('in / not_in test membership of a list', () => {
    expect(run({ in: [ref('subject.attributes.department'), ['finance', 'legal']] })).toBe(true)
    expect(run({ in: [ref('subject.attributes.department'), ['legal']] })).toBe(false)
    expect(run({ not_in: [ref('subject.attributes.department'), ['legal']] })).toBe(true)
    expect(run({ not_in: [ref('subject.attributes.department'), ['finance']] })).toBe(false)
    expect(run({ in: ['member', ref('subject.roles')] })).toBe(true)
  })

  it('gt / gte / lt / lte order numbers', () => {
    expect(run({ gt: [ref('resource.attributes.amount'), 1000] })).toBe(true)
    expect(run({ gt: [ref('resource.attributes.amount'), 1200] })).toBe(false)
    expect(run({ gte: [ref('resource.attributes.amount'), 1200] })).toBe(true)
    expect(run({ lt: [ref('subject.attributes.level'), 3] })).toBe(false)
    expect(run({ lte: [ref('subject.attributes.level'), 3] })).toBe(true)
  })

  it('gt / gte / lt / lte order ISO times, whatever their offsets', () => {
    expect(run({ lt: [ref('context.time'), ref('resource.attributes.due')] })).toBe(true)
    expect(run({ gt: [ref('context.time'), '2026-02-04T11:00:00+01:00'] })).toBe(true)
    expect(run({ gte: [ref('context.time'), '2026-02-04'] })).toBe(true)
    expect(run({ lte: [ref('context.time'), '2026-02-04T10:29:59Z'] })).toBe(false)
  })

  it('contains looks into lists and texts', () => {
    expect(run({ contains: [ref('subject.attributes.tags'), 'b'] })).toBe(true)
    expect(run({ contains: [ref('subject.attributes.tags'), 'z'] })).toBe(false)
    expect(run({ contains: [ref('subject.attributes.department'), 'nan'] })).toBe(true)
    expect(run({ contains: [ref('subject.roles'), 'admin'] })).toBe(false)
  })

  it('ip_in_cidr matches IPv4 and IPv6 addresses against one range or several', () => {
    expect(run({ ip_in_cidr: [ref('context.ip'), '10.0.0.0/8'] })).toBe(true)
    expect(run({ ip_in_cidr: [ref('context.ip'), ['192.168.0.0/16', '172.16.0.0/12']] })).toBe(false)
    expect(run({ ip_in_cidr: [ref('context.ip'), ['2001:db8::/32']] }, input({ ip: '2001:db8::7' }))).toBe(true)
    expect(run({ ip_in_cidr: [ref('context.ip'), ['2001:db8::/32']] }, input({ ip: '2001:db9::7' }))).toBe(false)
  })

  it('derives the UTC weekday (Monday 1 … Sunday 7) and hour from context.time', () => {
    expect(run({ eq: [ref('context.weekday'), 3] })).toBe(true) // 2026-02-04 is a Wednesday
    expect(run({ eq: [ref('context.hour'), 10] })).toBe(true)
    expect(run({ in: [ref('context.weekday'), [6, 7]] }, input({ time: '2026-02-08T23:59:00Z' }))).toBe(true) // Sunday
  })
})

describe('combinators and unknowns', () => {
  it('all / any / not combine', () => {
    const owner = { eq: [ref('resource.attributes.owner'), ref('subject.id')] }
    const big = { gt: [ref('resource.attributes.amount'), 5000] }
    expect(run({ all: [owner, { not: big }] })).toBe(true)
    expect(run({ all: [owner, big] })).toBe(false)
    expect(run({ any: [big, owner] })).toBe(true)
    expect(run({ not: owner })).toBe(false)
  })

  it('is unknown when an operand is missing or not comparable, and says which reference', () => {
    const undecided: string[] = []
    const condition = ConditionSchema.parse({ gt: [ref('resource.attributes.limit'), 10] })
    expect(evaluateCondition(condition, input(), undecided)).toBe('unknown')
    expect(undecided).toEqual(['resource.attributes.limit'])
    expect(run({ gt: [ref('subject.attributes.department'), 10] })).toBe('unknown') // no coercion
    expect(run({ gt: ['10', 9] })).toBe('unknown')
    expect(run({ ip_in_cidr: [ref('context.ip'), '10.0.0.0/8'] }, { ...input(), context: { ip: undefined, time: '2026-01-01T00:00:00Z', attributes: {} } })).toBe('unknown')
    expect(run({ ip_in_cidr: [ref('subject.attributes.department'), '10.0.0.0/8'] })).toBe('unknown')
    expect(run({ in: ['x', ref('subject.attributes.department')] })).toBe('unknown')
  })

  it('follows Kleene logic: false wins in all, true wins in any, not keeps unknown', () => {
    const unknown = { eq: [ref('resource.attributes.missing'), 1] }
    expect(run({ all: [unknown, { eq: [1, 2] }] })).toBe(false)
    expect(run({ all: [unknown, { eq: [1, 1] }] })).toBe('unknown')
    expect(run({ any: [unknown, { eq: [1, 1] }] })).toBe(true)
    expect(run({ any: [unknown, { eq: [1, 2] }] })).toBe('unknown')
    expect(run({ not: unknown })).toBe('unknown')
    expect(run({ ne: [ref('resource.attributes.missing'), 1] })).toBe('unknown')
  })

  it('reads nested attributes and never the prototype chain', () => {
    expect(run({ eq: [ref('resource.attributes.meta.region'), 'eu'] }, input({ resource: { meta: { region: 'eu' } } }))).toBe(true)
    expect(run({ eq: [ref('resource.attributes.constructor'), null] })).toBe('unknown')
    expect(run({ eq: [ref('context.attributes.channel'), 'web'] }, input({ context: { channel: 'web' } }))).toBe(true)
  })
})

describe('condition validation', () => {
  const problems = (c: unknown) => {
    const result = ConditionSchema.safeParse(c)
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
  }

  it('accepts every operator and combinator', () => {
    const c = {
      all: [
        { any: [{ eq: [ref('subject.id'), 'x'] }, { ne: [1, 2] }] },
        { not: { in: [ref('subject.attributes.d'), ['a']] } },
        { not_in: [1, [2, 3]] }, { gt: [1, 0] }, { gte: [1, 1] }, { lt: [0, 1] }, { lte: [1, 1] },
        { contains: [ref('subject.roles'), 'admin'] }, { ip_in_cidr: [ref('context.ip'), ['10.0.0.0/8', '::1/128']] },
      ],
    }
    expect(problems(c)).toEqual([])
    expect(referencesIn(ConditionSchema.parse(c))).toEqual(['subject.id', 'subject.attributes.d', 'subject.roles', 'context.ip'])
  })

  it('names the unknown operator, the bad reference and the bad range, with their place', () => {
    expect(problems({ equals: [1, 1] })[0]).toMatch(/^equals: unknown operator "equals"/)
    expect(problems({ all: [{ eq: [ref('subject.password'), 1] }] })[0]).toMatch(/^all\.0\.eq\.0\.ref: unknown reference "subject.password"/)
    expect(problems({ ip_in_cidr: [ref('context.ip'), '10.0.0.0/40'] })[0]).toMatch(/^ip_in_cidr\.1: not a CIDR range/)
    expect(problems({ eq: [1] })[0]).toMatch(/^eq/)
    expect(problems({ eq: [1, 2], ne: [1, 2] })[0]).toMatch(/exactly one operator/)
    expect(problems({ eq: [{ nested: true }, 1] })).not.toEqual([])
    expect(problems({ all: [] })).not.toEqual([])
    expect(problems('eq')).not.toEqual([])
  })

  it('limits depth and size', () => {
    let deep: Condition = { eq: [1, 1] }
    for (let i = 0; i < 10; i++) deep = { not: deep }
    expect(conditionSizeProblem(deep)).toMatch(/levels deep/)
    const wide = { all: Array.from({ length: 50 }, () => ({ any: Array.from({ length: 5 }, () => ({ eq: [1, 1] })) })) } as Condition
    expect(conditionSizeProblem(wide)).toMatch(/nodes/)
    expect(conditionSizeProblem({ eq: [1, 1] })).toBeNull()
  })
})

/**
 * The operator matrix as an allow policy sees it: a check is allowed only when its condition is
 * true (never when it is unknown). test/authz-check.test.ts keeps one case per operator family
 * through POST /v1/authz/check-batch; every case lives here.
 */
describe('condition operators, as allow-policy decisions for a plain member', () => {
  type Case = { subject?: Record<string, unknown>; resource?: Record<string, unknown>; context?: { ip?: string; time?: string } }
  const NOW = '2026-03-02T12:00:00Z'
  const decisions = (condition: unknown, cases: Case[]) =>
    cases.map((c) =>
      evaluateCondition(ConditionSchema.parse(condition), {
        subject: { type: 'user', id: 'member-1', attributes: c.subject ?? {}, roles: () => ['member'] },
        resource: { type: 'probe', id: undefined, attributes: c.resource ?? {} },
        action: 'probe',
        context: { ip: c.context?.ip, time: c.context?.time ?? NOW, attributes: {} },
      }) === true,
    )
  const attrs = (resource: Record<string, unknown>): Case => ({ resource })

  it('eq compares without coercion; a missing attribute never allows', () => {
    expect(decisions({ eq: [ref('resource.attributes.status'), 'open'] }, [attrs({ status: 'open' }), attrs({ status: 'closed' }), attrs({ status: ['open'] }), attrs({})])).toEqual([true, false, false, false])
  })

  it('ne allows on a different value only, not on a missing one', () => {
    expect(decisions({ ne: [ref('resource.attributes.status'), 'archived'] }, [attrs({ status: 'open' }), attrs({ status: 'archived' }), attrs({})])).toEqual([true, false, false])
  })

  it('in and not_in test membership of a list', () => {
    const dept = (department?: string): Case => ({ subject: department === undefined ? {} : { department } })
    expect(decisions({ in: [ref('subject.attributes.department'), ['finance', 'legal']] }, [dept('finance'), dept('sales'), dept()])).toEqual([true, false, false])
    expect(decisions({ not_in: [ref('subject.attributes.department'), ['sales']] }, [dept('finance'), dept('sales'), dept()])).toEqual([true, false, false])
  })

  it('gt and gte order numbers, and a number given as text is not comparable', () => {
    expect(decisions({ gt: [ref('resource.attributes.amount'), 100] }, [attrs({ amount: 101 }), attrs({ amount: 100 }), attrs({ amount: '101' })])).toEqual([true, false, false])
    expect(decisions({ gte: [ref('resource.attributes.amount'), 100] }, [attrs({ amount: 100 }), attrs({ amount: 99.5 })])).toEqual([true, false])
  })

  it('lt and lte order ISO times, with offsets, against context.time', () => {
    const at = (time: string, issued?: string): Case => ({ resource: issued ? { issued } : {}, context: { time } })
    expect(decisions({ lt: [ref('context.time'), '2030-01-01T00:00:00Z'] }, [at('2029-12-31T23:59:59Z'), at('2030-01-01T00:00:00Z'), at('2030-01-01T00:30:00+01:00')])).toEqual([true, false, true])
    expect(decisions({ lte: [ref('resource.attributes.issued'), ref('context.time')] }, [at('2026-05-01T12:00:00Z', '2026-05-01T12:00:00Z'), at('2026-05-01T12:00:00Z', '2026-05-01T12:00:01Z'), at('2026-05-01T12:00:00Z')])).toEqual([true, false, false])
  })

  it('contains finds an element of a list or a substring of a text', () => {
    expect(decisions({ contains: [ref('resource.attributes.tags'), 'draft'] }, [attrs({ tags: ['q3', 'draft'] }), attrs({ tags: 'Q3 draft' }), attrs({ tags: ['drafts'] }), attrs({ tags: 'final' }), attrs({ tags: 7 })])).toEqual([true, true, false, false, false])
  })

  it('ip_in_cidr matches IPv4 and IPv6 addresses against a list of ranges, or one range (an IPv4-mapped IPv6 address counts as IPv4)', () => {
    const from = (ip?: string): Case => ({ context: ip ? { ip } : {} })
    expect(decisions({ ip_in_cidr: [ref('context.ip'), ['10.0.0.0/8', '2001:db8::/32']] }, [from('10.200.3.4'), from('11.0.0.1'), from('2001:db8:1::7'), from('2001:db9::1'), from()])).toEqual([true, false, true, false, false])
    expect(decisions({ ip_in_cidr: [ref('context.ip'), '192.168.1.0/24'] }, [from('192.168.1.77'), from('192.168.2.1'), from('::ffff:c0a8:0101'), from('2001:db8::c0a8:101')])).toEqual([true, false, true, false])
  })

  it('all needs every part true: department and office hours (context.hour, UTC)', () => {
    const cond = { all: [{ eq: [ref('subject.attributes.department'), 'finance'] }, { gte: [ref('context.hour'), 9] }, { lt: [ref('context.hour'), 17] }] }
    const who = (department: string | undefined, time: string): Case => ({ subject: department ? { department } : {}, context: { time } })
    expect(decisions(cond, [who('finance', '2026-03-02T10:00:00Z'), who('finance', '2026-03-02T08:59:59Z'), who('sales', '2026-03-02T10:00:00Z'), who(undefined, '2026-03-02T10:00:00Z')])).toEqual([true, false, false, false])
  })

  it('any needs one part true, even when another cannot be decided', () => {
    const cond = { any: [{ eq: [ref('subject.attributes.department'), 'finance'] }, { eq: [ref('resource.attributes.visibility'), 'public'] }] }
    const who = (subject: Record<string, unknown>, resource: Record<string, unknown>): Case => ({ subject, resource })
    expect(decisions(cond, [who({ department: 'finance' }, {}), who({}, { visibility: 'public' }), who({ department: 'sales' }, { visibility: 'private' }), who({}, { visibility: 'private' })])).toEqual([true, true, false, false])
  })

  it('not negates, and keeps an undecidable part undecided (no allow)', () => {
    expect(decisions({ not: { eq: [ref('resource.attributes.status'), 'locked'] } }, [attrs({ status: 'open' }), attrs({ status: 'locked' }), attrs({})])).toEqual([true, false, false])
  })

  it('subject.roles lists the roles the subject holds', () => {
    expect(decisions({ contains: [ref('subject.roles'), 'member'] }, [{}])).toEqual([true])
    expect(decisions({ contains: [ref('subject.roles'), 'admin'] }, [{}])).toEqual([false])
  })
})
