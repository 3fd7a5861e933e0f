import { z } from 'zod'
import { ipInRange, parseCidr, parseIp, type CidrRange } from './ip.ts'

/**
 * Policy conditions: JSON data, validated on write, evaluated by the small interpreter below.
 * No code is ever evaluated. A condition is an object with exactly one operator key:
 *
 *   {"all": [c, …]}  {"any": [c, …]}  {"not": c}
 *   {"eq": [a, b]}  {"ne": [a, b]}  {"in": [a, list]}  {"not_in": [a, list]}
 *   {"gt" | "gte" | "lt" | "lte": [a, b]}   numbers, or ISO 8601 times
 *   {"contains": [list_or_text, b]}          element of a list, or substring of a text
 *   {"ip_in_cidr": [a, "10.0.0.0/8" | ["10.0.0.0/8", "2001:db8::/32"]]}
 *
 * An operand is a JSON literal (string, number, boolean, null, or a list of those) or a
 * reference `{"ref": "resource.attributes.owner"}` (see REFERENCE).
 *
 * Evaluation uses three values (Kleene logic): true, false, and `unknown` when an operand is
 * missing or of a type the operator cannot compare (no coercion: "10" is not 10). `not`
 * keeps unknown, `all` is false if any part is false, `any` is true if any part is true.
 * The engine applies a deny policy unless its conditions are definitely false (fail closed)
 * and an allow policy only when they are definitely true.
 */

export const LOGICAL_OPERATORS = ['all', 'any', 'not'] as const
export const COMPARISON_OPERATORS = ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte', 'contains', 'ip_in_cidr'] as const
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number]

type Scalar = string | number | boolean | null
export type Operand = Scalar | Scalar[] | { ref: string }
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { [K in ComparisonOperator]: { [P in K]: [Operand, Operand] } }[ComparisonOperator]

/**
 * References: `subject.id|type|roles`, `subject.attributes.<path>`, `resource.type|id`,
 * `resource.attributes.<path>`, `action`, `context.ip|time|weekday|hour`,
 * `context.attributes.<path>`. A path is up to 4 dot-separated names.
 */
export const REFERENCE = /^(?:subject\.(?:id|type|roles)|resource\.(?:type|id)|action|context\.(?:ip|time|weekday|hour)|(?:subject|resource|context)\.attributes(?:\.[A-Za-z0-9_-]{1,64}){1,4})$/

export const MAX_DEPTH = 8
export const MAX_NODES = 200
const MAX_LIST = 1000

const ScalarSchema = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()])
const Reference = z.strictObject({
  ref: z.string().regex(REFERENCE, {
    error: (issue) => `unknown reference ${JSON.stringify(issue.input)}: use subject.id, subject.type, subject.roles, subject.attributes.<name>, resource.type, resource.id, resource.attributes.<name>, action, context.ip, context.time, context.weekday, context.hour or context.attributes.<name>`,
  }),
})
const OperandSchema = z.union([ScalarSchema, z.array(ScalarSchema).max(MAX_LIST), Reference], {
  error: 'an operand is a string, number, boolean, null, a list of those, or {"ref": "…"}',
})
const Pair = z.tuple([OperandSchema, OperandSchema], { error: 'give exactly two operands: [left, right]' })
const CidrSchema = z.string().refine((v) => parseCidr(v) !== null, { error: (issue) => `not a CIDR range: ${JSON.stringify(issue.input)}` })
const CidrPair = z.tuple([OperandSchema, z.union([CidrSchema, z.array(CidrSchema).min(1).max(MAX_LIST)])], {
  error: 'give [address, "cidr" or ["cidr", …]]',
})

const operatorSchemas = (): Record<string, z.ZodType> => ({
  all: z.array(ConditionSchema).min(1).max(50),
  any: z.array(ConditionSchema).min(1).max(50),
  not: ConditionSchema,
  ...Object.fromEntries(COMPARISON_OPERATORS.map((op) => [op, op === 'ip_in_cidr' ? CidrPair : Pair])),
})

/** One condition node, checked operator by operator so an error names the exact place. */
export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.record(z.string(), z.unknown()).superRefine((node, ctx) => {
    const keys = Object.keys(node)
    if (keys.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `a condition has exactly one operator key, one of ${[...LOGICAL_OPERATORS, ...COMPARISON_OPERATORS].join(', ')}` })
      return
    }
    const op = keys[0]!
    const schema = operatorSchemas()[op]
    if (!schema) {
      ctx.addIssue({ code: 'custom', path: [op], message: `unknown operator ${JSON.stringify(op)}: use ${[...LOGICAL_OPERATORS, ...COMPARISON_OPERATORS].join(', ')}` })
      return
    }
    const result = schema.safeParse(node[op])
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: [op, ...issue.path], message: issue.message })
  }),
) as unknown as z.ZodType<Condition>

/** Size limits, checked after the shape: nesting depth and number of nodes. */
export function conditionSizeProblem(condition: Condition): string | null {
  let nodes = 0
  const walk = (c: Condition, depth: number): string | null => {
    nodes += 1
    if (depth > MAX_DEPTH) return `conditions nest at most ${MAX_DEPTH} levels deep`
    if (nodes > MAX_NODES) return `conditions have at most ${MAX_NODES} nodes`
    const children = 'all' in c ? c.all : 'any' in c ? c.any : 'not' in c ? [c.not] : []
    for (const child of children) {
      const problem = walk(child, depth + 1)
      if (problem) return problem
    }
    return null
  }
  return walk(condition, 1)
}

/** Every reference a condition reads (e.g. to check them against a resource type's attributes). */
export function referencesIn(condition: Condition): string[] {
  const refs: string[] = []
  const walk = (c: Condition) => {
    if ('all' in c) c.all.forEach(walk)
    else if ('any' in c) c.any.forEach(walk)
    else if ('not' in c) walk(c.not)
    else for (const operand of Object.values(c)[0] as Operand[]) if (isRef(operand)) refs.push(operand.ref)
  }
  walk(condition)
  return refs
}

/** What a condition can read. `roles` are the subject's roles that apply to this resource. */
export interface ConditionInput {
  subject: { type: string; id: string; attributes: Record<string, unknown>; roles: () => string[] }
  resource: { type: string; id: string | undefined; attributes: Record<string, unknown> }
  action: string
  context: { ip: string | undefined; time: string; attributes: Record<string, unknown> }
}

export type Outcome = boolean | 'unknown'

const isRef = (o: unknown): o is { ref: string } => typeof o === 'object' && o !== null && !Array.isArray(o) && typeof (o as { ref?: unknown }).ref === 'string'

function lookup(root: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = root
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

/** The value a reference names, or undefined when the input does not have it. */
export function resolveReference(ref: string, input: ConditionInput): unknown {
  const [head, second, ...rest] = ref.split('.')
  if (head === 'action') return input.action
  if (second === 'attributes') {
    const owner = head === 'subject' ? input.subject : head === 'resource' ? input.resource : input.context
    return lookup(owner.attributes, rest)
  }
  if (head === 'subject') return second === 'roles' ? input.subject.roles() : second === 'id' ? input.subject.id : input.subject.type
  if (head === 'resource') return second === 'id' ? input.resource.id : input.resource.type
  if (second === 'ip') return input.context.ip
  const ms = timeOf(input.context.time)
  if (second === 'time') return input.context.time
  if (ms === undefined) return undefined
  const date = new Date(ms)
  // ISO weekday (Monday 1 … Sunday 7) and hour, both in UTC.
  return second === 'weekday' ? date.getUTCDay() || 7 : date.getUTCHours()
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

/** Milliseconds of an ISO 8601 date or date-time with offset; undefined for anything else. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_TIME.test(value)) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  const ta = timeOf(a)
  if (ta !== undefined && ta === timeOf(b)) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => equal(v, b[i]))
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return false
}

/** -1, 0 or 1 for two numbers or two ISO times; undefined when they cannot be ordered. */
function order(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b)
  const ta = timeOf(a)
  const tb = timeOf(b)
  return ta !== undefined && tb !== undefined ? Math.sign(ta - tb) : undefined
}

const negate = (o: Outcome): Outcome => (o === 'unknown' ? o : !o)

const cidrCache = new Map<string, CidrRange | null>()
function cidr(text: unknown): CidrRange | null {
  if (typeof text !== 'string') return null
  let range = cidrCache.get(text)
  if (range === undefined) {
    range = parseCidr(text)
    if (cidrCache.size > 10_000) cidrCache.clear()
    cidrCache.set(text, range)
  }
  return range
}

function compare(op: ComparisonOperator, a: unknown, b: unknown): Outcome {
  if (a === undefined || b === undefined) return 'unknown'
  switch (op) {
    case 'eq':
      return equal(a, b)
    case 'ne':
      return !equal(a, b)
    case 'in':
    case 'not_in': {
      if (!Array.isArray(b)) return 'unknown'
      const found = b.some((item) => equal(a, item))
      return op === 'in' ? found : !found
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const o = order(a, b)
      if (o === undefined) return 'unknown'
      return op === 'gt' ? o > 0 : op === 'gte' ? o >= 0 : op === 'lt' ? o < 0 : o <= 0
    }
    case 'contains':
      if (Array.isArray(a)) return a.some((item) => equal(item, b))
      if (typeof a === 'string' && typeof b === 'string') return a.includes(b)
      return 'unknown'
    case 'ip_in_cidr': {
      const ip = typeof a === 'string' ? parseIp(a) : null
      const ranges = (Array.isArray(b) ? b : [b]).map(cidr)
      if (!ip || ranges.some((r) => r === null)) return 'unknown'
      return ranges.some((r) => ipInRange(ip, r!))
    }
  }
}

/**
 * Evaluate a (validated) condition. `undecided`, when given, receives the references that made
 * some comparison unknown, so a decision can say which attribute was missing.
 */
export function evaluateCondition(condition: Condition, input: ConditionInput, undecided?: string[]): Outcome {
  if ('all' in condition) {
    let result: Outcome = true
    for (const c of condition.all) {
      const o = evaluateCondition(c, input, undecided)
      if (o === false) return false
      if (o === 'unknown') result = 'unknown'
    }
    return result
  }
  if ('any' in condition) {
    let result: Outcome = false
    for (const c of condition.any) {
      const o = evaluateCondition(c, input, undecided)
      if (o === true) return true
      if (o === 'unknown') result = 'unknown'
    }
    return result
  }
  if ('not' in condition) return negate(evaluateCondition(condition.not, input, undecided))
  const op = Object.keys(condition)[0] as ComparisonOperator
  const [left, right] = (condition as Record<string, [Operand, Operand]>)[op]!
  const value = (o: Operand) => (isRef(o) ? resolveReference(o.ref, input) : o)
  const outcome = compare(op, value(left), value(right))
  if (outcome === 'unknown' && undecided) for (const o of [left, right]) if (isRef(o)) undecided.push(o.ref)
  return outcome
}
