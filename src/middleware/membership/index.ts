import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { commonError, fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { findMember, type Member } from '../../identity/memberships.ts'
import { TenantErrors } from '../../tenancy/errors.ts'

export interface MembershipVariables {
  member: Member
}

/**
 * Requires the caller to be an active member of the host's tenant, and sets `member`. For
 * self-service endpoints (/v1/me, MFA, linked identities), where the caller acts on their own
 * account: endpoints that act on the tenant are gated by `requirePermission`
 * (src/middleware/permission) instead.
 */
export function requireMember(): MiddlewareHandler<AppEnv & { Variables: MembershipVariables }> {
  return async function requireMemberMiddleware(c, next) {
    const tenant = c.var.tenant
    if (!tenant) throw fail(TenantErrors, 'tenant_required')
    const auth = c.var.auth
    if (!auth) throw commonError('unauthenticated')
    const member = await findMember(c.var.db, tenant, auth.sub)
    if (!member || member.status !== 'active') throw fail(IdentityErrors, 'not_a_member')
    c.set('member', { userId: member.userId, role: member.role, status: member.status })
    await next()
  }
}
