import { and, asc, eq, sql } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { uuidv7 } from '../../db/ids.ts'
import { isPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.ts'
import { userIdentities, users } from '../../db/public-schema.ts'
import { fail } from '../../errors.ts'
import { requestMeta, userEventInsert } from '../../identity/audit.ts'
import type { Database } from '../../platform/database.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { findUserById } from '../../identity/users.ts'
import { OAuthErrors } from './errors.ts'
import type { ProviderProfile } from './profile.ts'
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
    await commitChange(changeDeps(c), {
      tenant,
      meta,
      guards: [db.execute(sql`select ${users.id} from ${users} where ${users.id} = ${userId} for update`)],
      statements: [
        db.execute(sql`
        with gone as (
          delete from ${userIdentities} where ${userIdentities.userId} = ${userId} and ${userIdentities.provider} = ${provider} returning 1
        )
        select 1 / (
          (select count(*) from gone) *
          ((select count(*) from ${users} where ${users.id} = ${userId} and ${users.passwordHash} is not null) +
           (select count(*) from ${userIdentities} where ${userIdentities.userId} = ${userId} and ${userIdentities.provider} <> ${provider}))
        ) as ok`),
        userEventInsert(db, userId, meta, 'identity.unlinked', { provider, tenant: tenant.id }),
      ],
      audit: { action: 'user.identity_unlinked', actorId: userId, targetType: 'user', targetId: userId, details: { provider } },
    })
  } catch (err) {
    if (!isPgError(err, DIVISION_BY_ZERO)) throw err
    const still = await db.select({ id: userIdentities.id }).from(userIdentities).where(and(eq(userIdentities.userId, userId), eq(userIdentities.provider, provider))).limit(1)
    throw fail(OAuthErrors, still.length ? 'last_sign_in_method' : 'identity_not_found')
  }
}

/**
 * The callback of a link started by a signed-in user (POST /v1/me/identities/:provider): the
 * provider account joins theirs. No email match is needed — the user proved both accounts in
 * this browser (the session that started it, and the provider's consent; the flow is bound to
 * the browser, so another person's callback cannot link an account of theirs to this one).
 * Refused when the provider account is already someone else's (409 identity_in_use) or the
 * user already has one of this provider (409 provider_already_linked). Linking the same one
 * again changes nothing. Audited like the automatic link of a sign-in.
 */
export async function linkIdentity(c: AppScope, tenant: Tenant, userId: string, provider: ProviderId, profile: ProviderProfile) {
  const db = c.var.db
  const meta = requestMeta(c)
  const [owner] = await db
    .select({ userId: userIdentities.userId })
    .from(userIdentities)
    .where(and(eq(userIdentities.provider, provider), eq(userIdentities.providerUserId, profile.providerUserId)))
    .limit(1)
  if (owner && owner.userId !== userId) throw fail(OAuthErrors, 'identity_in_use')
  if (owner) return { linked: provider }
  if (!(await findUserById(db, userId))) throw fail(OAuthErrors, 'invalid_state')
  try {
    await commitChange(changeDeps(c), {
      tenant,
      meta,
      statements: [
        db.insert(userIdentities).values({ id: uuidv7(), userId, provider, providerUserId: profile.providerUserId, email: profile.email }),
        userEventInsert(db, userId, meta, 'identity.linked', { provider, tenant: tenant.id, via: 'account' }),
      ],
      audit: { action: 'user.identity_linked', actorId: userId, targetType: 'user', targetId: userId, details: { provider, via: 'account' } },
    })
  } catch (err) {
    if (isPgError(err, UNIQUE_VIOLATION, 'user_identities_user_provider_unique')) throw fail(OAuthErrors, 'provider_already_linked')
    if (isPgError(err, UNIQUE_VIOLATION)) throw fail(OAuthErrors, 'identity_in_use')
    throw err
  }
  return { linked: provider }
}
