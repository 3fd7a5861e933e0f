import { newEnforcer, newModelFromString, type Enforcer } from 'casbin'
import type { CheckInput } from '../src/authz/engine.ts'
import type { BenchModel } from './authz-model.ts'

/**
 * The same RBAC decisions made by node-casbin, in-process: a model from text, every policy
 * and role link added in memory. Atrium's semantics in casbin terms:
 * - a role's permission `type:action` (either half may be `*`) is `p, role, type, action`;
 * - a tenant-wide binding is the role link `g, user, role, tenant`, one on an instance
 *   `g, user, role, type/id`; a member's built-in role is a tenant-wide link too;
 * - a check on an instance asks for the role in the domain `tenant` or `type/id`.
 * The cheap comparisons come first in the matcher, so the role lookup runs only for the policies
 * that name the type and action (casbin evaluates the matcher once per policy line).
 */
export const CASBIN_MODEL = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (p.obj == r.obj || p.obj == "*") && (p.act == r.act || p.act == "*") && (g(r.sub, p.sub, "tenant") || g(r.sub, p.sub, r.dom))
`

const TENANT_WIDE = 'tenant'

/** The request casbin is asked for one of Atrium's checks. */
export function casbinRequest(check: CheckInput): [string, string, string, string] {
  const domain = check.resource.id === undefined ? TENANT_WIDE : `${check.resource.type}/${check.resource.id}`
  return [check.subject.id, domain, check.resource.type, check.action]
}

/**
 * An enforcer holding `model`, the tenant's built-in roles (name → permissions, as the tenant's
 * snapshot holds them) and the owner's membership; with the number of policy lines and role links.
 */
export async function casbinEnforcer(
  model: BenchModel,
  builtIn: Array<[name: string, permissions: string[]]>,
  ownerId: string,
): Promise<{ enforcer: Enforcer; policies: number; links: number }> {
  const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL))
  const policies: string[][] = []
  for (const [name, permissions] of builtIn) for (const p of permissions) policies.push([name, ...p.split(':')])
  for (const role of model.roles) for (const p of role.permissions) policies.push([role.name, ...p.split(':')])
  const links: string[][] = [[ownerId, 'owner', TENANT_WIDE]]
  for (const userId of model.users) links.push([userId, 'member', TENANT_WIDE])
  for (const b of model.bindings) links.push([b.userId, b.role.name, b.resourceType === null ? TENANT_WIDE : `${b.resourceType}/${b.resourceId}`])
  await enforcer.addPolicies(policies)
  await enforcer.addGroupingPolicies(links)
  return { enforcer, policies: policies.length, links: links.length }
}
