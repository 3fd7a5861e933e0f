import { sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { RequestScope } from '../platform/request-scope.ts'
import { commonError, fail } from '../errors.ts'
import { consumeRateLimit } from '../middleware/rate-limit/index.ts'
import type { Database } from '../platform/database.ts'
import { TenantErrors } from './errors.ts'

/**
 * Self-service tenant creation (every path where a user, not the platform admin, makes a tenant:
 * platform sign-up's personal tenant, "create another organization"). Each tenant is a schema, so
 * creation is bounded four ways (README, configuration):
 *   - SELF_SERVICE_TENANTS=false turns it off (403 tenant_creation_disabled);
 *   - MAX_TENANTS_PER_ACCOUNT caps the live tenants an account owns (409 tenant_limit_reached),
 *     checked first and again inside the creating batch (`ownedTenantCapStatements`), so
 *     concurrent creations by one account cannot pass it together;
 *   - TENANT_CREATION_PER_IP_PER_HOUR and TENANT_CREATION_PER_HOUR (all callers together) are
 *     sliding windows in Redis (429 rate_limited with Retry-After and details.scope).
 * Every creation path calls `admitTenantCreation` before it provisions, and puts
 * `ownedTenantCapStatements` first in its batch when an existing account creates the tenant.
 */
export async function admitTenantCreation(c: RequestScope, input: { accountId: string | null }): Promise<void> {
  const config = c.var.config
  if (!config.SELF_SERVICE_TENANTS) throw fail(TenantErrors, 'tenant_creation_disabled')
  if (input.accountId) {
    const owned = await ownedTenantCount(c.var.db, input.accountId)
    if (owned >= config.MAX_TENANTS_PER_ACCOUNT) throw tenantLimitReached(config.MAX_TENANTS_PER_ACCOUNT)
  }
  const ip = c.req.header('cf-connecting-ip') ?? 'unknown'
  // Per IP first: an address over its own limit does not use up the global budget.
  for (const [scope, max, identifier] of [
    ['ip', config.TENANT_CREATION_PER_IP_PER_HOUR, `ip:${ip}`],
    ['global', config.TENANT_CREATION_PER_HOUR, 'all'],
  ] as const) {
    const result = await consumeRateLimit(c.var, { max, windowSeconds: 3600 }, `tenant-create-${scope}`, identifier)
    if (result && !result.success) {
      const retryAfter = Math.max(1, Math.ceil((result.reset - Date.now()) / 1000))
      c.header('Retry-After', String(retryAfter))
      throw commonError('rate_limited', `Too many new organizations ${scope === 'ip' ? 'from this address' : 'on this deployment'}; retry in ${retryAfter} s.`, { scope, limit: max, window_seconds: 3600 })
    }
  }
}

const tenantLimitReached = (max: number) =>
  fail(TenantErrors, 'tenant_limit_reached', `An account may own at most ${max} organizations; delete one or ask the platform operator.`, { max })

async function ownedTenantCount(db: Database, accountId: string): Promise<number> {
  const result = await db.execute<{ n: number }>(sql`
    select count(*)::int as n from public.memberships m join public.tenants t on t.id = m.tenant_id
    where m.user_id = ${accountId} and m.role = 'owner' and t.status <> 'deleted'`)
  return Number(result.rows[0]?.n ?? 0)
}

/** The text the in-batch guard fails with (as an invalid integer), so the caller can tell it from other errors. */
const CAP_MARK = 'atrium_tenant_limit_reached'

/**
 * Put these FIRST in the batch that creates a tenant for an existing account: they serialise the
 * account's creations (a transaction-scoped advisory lock) and abort the batch when the account
 * already owns `max` live tenants. Catch the error with `isTenantCapError` → `tenantCapError(max)`.
 */
export function ownedTenantCapStatements(db: Database, accountId: string, max: number): BatchItem<'pg'>[] {
  return [
    db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`tenant-create:${accountId}`}, 0))`),
    db.execute(sql`
      select (case when count(*) >= ${max} then ${CAP_MARK} else '0' end)::int as within_cap
      from public.memberships m join public.tenants t on t.id = m.tenant_id
      where m.user_id = ${accountId} and m.role = 'owner' and t.status <> 'deleted'`),
  ]
}

/** Whether a batch failed on `ownedTenantCapStatements`. */
export function isTenantCapError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error && e.message.includes(CAP_MARK)) return true
  }
  return false
}

export const tenantCapError = tenantLimitReached
