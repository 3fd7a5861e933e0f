import { eq } from 'drizzle-orm'
import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { TenantErrors } from '../../tenancy/errors.ts'

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
 * Loads the caller's membership in the host's tenant and requires at least `minimum` of the
 * built-in roles (owner > admin > member). For self-service sections (/v1/me, MFA), where the
 * caller acts on their own account: endpoints that act on the tenant are gated by
 * `requirePermission` (src/middleware/permission) instead.
 */
export function requireMember(minimum: BuiltInRole = 'member'): MiddlewareHandler<AppEnv & { Variables: MembershipVariables }> {
  return async function requireMemberMiddleware(c, next) {
    const tenant = c.var.tenant
    if (!tenant) throw fail(TenantErrors, 'tenant_required')
    const auth = c.var.auth
    if (!auth) throw commonError('unauthenticated')
    const t = tenantTables(tenant.schemaName)
    const rows = await c.var.db.select().from(t.members).where(eq(t.members.userId, auth.sub)).limit(1)
    const member = rows[0]
    if (!member || member.status !== 'active') throw fail(IdentityErrors, 'not_a_member')
    if ((RANK[member.role] ?? 0) < RANK[minimum]!) throw fail(IdentityErrors, 'insufficient_role', `This needs the ${minimum} role or higher.`)
    c.set('member', { userId: member.userId, role: member.role, status: member.status })
    await next()
  }
}
