import { fail } from '../errors.ts'
import { ATRIUM_RESOURCE_TYPES } from './atrium-types.ts'
import { evaluateCondition, timeOf, type Condition, type ConditionInput, type Outcome } from './conditions.ts'
import { AuthzErrors } from './errors.ts'
import { parseIp } from './ip.ts'
import { compileGrants, grants, mergeGrants, type Grants, type ResourceCatalog } from './permissions.ts'
import type { AttributeSchema, AttributeType, AuthzSnapshot, SubjectType } from './snapshot.ts'

/** One question: may `subject` do `action` on `resource`? (the body of POST /v1/authz/check) */
export interface CheckInput {
  subject: { type: SubjectType; id: string; attributes?: Record<string, unknown> }
  action: string
  resource: { type: string; id?: string; attributes?: Record<string, unknown> }
  context?: { ip?: string; time?: string; attributes?: Record<string, unknown> }
}

export interface Decision {
  allowed: boolean
  /** The binding, role or policy that decided, or why nothing did. */
  reason: string
}

export interface Subject {
  type: SubjectType
  id: string
}

export interface AuthzEngine {
  version: number
  builtAt: number
  catalog: Catalog
  /** 400 (unknown_resource_type, unknown_action, invalid_resource_attributes) unless the check can be answered. */
  assertCheckable(check: CheckInput): void
  decide(check: CheckInput, now?: number): Decision
  /** The active member's built-in role, or undefined for a non-member. */
  memberRole(userId: string): string | undefined
  /** Whether the subject belongs to this tenant now (active member, live API key). */
  isSubject(subject: Subject, now?: number): boolean
  /** What the subject holds tenant-wide through its roles (for "no granting beyond one's own"). */
  tenantWideGrants(subject: Subject, now?: number): Grants
}

export interface Catalog extends ResourceCatalog {
  get(type: string): { actions: ReadonlySet<string>; attributes: AttributeSchema | null; builtIn: boolean } | undefined
  names(): string[]
}

interface Role {
  id: string
  name: string
  grants: Grants
}

interface Binding {
  id: string
  role: Role
  resourceType: string | null
  resourceId: string | null
  expiresAt: number | null
}

interface Policy {
  id: string
  name: string
  condition: Condition | null
}

interface SubjectBindings {
  tenantWide: Binding[]
  /** Keyed by `type\0id`. */
  byResource: Map<string, Binding[]>
}

const NO_BINDINGS: SubjectBindings = { tenantWide: [], byResource: new Map() }
const resourceKey = (type: string, id: string) => `${type}\u0000${id}`
const live = (b: Binding, now: number) => b.expiresAt === null || b.expiresAt > now

export function buildCatalog(types: AuthzSnapshot['types']): Catalog {
  const byName = new Map<string, { actions: ReadonlySet<string>; attributes: AttributeSchema | null; builtIn: boolean }>()
  for (const [name, t] of Object.entries(ATRIUM_RESOURCE_TYPES)) byName.set(name, { actions: new Set(t.actions), attributes: null, builtIn: true })
  for (const [name, actions, attributes] of types) if (!byName.has(name)) byName.set(name, { actions: new Set(actions), attributes, builtIn: false })
  const allActions = new Set([...byName.values()].flatMap((t) => [...t.actions]))
  return {
    get: (type) => byName.get(type),
    hasAction: (action) => allActions.has(action),
    names: () => [...byName.keys()],
  }
}

function attributeMatches(type: AttributeType, value: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string'
    case 'number': return typeof value === 'number'
    case 'boolean': return typeof value === 'boolean'
    case 'time': return timeOf(value) !== undefined
    case 'ip': return typeof value === 'string' && parseIp(value) !== null
    case 'string[]': return Array.isArray(value) && value.every((v) => typeof v === 'string')
    case 'number[]': return Array.isArray(value) && value.every((v) => typeof v === 'number')
  }
}

/** Attributes that do not have their declared type (undeclared ones are let through). */
export function attributeProblems(schema: AttributeSchema | null, attributes: Record<string, unknown> | undefined) {
  if (!schema || !attributes) return []
  return Object.entries(schema)
    .filter(([name, spec]) => Object.hasOwn(attributes, name) && !attributeMatches(spec.type, attributes[name]))
    .map(([name, spec]) => ({ attribute: name, expected: spec.type }))
}

/**
 * Compile a snapshot into the structure that answers checks without SQL: roles with their
 * permission matchers, bindings indexed by subject (then by resource), policies indexed by
 * the permission patterns they name (resolved per `type:action` once, then memoised).
 */
export function compileAuthz(snapshot: AuthzSnapshot): AuthzEngine {
  const catalog = buildCatalog(snapshot.types)

  const rolesById = new Map<string, Role>()
  const rolesByName = new Map<string, Role>()
  for (const [id, name, permissions] of snapshot.roles) {
    const role = { id, name, grants: compileGrants(permissions) }
    rolesById.set(id, role)
    rolesByName.set(name, role)
  }

  const bindingsBySubject = new Map<string, SubjectBindings>()
  for (const [id, subjectType, subjectId, roleId, resourceType, resourceId, expiresAt] of snapshot.bindings) {
    const role = rolesById.get(roleId)
    if (!role) continue
    const key = `${subjectType}:${subjectId}`
    let entry = bindingsBySubject.get(key)
    if (!entry) bindingsBySubject.set(key, (entry = { tenantWide: [], byResource: new Map() }))
    const binding = { id, role, resourceType, resourceId, expiresAt }
    if (resourceType === null || resourceId === null) entry.tenantWide.push(binding)
    else {
      const rk = resourceKey(resourceType, resourceId)
      const list = entry.byResource.get(rk)
      if (list) list.push(binding)
      else entry.byResource.set(rk, [binding])
    }
  }

  const members = new Map(snapshot.members)
  const apiKeys = new Map(snapshot.apiKeys.map(([id, roles, expiresAt]) => [id, { roles, expiresAt }]))

  // Policies by the pattern they name; resolved into per-permission lists on first use.
  const policyPatterns = new Map<string, { deny: Policy[]; allow: Policy[] }>()
  for (const [id, name, effect, permission, conditions] of snapshot.policies) {
    let entry = policyPatterns.get(permission)
    if (!entry) policyPatterns.set(permission, (entry = { deny: [], allow: [] }))
    entry[effect].push({ id, name, condition: (conditions ?? null) as Condition | null })
  }
  const policiesByPermission = new Map<string, { deny: Policy[]; allow: Policy[] }>()
  const EMPTY_POLICIES = { deny: [], allow: [] }
  function policiesFor(type: string, action: string, permission: string) {
    if (policyPatterns.size === 0) return EMPTY_POLICIES
    let found = policiesByPermission.get(permission)
    if (!found) {
      const parts = [permission, `${type}:*`, `*:${action}`, '*:*'].map((p) => policyPatterns.get(p)).filter((p) => p !== undefined)
      found = { deny: parts.flatMap((p) => p.deny), allow: parts.flatMap((p) => p.allow) }
      policiesByPermission.set(permission, found)
    }
    return found
  }

  /** The roles a subject holds implicitly (member role, API key roles); null when it is no subject of this tenant. */
  function implicitRoles(subject: Subject, now: number): readonly string[] | null {
    if (subject.type === 'user') {
      const role = members.get(subject.id)
      return role === undefined ? null : [role]
    }
    const key = apiKeys.get(subject.id)
    if (!key || (key.expiresAt !== null && key.expiresAt <= now)) return null
    return key.roles
  }

  function assertCheckable(check: CheckInput) {
    const type = catalog.get(check.resource.type)
    if (!type) throw fail(AuthzErrors, 'unknown_resource_type', `Unknown resource type ${JSON.stringify(check.resource.type)}.`, { resource_type: check.resource.type })
    if (!type.actions.has(check.action)) {
      throw fail(AuthzErrors, 'unknown_action', `Resource type ${JSON.stringify(check.resource.type)} has no action ${JSON.stringify(check.action)}.`, { resource_type: check.resource.type, action: check.action, actions: [...type.actions] })
    }
    const problems = attributeProblems(type.attributes, check.resource.attributes)
    if (problems.length) {
      throw fail(AuthzErrors, 'invalid_resource_attributes', `Resource attribute ${JSON.stringify(problems[0]!.attribute)} must be of type ${problems[0]!.expected}.`, { problems })
    }
  }

  function decide(check: CheckInput, now = Date.now()): Decision {
    const { subject, action, resource } = check
    const type = resource.type
    const permission = `${type}:${action}`
    const implicit = implicitRoles(subject, now)
    if (!implicit) {
      return { allowed: false, reason: subject.type === 'user' ? `user ${subject.id} is not a member of this tenant` : `api_key ${subject.id} is not an active API key of this tenant` }
    }
    const held = bindingsBySubject.get(`${subject.type}:${subject.id}`) ?? NO_BINDINGS
    const onResource = resource.id === undefined ? undefined : held.byResource.get(resourceKey(type, resource.id))
    const policies = policiesFor(type, action, permission)

    let input: ConditionInput | undefined
    const inputOf = () =>
      (input ??= {
        subject: {
          type: subject.type,
          id: subject.id,
          attributes: subject.attributes ?? {},
          roles: () => [...new Set([...implicit, ...held.tenantWide.filter((b) => live(b, now)).map((b) => b.role.name), ...(onResource ?? []).filter((b) => live(b, now)).map((b) => b.role.name)])],
        },
        resource: { type, id: resource.id, attributes: resource.attributes ?? {} },
        action,
        context: { ip: check.context?.ip, time: check.context?.time ?? new Date(now).toISOString(), attributes: check.context?.attributes ?? {} },
      })

    // A tenant owner can always manage policies, so a bad deny rule can be taken back.
    const breakGlass = type === 'policies' && subject.type === 'user' && implicit[0] === 'owner'
    if (!breakGlass) {
      for (const p of policies.deny) {
        const undecided: string[] = []
        const outcome: Outcome = p.condition ? evaluateCondition(p.condition, inputOf(), undecided) : true
        if (outcome === false) continue
        const why = outcome === 'unknown' ? `: its conditions could not be decided (${[...new Set(undecided)].join(', ') || 'an operand'} missing or not comparable)` : ''
        return { allowed: false, reason: `denied by policy '${p.name}' (${p.id})${why}` }
      }
    }

    if (onResource) {
      for (const b of onResource) {
        if (live(b, now) && grants(b.role.grants, type, action, permission)) {
          return { allowed: true, reason: `role '${b.role.name}' bound on ${type}:${resource.id} (binding ${b.id})` }
        }
      }
    }
    for (const b of held.tenantWide) {
      if (live(b, now) && grants(b.role.grants, type, action, permission)) return { allowed: true, reason: `role '${b.role.name}' bound tenant-wide (binding ${b.id})` }
    }
    for (const name of implicit) {
      const role = rolesByName.get(name)
      if (role && grants(role.grants, type, action, permission)) {
        return { allowed: true, reason: subject.type === 'user' ? `role '${name}' held as a member of the tenant` : `role '${name}' held by the API key` }
      }
    }
    for (const p of policies.allow) {
      if (!p.condition || evaluateCondition(p.condition, inputOf()) === true) return { allowed: true, reason: `allowed by policy '${p.name}' (${p.id})` }
    }
    return { allowed: false, reason: `no role or policy grants ${permission}` }
  }

  return {
    version: snapshot.version,
    builtAt: snapshot.builtAt,
    catalog,
    assertCheckable,
    decide,
    memberRole: (userId) => members.get(userId),
    isSubject: (subject, now = Date.now()) => implicitRoles(subject, now) !== null,
    tenantWideGrants(subject, now = Date.now()) {
      const implicit = implicitRoles(subject, now)
      if (!implicit) return compileGrants([])
      const held = bindingsBySubject.get(`${subject.type}:${subject.id}`) ?? NO_BINDINGS
      const roles = [...implicit.map((n) => rolesByName.get(n)), ...held.tenantWide.filter((b) => live(b, now)).map((b) => b.role)]
      return mergeGrants(roles.filter((r) => r !== undefined).map((r) => r.grants))
    },
  }
}
