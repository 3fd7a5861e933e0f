import type { MiddlewareHandler } from 'hono'
import type { AppEnv, AppScope } from '../../app-env.ts'
import { ATRIUM_RESOURCE_TYPES, type AtriumPermission } from '../../authz/atrium-types.ts'
import { authzEngine } from '../../authz/cache.ts'
import { databaseVersion } from '../../authz/snapshot.ts'
import type { AuthzEngine, CheckInput, Subject } from '../../authz/engine.ts'
import { AuthzErrors } from '../../authz/errors.ts'
import { parsePermission } from '../../authz/permissions.ts'
import { commonError, fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import type { Services } from '../../platform/request-scope.ts'
import type { TenantHostVariables } from '../tenant/index.ts'
import type { Member } from '../../identity/memberships.ts'

export interface PermissionVariables {
  /** Who is asking: the signed-in user, or the API key. */
  subject: Subject
  /** The tenant's authorization model for this request (read once per request). */
  authz: AuthzEngine
  /** The caller's membership when the caller is a user (as requireMember sets it); null for an API key. */
  member: Member | null
}

/** What requirePermission adds to a route's context: the permission variables and the tenant it guarantees. */
export type PermissionEnv = AppEnv & { Variables: PermissionVariables & TenantHostVariables }

/** The context of a route behind requirePermission, as the functions the route calls see it. */
export type PermissionContext = AppScope<PermissionVariables & TenantHostVariables>

/** A context on a tenant host that can keep the request's model. */
export interface AuthzHolder {
  readonly var: Readonly<Services & TenantHostVariables>
  get(key: 'authz'): AuthzEngine | undefined
  set(key: 'authz', value: AuthzEngine): void
}

/** The caller: `c.var.subject` when an earlier middleware set one, else the API key, else the JWT's user. */
export function callerSubject(c: { var: Pick<AppEnv['Variables'], 'apiKey' | 'auth'> & { subject?: Subject | null } }): Subject | null {
  const { subject: given, apiKey, auth } = c.var
  if (given) return given
  if (apiKey) return { type: 'api_key', id: apiKey.id }
  if (auth) return { type: 'user', id: auth.sub }
  return null
}

/** The request's model: loaded once (one Redis GET when warm), then shared by every check of the request. */
export async function requestAuthz(c: AuthzHolder): Promise<AuthzEngine> {
  let engine = c.get('authz')
  if (!engine) {
    const v = c.var
    engine = await authzEngine(v, v.tenant)
    c.set('authz', engine)
  }
  return engine
}

/**
 * The request's model, made sure against the database when the cached one does not know the
 * caller (`known` fails): a member who joined a moment ago, should a publish have been lost.
 * Costs one query, for strangers only.
 */
export async function confirmedAuthz(c: AuthzHolder, known: (engine: AuthzEngine) => boolean): Promise<AuthzEngine> {
  const engine = await requestAuthz(c)
  if (known(engine)) return engine
  const tenant = c.var.tenant
  const fresh = await authzEngine(c.var, tenant, await databaseVersion(c.var.db, tenant))
  c.set('authz', fresh)
  return fresh
}

/** The check the caller's own request amounts to (no subject attributes; the request's address and time). */
export function callerCheck(c: { req: { header(name: string): string | undefined } }, subject: Subject, type: string, action: string, resourceId?: string): CheckInput {
  const ip = c.req.header('cf-connecting-ip') ?? undefined
  return { subject, action, resource: { type, id: resourceId }, context: { ip } }
}

/**
 * Requires one of Atrium's own permissions (`members:invite`) through the same engine as
 * /v1/authz/check: the caller's roles (member role, API key roles, bindings) and the tenant's
 * policies (deny overrides allow). 404 off a tenant host, 401 without credentials, 403
 * `not_a_member` for a user outside this tenant, 403 `permission_denied` (with the engine's
 * reason) otherwise. `resourceId` scopes the check to one instance, so instance bindings apply.
 */
export function requirePermission(
  permission: AtriumPermission,
  options: { resourceId?: (c: AppScope) => string | undefined } = {},
): MiddlewareHandler<PermissionEnv> {
  const parsed = parsePermission(permission)
  const known = parsed && (ATRIUM_RESOURCE_TYPES as Record<string, { actions: readonly string[] }>)[parsed.type]
  if (!parsed || !known || !known.actions.includes(parsed.action)) throw new Error(`requirePermission: unknown permission ${JSON.stringify(permission)}`)

  return async function requirePermissionMiddleware(c, next) {
    if (!c.var.tenant) throw fail(TenantErrors, 'tenant_required')
    const subject = callerSubject(c)
    if (!subject) throw commonError('unauthenticated')
    const engine = await confirmedAuthz(c, (e) => e.isSubject(subject))
    if (!engine.isSubject(subject)) {
      if (subject.type === 'user') throw fail(IdentityErrors, 'not_a_member')
      throw fail(AuthzErrors, 'permission_denied', 'This API key is no longer active.')
    }
    const decision = engine.decide(callerCheck(c, subject, parsed.type, parsed.action, options.resourceId?.(c)))
    if (!decision.allowed) throw fail(AuthzErrors, 'permission_denied', `This needs the permission ${permission}.`, { permission, reason: decision.reason })
    c.set('subject', subject)
    const role = subject.type === 'user' ? engine.memberRole(subject.id) : undefined
    c.set('member', role === undefined ? null : { userId: subject.id, role, status: 'active' })
    await next()
  }
}
