import { and, asc, eq, sql } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { isPgError } from '../../db/pg-errors.ts'
import { userIdentities, users } from '../../db/public-schema.ts'
import { fail } from '../../errors.ts'
import { auditInsert, requestMeta, userEventInsert } from '../../identity/audit.ts'
import type { Database } from '../../platform/database.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { OAuthErrors } from './errors.ts'
import { isProviderId, type ProviderId } from './schemas.ts'

/** The social accounts linked to a user, oldest first. */
export async function listIdentities(db: Database, userId: string) {
  const rows = await db
    .select({ provider: userIdentities.provider, email: userIdentities.email, createdAt: userIdentities.createdAt })
    .from(userIdentities)
    .where(eq(userIdentities.userId, userId))
    .orderBy(asc(userIdentities.createdAt), asc(userIdentities.provider))
  return rows
    .filter((r): r is typeof r & { provider: ProviderId } => isProviderId(r.provider))
    .map((r) => ({ provider: r.provider, email: r.email, created_at: new Date(r.createdAt).toISOString() }))
}

const DIVISION_BY_ZERO = '22012'

/**
 * Unlink one provider, unless it is the user's last way to sign in (no password, no other
 * identity). One batch: the user row is locked first, so two unlinks of the same user run one
 * after the other; the delete and the check are one statement, which divides by zero — aborting
 * the batch, audit included — when nothing was deleted or nothing would remain.
 */
export async function unlinkIdentity(c: AppScope, tenant: Tenant, userId: string, provider: ProviderId) {
  const db = c.var.db
  const meta = requestMeta(c)
  try {
    await db.batch([
      db.execute(sql`select ${users.id} from ${users} where ${users.id} = ${userId} for update`),
      db.execute(sql`
        with gone as (
          delete from ${userIdentities} where ${userIdentities.userId} = ${userId} and ${userIdentities.provider} = ${provider} returning 1
        )
        select 1 / (
          (select count(*) from gone) *
          ((select count(*) from ${users} where ${users.id} = ${userId} and ${users.passwordHash} is not null) +
           (select count(*) from ${userIdentities} where ${userIdentities.userId} = ${userId} and ${userIdentities.provider} <> ${provider}))
        ) as ok`),
      auditInsert(db, tenant.schemaName, meta, { action: 'user.identity_unlinked', actorId: userId, targetType: 'user', targetId: userId, details: { provider } }),
      userEventInsert(db, userId, meta, 'identity.unlinked', { provider, tenant: tenant.id }),
    ])
  } catch (err) {
    if (!isPgError(err, DIVISION_BY_ZERO)) throw err
    const still = await db.select({ id: userIdentities.id }).from(userIdentities).where(and(eq(userIdentities.userId, userId), eq(userIdentities.provider, provider))).limit(1)
    throw fail(OAuthErrors, still.length ? 'last_sign_in_method' : 'identity_not_found')
  }
}
