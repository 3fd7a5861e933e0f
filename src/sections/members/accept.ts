import { and, eq, isNull, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { AppScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { authzVersionChanged, type Effect } from '../../changes/effects.ts'
import { uuidv7 } from '../../db/ids.ts'
import { isPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.ts'
import { users } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requestMeta, userEventInsert } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { afterTakeOver, takeOverChange, tenantsOf, type TenantRef } from '../../identity/claims.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { membershipStatements } from '../../identity/memberships.ts'
import { createMfaChallenge } from '../../identity/mfa/challenge.ts'
import { hasTotpEnabled } from '../../identity/mfa/status.ts'
import { hashPassword, verifyPassword } from '../../identity/passwords.ts'
import { hashToken } from '../../identity/secrets.ts'
import { sessionStatements, tokensFor } from '../../identity/sessions.ts'
import { findUserByEmail, findUserById, presentUser, type User } from '../../identity/users.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { checkPasswordPolicy } from '../../identity/passwords.ts'
import { MemberErrors } from './errors.ts'
import { invitationStatus, type InvitationRow } from './invite.ts'
import { findMember } from './member-store.ts'

type C = AppScope

const NOT_NULL_VIOLATION = '23502'

export interface AcceptInput {
  token: string
  password?: string
  name?: string
  email?: string
}

/** An invitation that can no longer be used, as its own 410. */
function assertUsable(row: InvitationRow) {
  const status = invitationStatus(row)
  if (status === 'accepted') throw fail(MemberErrors, 'invitation_used')
  if (status === 'revoked') throw fail(MemberErrors, 'invitation_revoked')
  if (status === 'expired') throw fail(MemberErrors, 'invitation_expired')
}

/**
 * POST /v1/invitations/accept on the tenant's host. The token is looked up in this tenant's
 * schema only, so another tenant's token is unknown here.
 *
 * - New email: the body carries `password` (and `name`); the account is created, its email
 *   verified (the link came through the mailbox).
 * - Existing account: it proves itself with its `password`. An account without a password
 *   (social sign-in only) is proven by the link alone, as a magic link would.
 * - A caller signed in on this host, or an `email` in the body, must be the invited address.
 *
 * One batch: the account (if new), the conditional UPDATE that marks the invitation accepted
 * (still open, unexpired), the membership rows and the session. The membership takes its role
 * from the invitation *this transaction* accepted (`accepted_at = now()`, the transaction's
 * time): if the UPDATE matched nothing — accepted, revoked or expired meanwhile — the role is
 * NULL, the NOT NULL constraint fails and the whole batch is rolled back. The member.joined
 * event is in the batch too; after it, the authorization version the 0006 trigger bumped is
 * published, so the new member's first request (and any check about them) sees the membership.
 */
export async function acceptInvitation(c: C, tenant: Tenant, input: AcceptInput) {
  const db = c.var.db
  const meta = requestMeta(c)
  const t = tenantTables(tenant.schemaName)
  const [invitation] = await db.select().from(t.invitations).where(eq(t.invitations.tokenHash, await hashToken(input.token))).limit(1)
  if (!invitation) throw fail(MemberErrors, 'invitation_not_found')
  assertUsable(invitation)
  if (input.email && input.email !== invitation.email) throw fail(MemberErrors, 'invitation_email_mismatch')
  if (c.var.auth) {
    const caller = await findUserById(db, c.var.auth.sub)
    if (caller?.email !== invitation.email) throw fail(MemberErrors, 'invitation_email_mismatch')
  }

  const statements: BatchItem<'pg'>[] = []
  let userId: string
  let created = false
  const existing = await findUserByEmail(db, invitation.email)
  // An unverified account is only a claim on the address; the invitation link proves the address,
  // so unless the account's own password comes with it, its owner takes the account over.
  let claim: { tenants: TenantRef[]; effects: Effect[] } | undefined
  if (existing) {
    if (await findMember(db, tenant, existing.id)) throw fail(MemberErrors, 'already_member')
    const ownPassword = Boolean(existing.passwordHash && input.password && (await verifyPassword(input.password, existing.passwordHash)))
    if (!existing.emailVerifiedAt && !ownPassword) {
      if (!input.password) throw fail(MemberErrors, 'password_required')
      checkPasswordPolicy(input.password, effectiveSettings(tenant.settings).passwordMinLength)
      const inTenants = await tenantsOf(db, existing.id)
      const takeOver = takeOverChange({ db, accessTtl: c.var.config.ACCESS_TOKEN_TTL_SECONDS }, existing.id, inTenants, meta, 'invitation')
      statements.push(
        db.update(users)
          .set({ passwordHash: await hashPassword(input.password, c.var.config.PASSWORD_HASH_PROFILE), passwordChangedAt: sql`now()`, emailVerifiedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(eq(users.id, existing.id), eq(users.email, invitation.email), isNull(users.emailVerifiedAt))),
        ...takeOver.statements,
      )
      claim = { tenants: inTenants, effects: takeOver.effects }
    } else if (existing.passwordHash) {
      if (!input.password) throw fail(MemberErrors, 'password_required')
      if (!ownPassword) throw fail(IdentityErrors, 'invalid_credentials')
    }
    userId = existing.id
    if (!existing.emailVerifiedAt && !claim) {
      statements.push(
        db.update(users)
          .set({ emailVerifiedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(eq(users.id, existing.id), eq(users.email, invitation.email), isNull(users.emailVerifiedAt))),
      )
    }
  } else {
    if (!input.password) throw fail(MemberErrors, 'password_required')
    checkPasswordPolicy(input.password, effectiveSettings(tenant.settings).passwordMinLength)
    created = true
    userId = uuidv7()
    const now = new Date().toISOString()
    statements.push(
      db.insert(users).values({ id: userId, email: invitation.email, name: input.name ?? null, passwordHash: await hashPassword(input.password, c.var.config.PASSWORD_HASH_PROFILE), passwordChangedAt: now, emailVerifiedAt: now }).returning(),
      userEventInsert(db, userId, meta, 'account.created', { via: 'invitation', tenant: tenant.id }),
    )
  }

  const s = sql.identifier(tenant.schemaName)
  const acceptedRole = sql`(select role from ${s}.invitations where id = ${invitation.id} and accepted_by = ${userId} and accepted_at = now())`
  const mfa = existing && !claim ? await hasTotpEnabled(db, userId) : false
  const deps = await sessionDeps(c, tenant)
  // With TOTP on, the session waits for the second factor (POST /v1/auth/mfa/verify).
  const session = mfa ? undefined : await sessionStatements(deps, tenant, userId, meta)
  statements.push(
    db.update(t.invitations)
      .set({ acceptedAt: sql`now()`, acceptedBy: userId })
      .where(and(eq(t.invitations.id, invitation.id), isNull(t.invitations.acceptedAt), isNull(t.invitations.revokedAt), sql`${t.invitations.expiresAt} > now()`)),
    // A pending domain sign-up of the same account gives way: the invitation proves the address.
    db.delete(t.members).where(and(eq(t.members.userId, userId), eq(t.members.status, 'pending'))),
    ...membershipStatements(db, tenant, userId, acceptedRole),
    ...(session?.statements ?? []),
  )
  let results: readonly unknown[]
  try {
    // The members insert bumps the authorization version (0006 trigger): published before the answer.
    const committed = await commitChange(changeDeps(c), {
      tenant,
      meta,
      statements,
      audit: { action: 'member.joined', actorId: userId, targetType: 'user', targetId: userId, details: { role: invitation.role, via: 'invitation', invitation_id: invitation.id } },
      events: [{ type: 'member.joined', data: { user_id: userId, email: invitation.email, role: invitation.role, via: 'invitation' }, actor: { type: 'user', id: userId } }],
      effects: [authzVersionChanged(tenant), ...(claim?.effects ?? [])],
    })
    results = committed.results
  } catch (err) {
    if (isPgError(err, NOT_NULL_VIOLATION)) {
      const [now] = await db.select().from(t.invitations).where(eq(t.invitations.id, invitation.id)).limit(1)
      if (now) assertUsable(now)
      throw commonError('conflict')
    }
    if (isPgError(err, UNIQUE_VIOLATION, 'users_email_unique')) throw fail(IdentityErrors, 'email_taken', 'An account with this email was created meanwhile: accept again with its password.')
    if (isPgError(err, UNIQUE_VIOLATION)) throw fail(MemberErrors, 'already_member')
    throw err
  }
  if (claim) await afterTakeOver(c, userId)

  // Built from what the batch wrote, not read again: nothing after the commit needs the database.
  const user = created
    ? presentUser((results[0] as User[])[0]!)
    : { ...presentUser(existing!), email_verified: true, has_password: existing!.passwordHash !== null || claim !== undefined }
  const joined = { id: tenant.id, slug: tenant.slug }
  if (!session) return { mfa_required: true as const, mfa_token: await createMfaChallenge(c.var.redis, { userId, tenantId: tenant.id }), user, tenant: joined }
  return { ...(await tokensFor(deps, tenant, userId, session.sessionId, session.refreshToken)), user, tenant: joined }
}
