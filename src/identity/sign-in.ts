import { eq, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { changeDeps, commitChange } from '../changes/commit.ts'
import { userMfa, users } from '../db/public-schema.ts'
import { tenantTables } from '../db/tenant-schema.ts'
import { fail } from '../errors.ts'
import type { RequestScope } from '../platform/request-scope.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { effectiveSettings } from '../tenancy/settings.ts'
import { eventStatements, type WebhookEvent, type WebhookEventType } from '../webhooks/outbox.ts'
import { auditInsert, requestMeta } from './audit.ts'
import { sessionDeps } from './context.ts'
import { IdentityErrors } from './errors.ts'
import { mailVerificationLink } from './link-mail.ts'
import { lockoutSafely, recordFailure, recordSuccess, reserveAttempt } from './lockout.ts'
import { activatedIn, activationChange, signupAdmits } from './memberships.ts'
import { createMfaChallenge } from './mfa/challenge.ts'
import { hasTotpEnabled } from './mfa/status.ts'
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.ts'
import { startSession } from './sessions.ts'
import { normaliseEmail, type User } from './users.ts'

/**
 * Signing in to a tenant, whatever the first factor (password, social provider, magic link,
 * workspace picker): what follows a proven first factor (`completeLogin`), a pending
 * membership (`signInWhilePending`), the password sign-in itself, and the lockout's audit
 * entries and events. The second factor is in ./mfa/sign-in.ts.
 */

/**
 * The account of `email`, its membership status here and whether it has TOTP on: ONE SQL request
 * (the sign-in reads them all whatever the outcome, so the work does not depend on the answer).
 */
async function signInCandidate(c: RequestScope, tenant: Tenant, email: string): Promise<{ user?: User; status?: string; totp: boolean }> {
  const t = tenantTables(tenant.schemaName)
  const rows = await c.var.db
    .select({
      user: users,
      status: t.members.status,
      totp: sql<boolean>`exists (select 1 from ${userMfa} where ${userMfa.userId} = ${users.id} and ${userMfa.enabledAt} is not null)`,
    })
    .from(users)
    .leftJoin(t.members, eq(t.members.userId, users.id))
    .where(eq(users.email, normaliseEmail(email)))
    .limit(1)
  const row = rows[0]
  return row ? { user: row.user, status: row.status ?? undefined, totp: Boolean(row.totp) } : { totp: false }
}

/**
 * The first factor of an account whose membership here is pending (a domain sign-up, address not
 * verified) was right. If the address has been verified since (in another tenant, say) and the
 * sign-up policy still admits it, the membership becomes active now, durably and with its
 * member.joined, and the sign-in goes on; otherwise nothing but the proof can follow: a fresh
 * verification link goes out and the answer is 403 email_verification_required.
 */
export async function signInWhilePending(c: RequestScope, tenant: Tenant, user: User, options: { action?: string } = {}) {
  if (user.emailVerifiedAt && signupAdmits(tenant, user.email)) {
    const { results } = await commitChange(changeDeps(c), activationChange(c.var.db, tenant, user, requestMeta(c), 'verified_address'))
    if (activatedIn(results, 0)) return completeLogin(c, tenant, user, options)
    throw fail(IdentityErrors, 'not_a_member')
  }
  const sent = await mailVerificationLink(c, tenant, user)
  throw fail(IdentityErrors, 'email_verification_required', undefined, { verification_sent: sent })
}

/**
 * Password login on a tenant host. Every failure — unknown email, wrong password, not a
 * member — gives the same answer after the same work (a dummy hash is verified when there is
 * no account), and while an account is locked the answer does not depend on the password.
 * The attempt is reserved in the lockout budget before the hash is computed, so concurrent
 * guesses cannot get more passwords evaluated than the budget allows (src/identity/lockout.ts).
 */
export async function passwordLogin(c: RequestScope, tenant: Tenant, email: string, password: string) {
  const meta = requestMeta(c)
  const policy = effectiveSettings(tenant.settings).lockout
  const redis = c.var.redis

  // Independent: the attempt's reservation (Redis) and the account's rows (SQL), at the same time.
  const [budget, candidate] = await Promise.all([
    lockoutSafely(c.var.logger, 'reserve', () => reserveAttempt(redis, tenant.id, email, policy), null),
    signInCandidate(c, tenant, email),
  ])
  if (budget && !budget.ok) {
    c.header('Retry-After', String(budget.retryAfter))
    throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: budget.retryAfter })
  }

  const user = candidate.user
  const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await dummyHash(c.var.config.PASSWORD_HASH_PROFILE)))
  const status = user?.passwordHash && passwordOk ? candidate.status : undefined
  const ok = status === 'active'

  if (status === 'pending') {
    await lockoutSafely(c.var.logger, 'reset', () => recordSuccess(redis, tenant.id, email), false)
    return signInWhilePending(c, tenant, user!)
  }
  if (!ok) {
    const reservation = budget?.reservation
    const lockSeconds = reservation ? await lockoutSafely(c.var.logger, 'count', () => recordFailure(redis, tenant.id, email, policy, reservation), 0) : 0
    const failed = auditInsert(c.var.db, tenant.schemaName, meta, { action: 'user.login', actorType: user ? 'user' : 'anonymous', actorId: user?.id ?? null, outcome: 'failure', details: { reason: 'invalid_credentials' } })
    const lock = lockSeconds > 0 ? lockStatements(c, tenant, user ?? null, lockSeconds) : []
    await commitChange(changeDeps(c), { tenant, statements: [failed, ...lock] })
    if (lockSeconds > 0) {
      c.header('Retry-After', String(lockSeconds))
      throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: lockSeconds })
    }
    throw fail(IdentityErrors, 'invalid_credentials')
  }

  // After the hash, the window's reset (Redis) and the session's batch (SQL) at the same time; the
  // unlock's audit entry and a hash upgrade (older parameters) join the session's batch.
  const alsoInBatch: BatchItem<'pg'>[] = []
  if (budget?.reservation.lockedRecently) alsoInBatch.push(auditInsert(c.var.db, tenant.schemaName, meta, { action: 'user.unlocked', actorType: 'system', targetType: 'user', targetId: user!.id }))
  if (needsRehash(user!.passwordHash!, c.var.config.PASSWORD_HASH_PROFILE)) {
    alsoInBatch.push(c.var.db.update(users).set({ passwordHash: await hashPassword(password, c.var.config.PASSWORD_HASH_PROFILE) }).where(eq(users.id, user!.id)))
  }
  const [, signedIn] = await Promise.all([
    lockoutSafely(c.var.logger, 'reset', () => recordSuccess(redis, tenant.id, email), false),
    completeLogin(c, tenant, user!, { totp: candidate.totp, alsoInBatch }),
  ])
  return signedIn
}

/**
 * The audit entry and `user.locked` event of an account lockout in this tenant, for the batch
 * that records the failure that caused it (a wrong password, or a wrong MFA code). Only a
 * member's lock is the tenant's business: checked inside the batch, so the answer takes the
 * same time either way.
 */
export function lockStatements(c: RequestScope, tenant: Tenant, user: Pick<User, 'id' | 'email'> | null, lockSeconds: number): BatchItem<'pg'>[] {
  const audit = auditInsert(c.var.db, tenant.schemaName, requestMeta(c), { action: 'user.locked', actorType: 'system', targetType: 'user', targetId: user?.id ?? null, details: { seconds: lockSeconds } })
  if (!user) return [audit]
  return [
    audit,
    ...eventStatements(c.var.db, tenant, {
      type: 'user.locked',
      data: { user_id: user.id, email: user.email, lock_seconds: lockSeconds },
      actor: { type: 'system', id: null },
      when: sql`exists (select 1 from ${tenantTables(tenant.schemaName).members} where user_id = ${user.id})`,
    }),
  ]
}

/** The `user.login` event of a new session, for `startSession`'s `events` (same batch as the session). */
export function loginEvent(userId: string, mfa: boolean) {
  return (sessionId: string): WebhookEvent<WebhookEventType>[] => [{ type: 'user.login', data: { user_id: userId, session_id: sessionId, mfa }, actor: { type: 'user', id: userId } }]
}

/**
 * After the first factor (password or social sign-in): a second-factor challenge when MFA is on,
 * else a new session. `totp` when the caller already knows it (read with the account);
 * `alsoInBatch`: statements for the session's batch (or a batch of their own before a challenge).
 */
export async function completeLogin(c: RequestScope, tenant: Tenant, user: Pick<User, 'id'>, options: { action?: string; totp?: boolean; alsoInBatch?: BatchItem<'pg'>[] } = {}) {
  const also = options.alsoInBatch ?? []
  if (options.totp ?? (await hasTotpEnabled(c.var.db, user.id))) {
    if (also.length) await commitChange(changeDeps(c), { tenant, statements: also })
    return { mfa_required: true as const, mfa_token: await createMfaChallenge(c.var.redis, { userId: user.id, tenantId: tenant.id }) }
  }
  const { tokens } = await startSession(await sessionDeps(c, tenant), tenant, user.id, requestMeta(c), { action: options.action, events: loginEvent(user.id, false), also })
  return tokens
}
