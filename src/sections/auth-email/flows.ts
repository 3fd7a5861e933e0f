import { and, eq, isNull, sql } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { users } from '../../db/public-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requestMeta, userEventInsert } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { afterTakeOver, sessionsEndedBy, takeOverChange, tenantsOf } from '../../identity/claims.ts'
import { clearLockout } from '../../identity/lockout.ts'
import { activatedIn, activationChange, isActiveMember, signupAdmits } from '../../identity/memberships.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { hashPassword } from '../../identity/passwords.ts'
import { sessionRevocation } from '../../identity/sessions.ts'
import { findUserByEmail, findUserById, type User } from '../../identity/users.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { completeLogin } from '../../identity/sign-in.ts'
import { checkPasswordPolicy } from '../../identity/passwords.ts'
import { EmailFlowErrors } from './errors.ts'
import { takeLinkToken, type LinkPurpose } from '../../identity/link-tokens.ts'
import { redisCall, sendLink } from '../../identity/link-mail.ts'

type C = AppScope

/** POST /verify-email/request: a verification link to the signed-in user's own address. */
export async function requestEmailVerification(c: C, tenant: Tenant, userId: string): Promise<void> {
  const user = await findUserById(c.var.db, userId)
  if (!user) throw commonError('invalid_token')
  if (user.emailVerifiedAt) throw fail(EmailFlowErrors, 'email_already_verified')
  if (!(await sendLink(c, tenant, 'verify_email', user))) throw commonError('rate_limited', 'Too many emails to this address; try again in an hour.')
}

/**
 * POST /password/forgot and /magic-link: mail a link when the address belongs to an active
 * member of this tenant; otherwise do nothing. The caller answers before this runs, so neither
 * the answer nor its timing says which case it was. A reset link also goes to an account whose
 * address is not verified, member or not: its owner may contest the claim (src/identity/claims.ts).
 */
export async function mailLinkIfMember(c: C, tenant: Tenant, purpose: 'password_reset' | 'magic_link', email: string): Promise<void> {
  const user = await findUserByEmail(c.var.db, email)
  if (!user) return
  const member = await isActiveMember(c.var.db, tenant, user.id)
  const claim = !member && purpose === 'password_reset' && !user.emailVerifiedAt
  if (!member && !claim) return
  if (!(await sendLink(c, tenant, purpose, user, { claim }))) c.var.logger.info('link mail dropped: hourly limit for the address', { tenant: tenant.id, purpose })
}

/**
 * The account a link was sent for, if the link is unused, unexpired, for this purpose and
 * tenant, and still describes the account (same email; for resets, no password change since).
 */
async function redeem(c: C, tenant: Tenant, purpose: LinkPurpose, token: string, options: { member: boolean }): Promise<User> {
  const grant = await redisCall(c, 'read', () => takeLinkToken(c.var.redis, purpose, tenant.id, token))
  if (!grant) throw fail(EmailFlowErrors, 'invalid_link')
  const user = await findUserById(c.var.db, grant.userId)
  // A claim link needs no membership, only an address still unverified (else it is an ordinary reset).
  const claimStands = grant.claim === true && user !== undefined && !user.emailVerifiedAt
  const valid =
    user !== undefined &&
    user.email === grant.email &&
    (purpose !== 'password_reset' || (user.passwordChangedAt ?? null) === (grant.passwordChangedAt ?? null)) &&
    (!options.member || claimStands || (await isActiveMember(c.var.db, tenant, user.id)))
  if (!valid) throw fail(EmailFlowErrors, 'invalid_link')
  return user!
}

/** Statements that mark the address verified (only if it still is the account's address), with the user's event. */
function verifiedStatements(c: C, tenant: Tenant, user: User, via: string) {
  const db = c.var.db
  return [
    db.update(users)
      .set({ emailVerifiedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(users.id, user.id), eq(users.email, user.email), isNull(users.emailVerifiedAt))),
    userEventInsert(db, user.id, requestMeta(c), 'email.verified', { via, tenant: tenant.id }),
  ] as const
}

/**
 * POST /verify-email/confirm. The proof also activates the account's pending membership of this
 * tenant (a domain sign-up), in the same batch, with its member.joined — if the sign-up policy
 * still admits the address.
 */
export async function confirmEmailVerification(c: C, tenant: Tenant, token: string) {
  const user = await redeem(c, tenant, 'verify_email', token, { member: false })
  const activation = signupAdmits(tenant, user.email) ? activationChange(c.var.db, tenant, user, requestMeta(c), 'verification_link') : undefined
  const verified = user.emailVerifiedAt ? [] : verifiedStatements(c, tenant, user, 'verification_link')
  if (verified.length === 0 && !activation) return { email_verified: true as const, membership_activated: false }
  const { results } = await commitChange(changeDeps(c), activation ? { ...activation, statements: [...verified, ...activation.statements] } : { tenant, statements: verified })
  const activated = activation !== undefined && activatedIn(results, verified.length)
  return { email_verified: true as const, membership_activated: activated }
}

/**
 * POST /password/reset. The policy is checked before the link is used, so a refused password
 * leaves the link working. The new hash, the user's event and the tenant's audit entry are one
 * batch; then every session of the user ends, in every tenant, and the lockout counters clear.
 * On an account whose address was not verified the link wins the account for the address's
 * owner: the same batch also ends the claimant's second factors, social identities and API keys
 * (src/identity/claims.ts).
 */
export async function resetPassword(c: C, tenant: Tenant, token: string, password: string) {
  checkPasswordPolicy(password, effectiveSettings(tenant.settings).passwordMinLength)
  const user = await redeem(c, tenant, 'password_reset', token, { member: true })
  const db = c.var.db
  const meta = requestMeta(c)
  const passwordHash = await hashPassword(password, c.var.config.PASSWORD_HASH_PROFILE)
  const claimed = !user.emailVerifiedAt
  const memberOf = await tenantsOf(db, user.id)
  const isMember = memberOf.some((t) => t.id === tenant.id)
  // The password is global, so every session of the account ends, in every tenant it belongs to, in the
  // same batch (a claim's take-over ends them with the claim's other clean-up).
  const deps = await sessionDeps(c, tenant)
  const takeOver = claimed ? takeOverChange(deps, user.id, memberOf, meta, 'password_reset') : undefined
  const revocations = claimed ? [] : memberOf.map((t) => sessionRevocation(deps, t, user.id, 'password_reset'))
  const { results } = await commitChange(changeDeps(c), {
    tenant,
    meta,
    statements: [
      // Following the link also proves the mailbox, as a magic link does.
      db.update(users)
        .set({
          passwordHash,
          passwordChangedAt: sql`now()`,
          emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`,
          updatedAt: sql`now()`,
        })
        .where(eq(users.id, user.id)),
      userEventInsert(db, user.id, meta, 'password.changed', { via: 'password_reset', tenant: tenant.id }),
      ...revocations.map((r) => r.statement),
      ...(takeOver?.statements ?? []),
    ],
    // A claim link may reach someone who is no member here: this tenant's log is for its members.
    audit: isMember ? { action: 'user.password_reset', actorId: user.id, targetType: 'user', targetId: user.id, details: claimed ? { account_claimed: true } : {} } : undefined,
    events: isMember ? [{ type: 'user.password_changed', data: { user_id: user.id, via: 'password_reset', other_sessions_ended: true }, actor: { type: 'user', id: user.id } }] : [],
    effects: [...revocations.map((r) => r.effect), ...(takeOver?.effects ?? [])],
  })
  if (claimed) await afterTakeOver(c, user.id)
  const revoked = claimed ? sessionsEndedBy(results, memberOf) : sessionsEndedBy(results.slice(0, 2 + revocations.length), memberOf)
  try {
    await clearLockout(c.var.redis, tenant.id, user.email)
  } catch (err) {
    c.var.logger.warn('lockout reset unavailable after password reset', { err })
  }
  return { password_changed: true as const, sessions_revoked: revoked }
}

/** POST /magic-link/verify: the link proves the mailbox, so it verifies the email, then signs in (or asks for the second factor). */
export async function signInWithMagicLink(c: C, tenant: Tenant, token: string) {
  const user = await redeem(c, tenant, 'magic_link', token, { member: true })
  if (!user.emailVerifiedAt) await c.var.db.batch(verifiedStatements(c, tenant, user, 'magic_link'))
  return completeLogin(c, tenant, user, { action: 'user.login_magic_link' })
}
