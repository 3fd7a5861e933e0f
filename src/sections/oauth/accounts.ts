import { and, eq } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { AppScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { authzVersionChanged } from '../../changes/effects.ts'
import { uuidv7 } from '../../db/ids.ts'
import { isPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.ts'
import { userIdentities, users } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { auditInsert, requestMeta, userEventInsert } from '../../identity/audit.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { membershipStatements, needsAddressProof, pendingMembershipStatements } from '../../identity/memberships.ts'
import { hashToken } from '../../identity/secrets.ts'
import { findUserByEmail, findUserById } from '../../identity/users.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { eventStatements } from '../../webhooks/outbox.ts'
import { completeLogin, signInWhilePending } from '../../identity/sign-in.ts'
import { assertSignupAllowed } from '../../identity/memberships.ts'
import { OAuthErrors } from './errors.ts'
import type { ProviderProfile } from './profile.ts'
import type { ProviderId } from './schemas.ts'

/**
 * Every account has an email (users.email is unique and required). A provider that gives none
 * (TikTok) gets an address under the reserved `.invalid` TLD (RFC 6761), derived from the
 * provider's user id: unique, never deliverable, never equal to a real address.
 */
export async function placeholderEmail(provider: ProviderId, providerUserId: string): Promise<string> {
  return `${(await hashToken(`${provider}:${providerUserId}`)).slice(0, 40)}@${provider}.invalid`
}

interface Resolution {
  user: { id: string; email: string }
  statements: BatchItem<'pg'>[]
  /** Whether the statements make the user a member of the tenant. */
  joins: boolean
  /** Whether the user's membership is (or the statements make it) pending: a domain sign-up whose address is not verified. */
  pending: boolean
}

/**
 * Who signs in, and the writes that make it so — nothing is written until the sign-up policy
 * has been checked:
 *  1. the identity (provider, provider user id) is linked → its user;
 *  2. else an account has the same email, verified by the provider AND by us → link to it;
 *     any other match is refused, so an unverified claim never takes over an account
 *     (nor does an account pre-registered by someone else with the victim's address);
 *  3. else a new account, without password, its email verified if the provider says so.
 * Then the user joins the tenant if not yet a member, as its sign-up policy allows; under the
 * `domain` policy only as a pending member while the address is not verified (an address the
 * provider reports verified is recorded as verified on a new account).
 */
async function resolve(c: AppScope, tenant: Tenant, provider: ProviderId, profile: ProviderProfile): Promise<Resolution> {
  const db = c.var.db
  const meta = requestMeta(c)
  const statements: BatchItem<'pg'>[] = []
  const linked = await db
    .select({ userId: userIdentities.userId })
    .from(userIdentities)
    .where(and(eq(userIdentities.provider, provider), eq(userIdentities.providerUserId, profile.providerUserId)))
    .limit(1)

  let user: { id: string; email: string; emailVerifiedAt: string | null }
  let isNew = false
  if (linked[0]) {
    user = (await findUserById(db, linked[0].userId))!
  } else {
    const email = profile.email ?? (await placeholderEmail(provider, profile.providerUserId))
    const existing = await findUserByEmail(db, email)
    if (existing) {
      if (!profile.emailVerified || !existing.emailVerifiedAt) throw fail(OAuthErrors, 'oauth_email_in_use')
      const other = await db.select({ id: userIdentities.id }).from(userIdentities).where(and(eq(userIdentities.userId, existing.id), eq(userIdentities.provider, provider))).limit(1)
      if (other.length) throw fail(OAuthErrors, 'provider_already_linked')
      user = existing
      statements.push(
        db.insert(userIdentities).values({ id: uuidv7(), userId: existing.id, provider, providerUserId: profile.providerUserId, email: profile.email }),
        userEventInsert(db, existing.id, meta, 'identity.linked', { provider, tenant: tenant.id }),
        auditInsert(db, tenant.schemaName, meta, { action: 'user.identity_linked', actorId: existing.id, targetType: 'user', targetId: existing.id, details: { provider } }),
      )
    } else {
      const id = uuidv7()
      user = { id, email, emailVerifiedAt: profile.emailVerified ? new Date().toISOString() : null }
      isNew = true
      statements.push(
        db.insert(users).values({ id, email, name: profile.name, passwordHash: null, emailVerifiedAt: user.emailVerifiedAt }),
        db.insert(userIdentities).values({ id: uuidv7(), userId: id, provider, providerUserId: profile.providerUserId, email: profile.email }),
        userEventInsert(db, id, meta, 'account.created', { via: provider, tenant: tenant.id }),
      )
    }
  }

  const t = tenantTables(tenant.schemaName)
  const member = isNew ? [] : await db.select({ status: t.members.status }).from(t.members).where(eq(t.members.userId, user.id)).limit(1)
  if (member[0]?.status === 'pending') return { user, statements, joins: false, pending: true }
  if (member[0] && member[0].status !== 'active') throw fail(IdentityErrors, 'not_a_member')
  if (member[0]) return { user, statements, joins: false, pending: false }
  assertSignupAllowed(tenant, user.email)
  if (needsAddressProof(tenant, user)) {
    statements.push(...pendingMembershipStatements(db, tenant, user.id, meta, { via: 'oauth', provider }))
    return { user, statements, joins: false, pending: true }
  }
  statements.push(
    ...membershipStatements(db, tenant, user.id, 'member'),
    auditInsert(db, tenant.schemaName, meta, { action: 'member.joined', actorId: user.id, targetType: 'user', targetId: user.id, details: { role: 'member', via: 'oauth', provider } }),
    ...eventStatements(db, tenant, { type: 'member.joined', data: { user_id: user.id, email: user.email, role: 'member', via: 'oauth' }, actor: { type: 'user', id: user.id } }),
  )
  return { user, statements, joins: true, pending: false }
}

/**
 * Sign in with a provider's profile on this tenant: resolve (or create) the account, write
 * the link, account and membership in one batch, then tokens or an MFA challenge.
 */
export async function signInWithProfile(c: AppScope, tenant: Tenant, provider: ProviderId, profile: ProviderProfile) {
  let user: { id: string } | undefined
  let pending = false
  for (let attempt = 0; !user; attempt++) {
    const resolution = await resolve(c, tenant, provider, profile)
    pending = resolution.pending
    try {
      if (resolution.statements.length) {
        // A new (or pending) member row bumps the authorization model's version (trigger): published before answering.
        await commitChange(changeDeps(c), { tenant, statements: resolution.statements, effects: resolution.joins || resolution.pending ? [authzVersionChanged(tenant)] : [] })
      }
      user = resolution.user
    } catch (err) {
      if (!isPgError(err, UNIQUE_VIOLATION)) throw err
      if (isPgError(err, UNIQUE_VIOLATION, 'user_identities_user_provider_unique')) throw fail(OAuthErrors, 'provider_already_linked')
      // A concurrent callback for the same person (same identity, email or membership) got
      // there first: the next resolution sees its rows.
      if (attempt >= 1) throw commonError('conflict')
    }
  }
  // A pending membership: nothing but the address's proof (or a sign-in once it is proven) goes on.
  if (pending) return signInWhilePending(c, tenant, (await findUserById(c.var.db, user.id))!)
  return completeLogin(c, tenant, user)
}
