import { and, eq, isNull, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { RequestScope } from '../platform/request-scope.ts'
import { publishDatabaseVersion } from '../authz/cache.ts'
import { memberships, tenants, userBackupCodes, userIdentities, userMfa } from '../db/public-schema.ts'
import { tenantTables } from '../db/tenant-schema.ts'
import { forgetApiKey } from './api-keys.ts'
import { mfaEnabledKey } from './mfa/status.ts'
import type { Database } from '../platform/database.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { userEventInsert, type RequestMeta } from './audit.ts'
import { sessionDeps } from './context.ts'
import { revokeAllSessions } from './sessions.ts'

/**
 * An account whose address was never verified is only a claim on the address: whoever registered
 * it may not own the mailbox. It must not lock the owner out, so proving control of the address
 * — a password-reset link, or an invitation link accepted with a password other than the
 * account's — wins the account, and everything the unverified claimant set up ends with the
 * same batch that sets the owner's password and marks the address verified:
 *
 *  - the password (replaced), TOTP and backup codes, linked social identities;
 *  - API keys the account created, in every tenant it belongs to (revoked);
 *  - every session, in every tenant (right after the batch, as a password reset does).
 *
 * The account keeps its id and memberships (its tenants are the account's, now the owner's, who
 * may leave them). Proving the address *and* the account's password is the claimant proving
 * itself: nothing ends then.
 */

export type TenantRef = Pick<Tenant, 'id' | 'schemaName' | 'slug'>

/** Every tenant the account is an active member of (the public index). */
export async function tenantsOf(db: Database, userId: string): Promise<TenantRef[]> {
  return db.select({ id: tenants.id, schemaName: tenants.schemaName, slug: tenants.slug }).from(memberships).innerJoin(tenants, eq(tenants.id, memberships.tenantId)).where(eq(memberships.userId, userId))
}

/**
 * The statements that strip an unverified claim of its second factors, social identities and
 * API keys, for the batch that hands the account to the address's owner. The key revocations
 * come last, one per tenant, each answering the revoked keys' hashes (see `finishTakeOver`).
 */
export function takeOverStatements(db: Database, userId: string, inTenants: TenantRef[], meta: RequestMeta, via: string): BatchItem<'pg'>[] {
  return [
    db.delete(userBackupCodes).where(eq(userBackupCodes.userId, userId)),
    db.delete(userMfa).where(eq(userMfa.userId, userId)),
    db.delete(userIdentities).where(eq(userIdentities.userId, userId)),
    userEventInsert(db, userId, meta, 'account.claimed', { via }),
    ...inTenants.map((t) => {
      const k = tenantTables(t.schemaName).apiKeys
      return db.update(k).set({ revokedAt: sql`now()` }).where(and(eq(k.createdBy, userId), isNull(k.revokedAt))).returning({ keyHash: k.keyHash })
    }),
  ]
}

/**
 * After the batch: end the claimant's sessions in every tenant (sparing the one the batch opened
 * for the owner, if any), forget the revoked keys' cache entries, publish the authorization
 * versions the revocations bumped, and drop the cached "MFA on" flag. Answers the ended sessions.
 */
export async function finishTakeOver(c: RequestScope, userId: string, inTenants: TenantRef[], keyResults: readonly unknown[], spare?: { tenantId: string; sessionId: string }): Promise<number> {
  let ended = 0
  for (const [i, t] of inTenants.entries()) {
    const deps = await sessionDeps(c, t)
    ended += (await revokeAllSessions(deps, t as Tenant, userId, 'account_claimed', spare?.tenantId === t.id ? spare.sessionId : undefined)).length
    const revoked = (keyResults[i] as { keyHash: string }[] | undefined) ?? []
    for (const key of revoked) await forgetApiKey(c.var, t, key.keyHash).catch((err: unknown) => c.var.logger.warn('api key cache not cleared', { err }))
    if (revoked.length) await publishDatabaseVersion(c.var, t as Tenant)
  }
  await c.var.redis.del(mfaEnabledKey(userId)).catch((err: unknown) => c.var.logger.warn('mfa flag cache not cleared', { err }))
  return ended
}
