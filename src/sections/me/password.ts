import { eq, sql } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { users } from '../../db/public-schema.ts'
import { isPgError } from '../../db/pg-errors.ts'
import { commonError, fail } from '../../errors.ts'
import { auditInsert, requestMeta, userEventInsert } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { lockoutSafely, recordFailure, reserveAttempt } from '../../identity/lockout.ts'
import { hashPassword, verifyPassword } from '../../identity/passwords.ts'
import { sessionRevocation } from '../../identity/sessions.ts'
import { tenantsOf } from '../../identity/claims.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { findUserById } from '../../identity/users.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { lockStatements } from '../../identity/sign-in.ts'
import { checkPasswordPolicy } from '../../identity/passwords.ts'

const DIVISION_BY_ZERO = '22012'

export interface PasswordChange {
  current_password: string
  new_password: string
  end_other_sessions: boolean
}

/**
 * POST /v1/me/password. A stolen access token must not be enough to take the account over, so the
 * current password is required, and wrong guesses count towards the account's lockout in this
 * tenant exactly as wrong sign-in passwords do (and are throttled per IP like them).
 *
 * One batch: a guard that aborts it if the password changed since it was read (a concurrent change
 * or reset wins, this one answers 409), the new hash with `password_changed_at` (which voids
 * every reset link sent before), the user's event, the tenant's audit entry and the
 * `user.password_changed` webhook event. Then, by default, every other session of the account
 * ends, in every tenant: the password is global.
 */
export async function changePassword(c: AppScope, tenant: Tenant, userId: string, sessionId: string | undefined, input: PasswordChange) {
  const { db, redis } = c.var
  const meta = requestMeta(c)
  const user = await findUserById(db, userId)
  if (!user) throw fail(IdentityErrors, 'not_a_member')
  if (!user.passwordHash) throw fail(IdentityErrors, 'no_password')

  const settings = effectiveSettings(tenant.settings)
  // The attempt is reserved in the lockout budget before the hash is computed (src/identity/lockout.ts).
  const budget = await lockoutSafely(c.var.logger, 'reserve', () => reserveAttempt(redis, tenant.id, user.email, settings.lockout), null)
  if (budget && !budget.ok) {
    c.header('Retry-After', String(budget.retryAfter))
    throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: budget.retryAfter })
  }
  if (!(await verifyPassword(input.current_password, user.passwordHash))) {
    const reservation = budget?.reservation
    const lockSeconds = reservation ? await lockoutSafely(c.var.logger, 'count', () => recordFailure(redis, tenant.id, user.email, settings.lockout, reservation), 0) : 0
    const failed = auditInsert(db, tenant.schemaName, meta, { action: 'user.password_change', actorId: userId, targetType: 'user', targetId: userId, outcome: 'failure', details: { reason: 'invalid_current_password' } })
    await commitChange(changeDeps(c), { tenant, statements: [failed, ...(lockSeconds > 0 ? lockStatements(c, tenant, user, lockSeconds) : [])] })
    if (lockSeconds > 0) {
      c.header('Retry-After', String(lockSeconds))
      throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: lockSeconds })
    }
    throw fail(IdentityErrors, 'invalid_current_password', undefined, { field: 'current_password' })
  }
  checkPasswordPolicy(input.new_password, settings.passwordMinLength)

  const passwordHash = await hashPassword(input.new_password, c.var.config.PASSWORD_HASH_PROFILE)
  // The password is global: ending the other sessions concerns every tenant of the account, in the same batch.
  const deps = await sessionDeps(c, tenant)
  const revocations = input.end_other_sessions
    ? (await tenantsOf(db, userId)).map((t) => sessionRevocation(deps, t, userId, 'password_changed', { except: t.id === tenant.id ? sessionId : undefined }))
    : []
  let results: unknown[]
  try {
    const committed = await commitChange(changeDeps(c), {
      tenant,
      meta,
      // Aborts the batch (division by zero) if the password changed since it was verified.
      guards: [db.execute(sql`select 1 / (select count(*) from ${users} where ${users.id} = ${userId} and ${users.passwordHash} = ${user.passwordHash})::int`)],
      statements: [
        db.update(users)
          .set({ passwordHash, passwordChangedAt: sql`now()`, updatedAt: sql`now()` })
          .where(eq(users.id, userId)),
        userEventInsert(db, userId, meta, 'password.changed', { via: 'change', tenant: tenant.id, other_sessions_ended: input.end_other_sessions }),
        ...revocations.map((r) => r.statement),
      ],
      audit: { action: 'user.password_changed', actorId: userId, targetType: 'user', targetId: userId, details: { other_sessions_ended: input.end_other_sessions } },
      events: [{ type: 'user.password_changed', data: { user_id: userId, via: 'change', other_sessions_ended: input.end_other_sessions }, actor: { type: 'user', id: userId } }],
      effects: revocations.map((r) => r.effect),
    })
    results = committed.results
  } catch (err) {
    if (isPgError(err, DIVISION_BY_ZERO)) throw commonError('conflict', 'The password was changed meanwhile: sign in again with the new one.')
    throw err
  }
  const revoked = results.slice(2).flatMap((r) => (r as { rows: unknown[] }).rows)
  return { password_changed: true as const, sessions_revoked: revoked.length }
}
