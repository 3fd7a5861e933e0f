import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { commonError, fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import type { Member } from '../../identity/memberships.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { confirmedAuthz, type PermissionVariables } from '../permission/index.ts'
import { requireAuth } from '../auth/index.ts'
import { tenantHostOnly, type TenantHostVariables } from '../tenant/index.ts'

export interface MembershipVariables {
  member: Member
}

/**
 * Requires the caller to be an active member of the host's tenant, and sets `member`. For
 * self-service sections (/v1/me, MFA, linked identities), where the caller acts
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
export function requireMember(): MiddlewareHandler<AppEnv & { Variables: MembershipVariables & TenantHostVariables & Partial<Pick<PermissionVariables, 'authz'>> }> {
  return async function requireMemberMiddleware(c, next) {
    const tenant = c.var.tenant
    if (!tenant) throw fail(TenantErrors, 'tenant_required')
    const auth = c.var.auth
    if (!auth) throw commonError('unauthenticated')
    // A caller missing from the cached model is looked up once more at the database's version.
    const role = (await confirmedAuthz(c, (e) => e.memberRole(auth.sub) !== undefined)).memberRole(auth.sub)
    if (role === undefined) throw fail(IdentityErrors, 'not_a_member')
    c.set('member', { userId: auth.sub, role, status: 'active' })
    await next()
  }
}

/**
 * The gates of a self-service endpoint, where the caller acts on their own account: a tenant
 * host, a signed-in user, an active member. Declared on each route (`middleware: selfService()`),
 * so the route's context type has the tenant, the user's claims and the membership.
 */
export function selfService(): [ReturnType<typeof tenantHostOnly>, ReturnType<typeof requireAuth>, ReturnType<typeof requireMember>] {
  return [tenantHostOnly(), requireAuth(), requireMember()]
}
