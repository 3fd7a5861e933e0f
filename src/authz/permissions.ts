import { fail } from '../errors.ts'
import { AuthzErrors } from './errors.ts'

/**
 * Permissions are `type:action`. In a role or a policy either half may be `*`: `invoice:*`
 * (every action on invoices, including actions added later), `*:read` (read on every type that
 * has it), `*:*` (everything). A check always names one concrete type and action.
 */

/** Resource type and action names: lowercase, digits, `_` and `-`, starting with a letter. */
export const NAME = /^[a-z][a-z0-9_-]{0,62}$/

export interface Permission {
  type: string
  action: string
}

/** The two halves, or null when `text` is not `name:name` with optional `*` halves. */
export function parsePermission(text: string): Permission | null {
  const colon = text.indexOf(':')
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return null
  const type = text.slice(0, colon)
  const action = text.slice(colon + 1)
  const ok = (half: string) => half === '*' || NAME.test(half)
  return ok(type) && ok(action) ? { type, action } : null
}

/** The resource types a tenant knows (Atrium's own and its registered ones), by name. */
export interface ResourceCatalog {
  get(type: string): { actions: ReadonlySet<string> } | undefined
  /** Whether some type has this action (for `*:action`). */
  hasAction(action: string): boolean
}

/**
 * Why a pattern cannot be used in a role or policy (naming the unknown part), or null.
 * `*:action` needs some type with that action, so a typo such as `*:raed` is caught.
 */
export function permissionProblem(text: string, catalog: ResourceCatalog): string | null {
  const p = parsePermission(text)
  if (!p) return `${JSON.stringify(text)} is not a permission: use type:action, type:*, *:action or *:*`
  if (p.type === '*') return p.action === '*' || catalog.hasAction(p.action) ? null : `no resource type has the action ${JSON.stringify(p.action)} (in ${text})`
  const type = catalog.get(p.type)
  if (!type) return `unknown resource type ${JSON.stringify(p.type)} (in ${text})`
  if (p.action !== '*' && !type.actions.has(p.action)) return `resource type ${JSON.stringify(p.type)} has no action ${JSON.stringify(p.action)} (in ${text})`
  return null
}

/** A role's permissions, precompiled: one set lookup per kind of pattern. */
export interface Grants {
  all: boolean
  exact: ReadonlySet<string>
  types: ReadonlySet<string>
  actions: ReadonlySet<string>
}

export function compileGrants(patterns: readonly string[]): Grants {
  const exact = new Set<string>()
  const types = new Set<string>()
  const actions = new Set<string>()
  let all = false
  for (const text of patterns) {
    const p = parsePermission(text)
    if (!p) continue
    if (p.type === '*' && p.action === '*') all = true
    else if (p.action === '*') types.add(p.type)
    else if (p.type === '*') actions.add(p.action)
    else exact.add(text)
  }
  return { all, exact, types, actions }
}

/** Whether the grants allow one concrete `type:action`. */
export function grants(g: Grants, type: string, action: string, permission = `${type}:${action}`): boolean {
  return g.all || g.exact.has(permission) || g.types.has(type) || g.actions.has(action)
}

/**
 * Whether holding `g` covers the whole of `pattern`, wildcards included (`invoice:*` is covered
 * by `invoice:*` or `*:*`, not by holding today's invoice actions one by one: a later action
 * would escape). Used to refuse granting more than one holds.
 */
export function covers(g: Grants, pattern: string): boolean {
  const p = parsePermission(pattern)
  if (!p) return false
  if (g.all) return true
  if (p.type === '*') return p.action !== '*' && g.actions.has(p.action)
  if (p.action === '*') return g.types.has(p.type)
  return grants(g, p.type, p.action, pattern)
}

/** The union of several roles' grants. */
export function mergeGrants(list: readonly Grants[]): Grants {
  return {
    all: list.some((g) => g.all),
    exact: new Set(list.flatMap((g) => [...g.exact])),
    types: new Set(list.flatMap((g) => [...g.types])),
    actions: new Set(list.flatMap((g) => [...g.actions])),
  }
}

/**
 * The grant ceiling: nobody hands out a permission (in a role, a binding, an API key's roles, an
 * invitation or role change, an allow policy) that they do not hold tenant-wide themselves,
 * wildcards compared as wholes. 403 `grant_exceeds_own`, always with the same details:
 * `permissions` (those beyond the caller's own) and `role` when a role carries them.
 */
export function assertGrantCeiling(held: Grants, permissions: readonly string[], role?: string): void {
  const beyond = permissions.filter((p) => !covers(held, p))
  if (!beyond.length) return
  const what = role === undefined ? 'This would grant' : `The role ${role} grants`
  throw fail(AuthzErrors, 'grant_exceeds_own', `${what} ${beyond.join(', ')}, which you do not hold yourself.`, role === undefined ? { permissions: beyond } : { role, permissions: beyond })
}
