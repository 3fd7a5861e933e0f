import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { authzEngine } from '../../authz/cache.ts'
import { databaseVersion } from '../../authz/snapshot.ts'
import { commonError, fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { requestAuthz } from '../permission/index.ts'

export const BUILT_IN_ROLES = ['owner', 'admin', 'member'] as const
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number]

export interface Member {
  userId: string
  role: string
  status: 'active' | 'disabled'
}

export interface MembershipVariables {
  member: Member
}

const RANK: Record<string, number> = { member: 1, admin: 2, owner: 3 }

/**
 * The caller's membership in the host's tenant, requiring at least `minimum` of the built-in
 * roles (owner > admin > member). For self-service sections (/v1/me, MFA), where the caller acts
 * on their own account: endpoints that act on the tenant are gated by `requirePermission`
 * (src/middleware/permission) instead.
 *
 * Answered from the tenant's authorization model (src/authz/cache.ts), which holds every active
 * member's role and is used only at the tenant's current version: every change to a membership
 * (role, status, removal) bumps that version in its own transaction and publishes it before
 * answering, so the request after it sees the change, with no SQL on a warm request. A caller
 * missing from the cached model is looked up once more at the database's version before being
 * refused (a publish lost while Redis was down).
 */
export function requireMember(minimum: BuiltInRole = 'member'): MiddlewareHandler<AppEnv & { Variables: MembershipVariables }> {
  return async function requireMemberMiddleware(c, next) {
    const tenant = c.var.tenant
    if (!tenant) throw fail(TenantErrors, 'tenant_required')
    const auth = c.var.auth
    if (!auth) throw commonError('unauthenticated')
    const ctx = c as unknown as Parameters<typeof requestAuthz>[0]
    let role = (await requestAuthz(ctx)).memberRole(auth.sub)
    if (role === undefined) {
      const engine = await authzEngine(c.var, tenant, await databaseVersion(c.var.db, tenant))
      ctx.set('authz', engine)
      role = engine.memberRole(auth.sub)
    }
    if (role === undefined) throw fail(IdentityErrors, 'not_a_member')
    if ((RANK[role] ?? 0) < RANK[minimum]!) throw fail(IdentityErrors, 'insufficient_role', `This needs the ${minimum} role or higher.`)
    c.set('member', { userId: auth.sub, role, status: 'active' })
    await next()
  }
}
