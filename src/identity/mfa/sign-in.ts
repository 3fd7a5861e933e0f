import { fail } from '../../errors.ts'
import { auditInsert, requestMeta } from '../audit.ts'
import { sessionDeps } from '../context.ts'
import { IdentityErrors } from '../errors.ts'
import { lockoutSafely, recordFailure, recordSuccess, reserveAttempt } from '../lockout.ts'
import { isActiveMember } from '../memberships.ts'
import { startSession, type TokenResponse } from '../sessions.ts'
import { findUserById } from '../users.ts'
import type { RequestScope } from '../../platform/request-scope.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { lockStatements, loginEvent } from '../sign-in.ts'
import { countAttempt, endChallenge, findChallenge, MFA_MAX_ATTEMPTS } from './challenge.ts'
import { MfaErrors } from './errors.ts'
import { spendSecondFactor } from './factors.ts'
import { mfaStore } from './store.ts'

/**
 * The second step of a sign-in that answered `{mfa_required, mfa_token}`. The challenge is
 * bound to the tenant that issued it, counts every attempt atomically (the fifth wrong code
 * destroys it), and is consumed by the one request that succeeds. Wrong codes also count
 * towards the account's lockout in this tenant, as wrong passwords do: whoever holds the
 * password cannot get unlimited guesses by signing in again for a fresh challenge.
 */
export async function completeMfaSignIn(c: RequestScope, tenant: Tenant, token: string, code: string): Promise<TokenResponse> {
  const { db, redis } = c.var
  const meta = requestMeta(c)
  const challenge = await findChallenge(redis, token)
  // Another tenant's challenge is answered exactly like an unknown one, and left untouched.
  if (!challenge || challenge.tenantId !== tenant.id) throw fail(MfaErrors, 'invalid_mfa_token')
  const attempt = await countAttempt(redis, challenge)
  if (attempt === null) throw fail(MfaErrors, 'invalid_mfa_token')

  const userId = challenge.userId
  const [user, row] = await Promise.all([findUserById(db, userId), mfaStore(db).find(userId)])
  if (!user || !row?.enabledAt) {
    // The account is gone or MFA was turned off since the password step: that sign-in is void.
    await endChallenge(redis, challenge)
    throw fail(MfaErrors, 'invalid_mfa_token')
  }
  const policy = effectiveSettings(tenant.settings).lockout
  // The code is checked only inside the account's attempt budget, as a password is.
  const budget = await lockoutSafely(c.var.logger, 'reserve', () => reserveAttempt(redis, tenant.id, user.email, policy), null)
  if (budget && !budget.ok) {
    c.header('Retry-After', String(budget.retryAfter))
    throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: budget.retryAfter })
  }

  const spent = await spendSecondFactor(c, userId, row, code)
  if (!spent.ok) {
    const reservation = budget?.reservation
    const lockSeconds = reservation ? await lockoutSafely(c.var.logger, 'count', () => recordFailure(redis, tenant.id, user.email, policy, reservation), 0) : 0
    const exhausted = attempt >= MFA_MAX_ATTEMPTS
    // A locked account's challenge goes too: the lock would refuse its next attempts anyway.
    if (exhausted || lockSeconds > 0) await endChallenge(redis, challenge)
    const failed = auditInsert(db, tenant.schemaName, meta, {
      action: 'mfa.failed', actorId: userId, targetType: 'user', targetId: userId, outcome: 'failure',
      details: { stage: 'sign_in', reason: spent.reason, attempt, challenge_destroyed: exhausted || lockSeconds > 0 },
    })
    // The wrong code that locks the account is recorded like a wrong password's: user.locked, with its event.
    await commitChange(changeDeps(c), { tenant, statements: [failed, ...(lockSeconds > 0 ? lockStatements(c, tenant, user, lockSeconds) : [])] })
    if (lockSeconds > 0) c.header('Retry-After', String(lockSeconds))
    if (exhausted) throw fail(MfaErrors, 'mfa_attempts_exceeded', undefined, lockSeconds > 0 ? { retry_after: lockSeconds } : undefined)
    if (lockSeconds > 0) throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: lockSeconds })
    throw fail(MfaErrors, 'invalid_mfa_code', undefined, { attempts_left: MFA_MAX_ATTEMPTS - attempt })
  }

  // Single use: of two requests with valid codes, only the one that removes the challenge signs in.
  if (!(await endChallenge(redis, challenge))) throw fail(MfaErrors, 'invalid_mfa_token')
  if (!(await isActiveMember(db, tenant, userId))) throw fail(IdentityErrors, 'not_a_member')
  // Both factors are proven: the attempt window starts afresh, as after a password sign-in.
  await lockoutSafely(c.var.logger, 'reset', () => recordSuccess(redis, tenant.id, user.email), false)

  const method = spent.method
  const events = [auditInsert(db, tenant.schemaName, meta, { action: 'mfa.verified', actorId: userId, targetType: 'user', targetId: userId, details: { method } })]
  if (spent.method === 'backup_code') {
    events.push(auditInsert(db, tenant.schemaName, meta, { action: 'backup_code.used', actorId: userId, targetType: 'user', targetId: userId, details: { remaining: spent.remaining } }))
  }
  // The factor's entries commit with the session they open.
  const { tokens } = await startSession(await sessionDeps(c, tenant), tenant, userId, meta, { mfa: true, expiresAt: challenge.sessionExpiresAt, events: loginEvent(userId, true), also: events })
  return tokens
}
