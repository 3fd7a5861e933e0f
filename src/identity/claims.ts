import { and, eq, isNull, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { RequestScope } from '../platform/request-scope.ts'
import type { Effect } from '../changes/effects.ts'
import { apiKeysRevoked, authzVersionChanged } from '../changes/effects.ts'
import { memberships, tenants, userBackupCodes, userIdentities, userMfa } from '../db/public-schema.ts'
import { tenantTables } from '../db/tenant-schema.ts'
import { mfaEnabledKey } from './mfa/status.ts'
import type { Database } from '../platform/database.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { userEventInsert, type RequestMeta } from './audit.ts'
import { sessionRevocation } from './sessions.ts'

/**
 * An account whose address was never verified is only a claim on the address: whoever registered
 * it may not own the mailbox. It must not lock the owner out, so proving control of the address
 * — a password-reset link, or an invitation link accepted with a password other than the
 * account's — wins the account, and everything the unverified claimant set up ends with the
 * same batch that sets the owner's password and marks the address verified:
 *
 *  - the password (replaced), TOTP and backup codes, linked social identities;
 *  - API keys the account created, in every tenant it belongs to (revoked);
 *  - every session, in every tenant (in the same batch, as a password reset does).
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
 * The change that strips an unverified claim of its second factors, social identities, API keys
 * and sessions, for the batch that hands the account to the address's owner (`commitChange`):
 * its statements — the session revocations come last, one per tenant, each answering the ended
 * sessions — and its durable effects: the revocations, the revoked keys' cached principals, and
 * the authorization versions the key revocations bumped. Sessions the same batch opens after
 * these statements (the owner's) are not touched.
 */
export function takeOverChange(deps: { db: Database; accessTtl: number }, userId: string, inTenants: TenantRef[], meta: RequestMeta, via: string): { statements: BatchItem<'pg'>[]; effects: Effect[] } {
  const { db } = deps
  const sessions = inTenants.map((t) => sessionRevocation(deps, t, userId, 'account_claimed'))
  return {
    statements: [
      db.delete(userBackupCodes).where(eq(userBackupCodes.userId, userId)),
      db.delete(userMfa).where(eq(userMfa.userId, userId)),
      db.delete(userIdentities).where(eq(userIdentities.userId, userId)),
      userEventInsert(db, userId, meta, 'account.claimed', { via }),
      ...inTenants.map((t) => {
        const k = tenantTables(t.schemaName).apiKeys
        return db.update(k).set({ revokedAt: sql`now()` }).where(and(eq(k.createdBy, userId), isNull(k.revokedAt)))
      }),
      ...sessions.map((r) => r.statement),
    ],
    effects: inTenants.flatMap((t, i) => {
      const k = tenantTables(t.schemaName).apiKeys
      return [
        sessions[i]!.effect,
        apiKeysRevoked(t, sql`select ${k.keyHash} as key_hash from ${k} where ${k.createdBy} = ${userId} and ${k.revokedAt} = now()`),
        authzVersionChanged(t),
      ]
    }),
  }
}

/** The sessions the take-over ended: its last statements' rows (`results` of the batch's statements, the take-over's last). */
export function sessionsEndedBy(results: readonly unknown[], inTenants: readonly TenantRef[]): number {
  return results.slice(results.length - inTenants.length).reduce<number>((n, r) => n + ((r as { rows?: unknown[] }).rows?.length ?? 0), 0)
}

/** After the batch: drop the cached "MFA on" flag (best effort: it only ever asks for more). */
export async function afterTakeOver(c: RequestScope, userId: string): Promise<void> {
  await c.var.redis.del(mfaEnabledKey(userId)).catch((err: unknown) => c.var.logger.warn('mfa flag cache not cleared', { err }))
}
