import type { ChangeDeps } from '../changes/commit.ts'
import { updateTenant, type AuditContext, type Tenant, type TenantPatch } from './registry.ts'

/**
 * The one path of a tenant's name, plan or settings change, from the platform API or the tenant's
 * own host: the conditional update with its audit entry and its `tenant_changed` effect
 * (`updateTenant`, through `commitChange`): both tenant caches are cleared before the answer, so
 * the next request in this isolate already sees the change, and every isolate within
 * TENANT_CACHE_TTL_SECONDS — or, if Redis failed, once a drain has applied the effect.
 */
export async function changeTenant(deps: ChangeDeps, id: string, patch: TenantPatch, ctx: AuditContext): Promise<Tenant> {
  return updateTenant(deps, id, patch, ctx)
}
