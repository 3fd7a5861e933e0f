import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { users } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { AppError, commonError, fail } from '../../errors.ts'
import { auditInsert, requestMeta, userEventInsert } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { clearLockout } from '../../identity/lockout.ts'
import { hashPassword } from '../../identity/passwords.ts'
import { revokeSessionsEverywhere } from '../../identity/sessions.ts'
import { findUserByEmail, findUserById, type User } from '../../identity/users.ts'
import { mailSender } from '../../platform/mail/index.ts'
import { appLink } from '../../tenancy/app-links.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import type { Database } from '../../platform/database.ts'
import { deliverAfterResponse } from '../../webhooks/deliver.ts'
import { eventStatements } from '../../webhooks/outbox.ts'
import { completeLogin } from '../auth/login.ts'
import { checkPasswordPolicy } from '../auth/register.ts'
import { EmailFlowErrors } from './errors.ts'
import { issueLinkToken, linkTtlSeconds, takeLinkToken, takeMailQuota, type LinkGrant, type LinkPurpose } from './link-tokens.ts'
import { linkMail } from './templates.ts'
import { dependencyFailure } from '../../platform/dependency-errors.ts'

type C = Context<AppEnv>

/** Without Redis there are no links: refuse plainly rather than answer "invalid link". */
async function redisCall<T>(c: C, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    c.var.logger.error(`email link ${what} failed`, { err })
    throw dependencyFailure(err) ?? commonError('service_unavailable')
  }
}

async function isActiveMember(c: C, tenant: Tenant, userId: string): Promise<boolean> {
  const t = tenantTables(tenant.schemaName)
  const rows = await c.var.db.select({ status: t.members.status }).from(t.members).where(eq(t.members.userId, userId)).limit(1)
  return rows[0]?.status === 'active'
}

/**
 * Mail `user` a fresh single-use link for `purpose`. Answers false, sending nothing, once the
 * address has had its hourly share of mail in this tenant.
 */
async function sendLink(c: C, tenant: Tenant, purpose: LinkPurpose, user: User): Promise<boolean> {
  const { config, redis } = c.var
  if (!(await redisCall(c, 'quota', () => takeMailQuota(redis, tenant.id, user.email)))) return false
  const ttlSeconds = linkTtlSeconds(config, purpose)
  const grant: LinkGrant = { purpose, tenantId: tenant.id, userId: user.id, email: user.email }
  if (purpose === 'password_reset') grant.passwordChangedAt = user.passwordChangedAt
  const token = await redisCall(c, 'write', () => issueLinkToken(redis, grant, ttlSeconds))
  const link = appLink(c, tenant, purpose, token)
  try {
    await mailSender(config, redis).send(linkMail(purpose, { to: user.email, organization: tenant.name, link, ttlSeconds }))
  } catch (err) {
    throw new AppError(EmailFlowErrors.mail_unavailable[0], 'mail_unavailable', EmailFlowErrors.mail_unavailable[1], undefined, { cause: err })
  }
  return true
}

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
 * the answer nor its timing says which case it was.
 */
export async function mailLinkIfMember(c: C, tenant: Tenant, purpose: 'password_reset' | 'magic_link', email: string): Promise<void> {
  const user = await findUserByEmail(c.var.db, email)
  if (!user || !(await isActiveMember(c, tenant, user.id))) return
  if (!(await sendLink(c, tenant, purpose, user))) c.var.logger.info('link mail dropped: hourly limit for the address', { tenant: tenant.id, purpose })
}

/**
 * The account a link was sent for, if the link is unused, unexpired, for this purpose and
 * tenant, and still describes the account (same email; for resets, no password change since).
 */
async function redeem(c: C, tenant: Tenant, purpose: LinkPurpose, token: string, options: { member: boolean }): Promise<User> {
  const grant = await redisCall(c, 'read', () => takeLinkToken(c.var.redis, purpose, tenant.id, token))
  if (!grant) throw fail(EmailFlowErrors, 'invalid_link')
  const user = await findUserById(c.var.db, grant.userId)
  const valid =
    user !== undefined &&
    user.email === grant.email &&
    (purpose !== 'password_reset' || (user.passwordChangedAt ?? null) === (grant.passwordChangedAt ?? null)) &&
    (!options.member || (await isActiveMember(c, tenant, user.id)))
  if (!valid) throw fail(EmailFlowErrors, 'invalid_link')
  return user!
}

/** Statements that mark the address verified (only if it still is the account's address), with the user's event. */
function verifiedStatements(c: C, tenant: Tenant, user: User, via: string) {
  const db = c.var.db
  return [
    db.update(users)
      .set({ emailVerifiedAt: sql`now()` as unknown as string, updatedAt: sql`now()` as unknown as string })
      .where(and(eq(users.id, user.id), eq(users.email, user.email), isNull(users.emailVerifiedAt))),
    userEventInsert(db, user.id, requestMeta(c), 'email.verified', { via, tenant: tenant.id }),
  ] as const
}

/** POST /verify-email/confirm. */
export async function confirmEmailVerification(c: C, tenant: Tenant, token: string) {
  const user = await redeem(c, tenant, 'verify_email', token, { member: false })
  if (!user.emailVerifiedAt) await c.var.db.batch(verifiedStatements(c, tenant, user, 'verification_link'))
  return { email_verified: true as const }
}

/**
 * POST /password/reset. The policy is checked before the link is used, so a refused password
 * leaves the link working. The new hash, the user's event and the tenant's audit entry are one
 * batch; then every session of the user in this tenant ends and the lockout counters clear.
 */
export async function resetPassword(c: C, tenant: Tenant, token: string, password: string) {
  checkPasswordPolicy(password, effectiveSettings(tenant.settings).passwordMinLength)
  const user = await redeem(c, tenant, 'password_reset', token, { member: true })
  const db = c.var.db
  const meta = requestMeta(c)
  const passwordHash = await hashPassword(password)
  const results = await db.batch([
    // Following the link also proves the mailbox, as a magic link does.
    db.update(users)
      .set({
        passwordHash,
        passwordChangedAt: sql`now()` as unknown as string,
        emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())` as unknown as string,
        updatedAt: sql`now()` as unknown as string,
      })
      .where(eq(users.id, user.id)),
    userEventInsert(db, user.id, meta, 'password.changed', { via: 'password_reset', tenant: tenant.id }),
    auditInsert(db, tenant.schemaName, meta, { action: 'user.password_reset', actorId: user.id, targetType: 'user', targetId: user.id }),
    ...eventStatements(db, tenant, { type: 'user.password_changed', data: { user_id: user.id, via: 'password_reset', other_sessions_ended: true }, actor: { type: 'user', id: user.id } }),
  ] as unknown as Parameters<Database['batch']>[0])
  deliverAfterResponse(c, tenant, results)
  // The password is global, so every session of the account ends, in every tenant it belongs to.
  const revoked = await revokeSessionsEverywhere(await sessionDeps(c, tenant), user.id, 'password_reset')
  try {
    await clearLockout(c.var.redis, tenant.id, user.email)
  } catch (err) {
    c.var.logger.warn('lockout reset unavailable after password reset', { err })
  }
  return { password_changed: true as const, sessions_revoked: revoked.length }
}

/** POST /magic-link/verify: the link proves the mailbox, so it verifies the email, then signs in (or asks for the second factor). */
export async function signInWithMagicLink(c: C, tenant: Tenant, token: string) {
  const user = await redeem(c, tenant, 'magic_link', token, { member: true })
  if (!user.emailVerifiedAt) await c.var.db.batch(verifiedStatements(c, tenant, user, 'magic_link'))
  return completeLogin(c, tenant, user, { action: 'user.login_magic_link' })
}
