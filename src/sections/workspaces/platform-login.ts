import { and, asc, eq } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { memberships, tenants, users } from '../../db/public-schema.ts'
import { fail } from '../../errors.ts'
import { requestMeta, userEventInsert } from '../../identity/audit.ts'
import { tenantUrl } from '../../tenancy/hosts.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { recordFailure, recordSuccess, reserveAttempt } from '../../identity/lockout.ts'
import { dummyHash, hashPassword, needsRehash, verifyPassword } from '../../identity/passwords.ts'
import { findUserByEmail, type User } from '../../identity/users.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { issueSelection, SELECTION_TTL_SECONDS } from './selection.ts'

/**
 * The lockout scope of sign-ins on the platform host (src/identity/lockout.ts keys by tenant id):
 * its own counters, with the default policy, so guesses here count as they would on a tenant host.
 */
export const PLATFORM_LOCKOUT_SCOPE = 'platform'

/** Redis trouble must not open or close the door by itself: lockout degrades to "not locked", logged. */
async function safely<T>(c: AppScope, run: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await run()
  } catch (err) {
    c.var.logger.warn('platform lockout unavailable', { err })
    return fallback
  }
}

/** The organizations of the workspace picker: every active tenant the user belongs to, with the role. */
export async function workspacesOf(c: AppScope, userId: string) {
  const rows = await c.var.db
    .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, role: memberships.role })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(and(eq(memberships.userId, userId), eq(tenants.status, 'active')))
    .orderBy(asc(tenants.name), asc(tenants.slug))
  return rows.map((r) => ({ ...r, url: tenantUrl(c, r) }))
}

/**
 * POST /v1/auth/login on the platform host: the password is checked exactly as on a tenant host
 * (the same answer and work for unknown emails, the same lockout policy, the same per-IP
 * throttle), but no tenant session opens here. The answer is the user's organizations and a
 * selection credential: 256 random bits, stored only as a hash for 5 minutes, bound to the user
 * and to the password it was earned with, used once by `POST /v1/auth/select` on the chosen
 * tenant's host, where that tenant's lock, MFA and require_mfa apply as for any sign-in there.
 */
export async function platformPasswordLogin(c: AppScope, email: string, password: string) {
  const redis = c.var.redis
  const policy = effectiveSettings({}).lockout
  // The attempt is reserved in the lockout budget before the hash is computed (src/identity/lockout.ts).
  const budget = await safely(c, () => reserveAttempt(redis, PLATFORM_LOCKOUT_SCOPE, email, policy), null)
  if (budget && !budget.ok) {
    c.header('Retry-After', String(budget.retryAfter))
    throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: budget.retryAfter })
  }

  const user: User | undefined = await findUserByEmail(c.var.db, email)
  const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await dummyHash(c.var.config.PASSWORD_HASH_PROFILE)))
  if (!user?.passwordHash || !passwordOk) {
    const reservation = budget?.reservation
    const lockSeconds = reservation ? await safely(c, () => recordFailure(redis, PLATFORM_LOCKOUT_SCOPE, email, policy, reservation), 0) : 0
    if (user) await userEventInsert(c.var.db, user.id, requestMeta(c), 'login.platform_failed', lockSeconds > 0 ? { locked_seconds: lockSeconds } : {})
    if (lockSeconds > 0) {
      c.header('Retry-After', String(lockSeconds))
      throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: lockSeconds })
    }
    throw fail(IdentityErrors, 'invalid_credentials')
  }

  await safely(c, () => recordSuccess(redis, PLATFORM_LOCKOUT_SCOPE, email), false)
  // Upgrade a hash made with older parameters now that we know the password.
  if (needsRehash(user.passwordHash, c.var.config.PASSWORD_HASH_PROFILE)) await c.var.db.update(users).set({ passwordHash: await hashPassword(password, c.var.config.PASSWORD_HASH_PROFILE) }).where(eq(users.id, user.id))
  const [workspaces, selectionToken] = await Promise.all([
    workspacesOf(c, user.id),
    issueSelection(redis, { userId: user.id, passwordChangedAt: user.passwordChangedAt ?? null }),
  ])
  await userEventInsert(c.var.db, user.id, requestMeta(c), 'login.platform', { workspaces: workspaces.length })
  return { workspaces, selection_token: selectionToken, expires_in: SELECTION_TTL_SECONDS }
}
