import type { Database } from '../platform/database.ts'
import type { TenantDirectory } from './directory.ts'
import { updateTenant, type AuditContext, type Tenant, type TenantPatch } from './registry.ts'

/**
 * The one path of a tenant's name, plan or settings change, from the platform API or the tenant's
 * own host: the conditional update with its audit entry (`updateTenant`), then both tenant caches
 * cleared before the answer, so the next request in this isolate already sees the change.
 */
export async function changeTenant(deps: { db: Database; tenants: TenantDirectory }, id: string, patch: TenantPatch, ctx: AuditContext): Promise<Tenant> {
  const tenant = await updateTenant(deps.db, id, patch, ctx)
  await deps.tenants.invalidate(tenant)
  return tenant
}
