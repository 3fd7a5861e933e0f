import { and, eq } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { authzVersionChanged } from '../../changes/effects.ts'
import { uuidv7 } from '../../db/ids.ts'
import { isPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.ts'
import { users } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import { requestMeta, userEventInsert } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { assertSignupAllowed, membershipStatements, needsAddressProof, pendingMembershipStatements } from '../../identity/memberships.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../identity/passwords.ts'
import { createMfaChallenge } from '../../identity/mfa/challenge.ts'
import { hasTotpEnabled } from '../../identity/mfa/status.ts'
import { sessionStatements, tokensFor } from '../../identity/sessions.ts'
import { findUserByEmail, presentUser, type User } from '../../identity/users.ts'
import { admitTenantCreation } from '../../tenancy/creation-limits.ts'
import { findTenantById, provisioningStatements, type Tenant } from '../../tenancy/registry.ts'
import { rememberProvisionedKey } from '../../tenancy/signing-keys.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { personalSlug } from '../../tenancy/slug.ts'
import type { BatchItem } from 'drizzle-orm/batch'
import { mailClaimLink, mailVerificationLink } from '../../identity/link-mail.ts'
import { tenantsOf } from '../../identity/claims.ts'

/** The platform's own password policy (sign-up on the platform host). */
const PLATFORM_MIN_PASSWORD = 10




/**
 * Platform sign-up: the account, a personal tenant it owns, the membership and a first
 * session — one batch, so a failure leaves no account without its tenant (or the reverse).
 */
export async function registerOnPlatform(c: AppScope, input: { email: string; password: string; name?: string }) {
  checkPasswordPolicy(input.password, PLATFORM_MIN_PASSWORD)
  // The personal tenant is a self-service tenant: off switch and per-IP / global limits (a new account owns none yet).
  await admitTenantCreation(c, { accountId: null })
  const db = c.var.db
  const meta = requestMeta(c)
  const existing = await findUserByEmail(db, input.email)
  if (existing && !existing.emailVerifiedAt && !(existing.passwordHash && (await verifyPassword(input.password, existing.passwordHash)))) {
    // The address is only claimed by an unverified account: mail its owner a link (on one of the
    // account's tenants, where links live) that takes the account over (src/identity/claims.ts).
    const [first] = await tenantsOf(db, existing.id)
    const tenant = first ? await findTenantById(db, first.id) : undefined
    if (tenant) return claimAnswer(await mailClaimLink(c, tenant, existing))
  }
  const userId = uuidv7()
  const passwordHash = await hashPassword(input.password, c.var.config.PASSWORD_HASH_PROFILE)
  for (let attempt = 0; ; attempt++) {
    const slug = personalSlug(input.email)
    const display = input.name ?? input.email.split('@')[0]!
    const tenant = await provisioningStatements(db, { slug, name: `${display}'s workspace` }, { actorType: 'user', actorId: userId, ...meta }, { dataKey: c.var.config.DATA_ENCRYPTION_KEY })
    const deps = await sessionDeps(c, { id: tenant.id, slug, schemaName: tenant.schemaName })
    const session = await sessionStatements(deps, tenant, userId, meta)
    try {
      // Nothing after the commit needs the database: the answer is built from the batch's own results.
      const { results } = await commitChange(changeDeps(c), {
        tenant,
        meta,
        statements: [
          ...tenant.statements,
          db.insert(users).values({ id: userId, email: input.email, name: input.name ?? null, passwordHash, passwordChangedAt: new Date().toISOString() }).returning(),
          ...membershipStatements(db, tenant, userId, 'owner'),
          ...session.statements,
          userEventInsert(db, userId, meta, 'account.created', { via: 'password' }),
        ],
        audit: { action: 'member.joined', actorId: userId, targetType: 'user', targetId: userId, details: { role: 'owner' } },
        // The members insert bumped the new tenant's authorization version (0006 trigger).
        effects: [authzVersionChanged(tenant)],
      })
      const created = (results[0] as Tenant[])[0]!
      const user = (results[tenant.statements.length] as User[])[0]!
      await rememberProvisionedKey(created.id, tenant.signingKey)
      return { user: presentUser(user), tenant: { id: created.id, slug: created.slug }, ...(await tokensFor(deps, created, userId, session.sessionId, session.refreshToken)) }
    } catch (err) {
      if (isPgError(err, UNIQUE_VIOLATION, 'users_email_unique')) throw fail(IdentityErrors, 'email_taken')
      if (isPgError(err, UNIQUE_VIOLATION, 'tenants_slug_unique') && attempt < 3) continue
      throw err
    }
  }
}

/**
 * Sign-up on a tenant host: a new account joins the tenant; an existing account joins it
 * after proving its password. Refused unless the tenant's sign-up policy allows the email.
 * Under `signup_policy: "domain"` an address not yet verified only gets a pending membership
 * and a verification link (202, no session): typing an address of the domain proves nothing.
 * An existing account with TOTP on gets the MFA challenge instead of tokens (mfa_required).
 */
export async function registerOnTenant(c: AppScope, tenant: Tenant, input: { email: string; password: string; name?: string }) {
  assertSignupAllowed(tenant, input.email)
  const settings = effectiveSettings(tenant.settings)
  const db = c.var.db
  const meta = requestMeta(c)
  const existing = await findUserByEmail(db, input.email)
  let user: User
  const statements: BatchItem<'pg'>[] = []
  if (existing) {
    if (!existing.passwordHash || !(await verifyPassword(input.password, existing.passwordHash))) {
      // An unverified account does not block the address's owner: a link to the address lets them take it over.
      if (!existing.emailVerifiedAt) return claimAnswer(await mailClaimLink(c, tenant, existing))
      throw fail(IdentityErrors, 'email_taken')
    }
    const t = tenantTables(tenant.schemaName)
    const already = await db.select({ status: t.members.status }).from(t.members).where(and(eq(t.members.userId, existing.id))).limit(1)
    if (already[0]?.status === 'pending') {
      // Signing up again while pending: the address still has to be proven; send a fresh link.
      return pendingAnswer(existing, tenant, await mailVerificationLink(c, tenant, existing))
    }
    if (already.length) throw fail(IdentityErrors, 'email_taken', 'You are already a member: sign in instead.')
    user = existing
  } else {
    checkPasswordPolicy(input.password, settings.passwordMinLength)
    const id = uuidv7()
    const passwordHash = await hashPassword(input.password, c.var.config.PASSWORD_HASH_PROFILE)
    user = { id, email: input.email, name: input.name ?? null, passwordHash, emailVerifiedAt: null, passwordChangedAt: null, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() }
    statements.push(
      db.insert(users).values({ id, email: input.email, name: input.name ?? null, passwordHash, passwordChangedAt: new Date().toISOString() }).returning(),
      userEventInsert(db, id, meta, 'account.created', { via: 'password', tenant: tenant.id }),
    )
  }

  if (needsAddressProof(tenant, user)) {
    try {
      // The pending row bumped the authorization version (0006 trigger), though it grants nothing: keep Redis in step.
      await commitChange(changeDeps(c), { tenant, statements: [...statements, ...pendingMembershipStatements(db, tenant, user.id, meta, { via: 'signup' })], effects: [authzVersionChanged(tenant)] })
    } catch (err) {
      if (isPgError(err, UNIQUE_VIOLATION)) throw fail(IdentityErrors, 'email_taken')
      throw err
    }
    const fresh = (await findUserByEmail(db, input.email))!
    return pendingAnswer(fresh, tenant, await mailVerificationLink(c, tenant, fresh))
  }

  // An existing account with TOTP on proved only its password: it joins, but the session waits
  // for the second factor, exactly as a sign-in here would (no way around MFA through sign-up).
  const secondFactor = existing ? await hasTotpEnabled(db, user.id) : false
  const deps = await sessionDeps(c, tenant)
  const session = await sessionStatements(deps, tenant, user.id, meta)
  let created: User | undefined
  try {
    // The members insert bumps the authorization version (0006 trigger): published before the answer.
    const { results } = await commitChange(changeDeps(c), {
      tenant,
      meta,
      statements: [...statements, ...membershipStatements(db, tenant, user.id, 'member'), ...(secondFactor ? [] : session.statements)],
      audit: { action: 'member.joined', actorId: user.id, targetType: 'user', targetId: user.id, details: { role: 'member', via: 'signup' } },
      events: [{ type: 'member.joined', data: { user_id: user.id, email: user.email, role: 'member', via: 'signup' }, actor: { type: 'user', id: user.id } }],
      effects: [authzVersionChanged(tenant)],
    })
    created = existing ? undefined : (results[0] as User[])[0]
  } catch (err) {
    if (isPgError(err, UNIQUE_VIOLATION)) throw fail(IdentityErrors, 'email_taken')
    throw err
  }
  const fresh = created ?? user
  if (secondFactor) {
    const mfaToken = await createMfaChallenge(c.var.redis, { userId: user.id, tenantId: tenant.id })
    return { user: presentUser(fresh), tenant: { id: tenant.id, slug: tenant.slug }, mfa_required: true as const, mfa_token: mfaToken }
  }
  return { user: presentUser(fresh), tenant: { id: tenant.id, slug: tenant.slug }, ...(await tokensFor(deps, tenant, user.id, session.sessionId, session.refreshToken)) }
}

/** The answer to a sign-up that found its address claimed by an unverified account. */
function claimAnswer(sent: boolean) {
  return {
    address_claim: true as const,
    claim_sent: sent,
    message: 'An account with this address was never verified. If the address is yours, follow the link we mailed to it to set your password and take the account over.',
  }
}

/** The answer to a sign-up that waits for its address to be verified. */
function pendingAnswer(user: User, tenant: Tenant, verificationSent: boolean) {
  return { user: presentUser(user), tenant: { id: tenant.id, slug: tenant.slug }, verification_required: true as const, verification_sent: verificationSent }
}
