import type { MiddlewareHandler } from 'hono'
import type { AtriumPermission } from '../../authz/atrium-types.ts'
import { fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { callerSubject, confirmedAuthz, requirePermission, type PermissionEnv } from './index.ts'
import { TenantErrors } from '../../tenancy/errors.ts'

/**
 * `requirePermission(permission)`, except for a signed-in member acting on their own id (the
 * path parameter `param`): that takes only the membership — anyone may leave, whatever their
 * roles or the tenant's deny policies say. Sets the same variables as requirePermission.
 */
export function requireSelfOrPermission(permission: AtriumPermission, param: string): MiddlewareHandler<PermissionEnv> {
  const others = requirePermission(permission)
  return async function requireSelfOrPermissionMiddleware(c, next) {
    const subject = callerSubject(c)
    if (subject?.type !== 'user' || subject.id !== c.req.param(param)) return others(c, next)
    if (!c.var.tenant) throw fail(TenantErrors, 'tenant_required')
    const engine = await confirmedAuthz(c, (e) => e.memberRole(subject.id) !== undefined)
    const role = engine.memberRole(subject.id)
    if (role === undefined) throw fail(IdentityErrors, 'not_a_member')
    c.set('subject', subject)
    c.set('member', { userId: subject.id, role, status: 'active' })
    await next()
  }
}
