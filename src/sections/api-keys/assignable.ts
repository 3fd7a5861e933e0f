import { inArray } from 'drizzle-orm'
import { AuthzErrors } from '../../authz/errors.ts'
import { assertGrantCeiling } from '../../authz/permissions.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import type { PermissionContext } from '../../middleware/permission/index.ts'
import { ApiKeyErrors } from './schemas.ts'

/**
 * Refuses roles a new key may not hold: `owner` (it stays with people), roles the tenant does
 * not have (400 unknown_role, naming them), and roles granting any permission the caller does
 * not hold tenant-wide itself (403 grant_exceeds_own), wildcards compared as wholes: a caller
 * holding `invoice:read` cannot hand out `invoice:*`. The key's roles then count as tenant-wide
 * bindings of the key, so a key never holds more than whoever created it.
 */
export async function assertAssignableRoles(c: PermissionContext, roles: readonly string[]): Promise<void> {
  if (roles.includes('owner')) throw fail(ApiKeyErrors, 'invalid_role', undefined, { roles: ['owner'] })
  const r = tenantTables(c.var.tenant.schemaName).roles
  const rows = await c.var.db.select({ name: r.name, permissions: r.permissions }).from(r).where(inArray(r.name, [...roles]))
  const permissions = new Map(rows.map((row) => [row.name, row.permissions]))
  const unknown = roles.filter((name) => !permissions.has(name))
  if (unknown.length) throw fail(AuthzErrors, 'unknown_role', `Unknown role: ${unknown.join(', ')}.`, { roles: unknown })
  const held = c.var.authz.tenantWideGrants(c.var.subject)
  for (const role of roles) assertGrantCeiling(held, permissions.get(role)!, role)
}
