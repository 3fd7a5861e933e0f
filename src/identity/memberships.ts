import { eq, sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Change } from '../changes/commit.ts'
import { authzVersionChanged } from '../changes/effects.ts'
import { uuidv7 } from '../db/ids.ts'
import { memberships } from '../db/public-schema.ts'
import { tenantTables } from '../db/tenant-schema.ts'
import type { Database } from '../platform/database.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { effectiveSettings } from '../tenancy/settings.ts'
import { fail } from '../errors.ts'
import { IdentityErrors } from './errors.ts'
import type { RequestMeta } from './audit.ts'
import type { User } from './users.ts'

/**
 * Memberships that an email address grants. A tenant with `signup_policy: "domain"` admits
 * addresses of its domains; typing an address proves nothing, so such a membership starts
 * `pending` until the address is verified (a verification link, or any other link that went
 * through the mailbox). A pending member is no member: the authorization model, the member
 * list, sign-in and the public `memberships` index ignore the row; the account can do nothing
 * in the tenant but verify. Verifying activates it, and only then is it `member.joined` (via
 * `signup`, whether the sign-up was by password or through a provider).
 */

export const BUILT_IN_ROLES = ['owner', 'admin', 'member'] as const
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number]

/** An active membership of the caller in the request's tenant. */
export interface Member {
  userId: string
  role: string
  status: 'active' | 'disabled'
}

/** The account's row in the tenant's members table (any status), or undefined. */
export async function findMember(db: Database, tenant: Pick<Tenant, 'schemaName'>, userId: string) {
  const t = tenantTables(tenant.schemaName)
  const rows = await db.select().from(t.members).where(eq(t.members.userId, userId)).limit(1)
  return rows[0]
}

/** Whether the account is an active member of the tenant (a pending or disabled row is no member). */
export async function isActiveMember(db: Database, tenant: Pick<Tenant, 'schemaName'>, userId: string): Promise<boolean> {
  return (await findMember(db, tenant, userId))?.status === 'active'
}

/** Whether the tenant's sign-up policy admits this address without an invitation (not whether it is proven). */
export function signupAdmits(tenant: Pick<Tenant, 'settings'>, email: string): boolean {
  const settings = effectiveSettings(tenant.settings)
  if (settings.signupPolicy === 'open') return true
  return settings.signupPolicy === 'domain' && settings.signupDomains.includes(email.split('@')[1]!)
}

/** Refuses an address the tenant's sign-up policy does not admit without an invitation. */
export function assertSignupAllowed(tenant: Pick<Tenant, 'settings'>, email: string) {
  if (signupAdmits(tenant, email)) return
  throw fail(IdentityErrors, effectiveSettings(tenant.settings).signupPolicy === 'domain' ? 'signup_domain_refused' : 'signup_closed')
}

/** Whether a self-service membership of this account must wait for the address to be verified. */
export function needsAddressProof(tenant: Pick<Tenant, 'settings'>, user: Pick<User, 'emailVerifiedAt'>): boolean {
  return effectiveSettings(tenant.settings).signupPolicy === 'domain' && !user.emailVerifiedAt
}

/** Statements that make `userId` an active member of `tenant` (the tenant's row and the public index). */
export function membershipStatements(db: Database, tenant: Pick<Tenant, 'id' | 'schemaName'>, userId: string, role: string | SQL) {
  return [
    db.insert(tenantTables(tenant.schemaName).members).values({ userId, role }),
    db.insert(memberships).values({ tenantId: tenant.id, userId, role }),
  ] as const
}

/** A pending membership: the tenant's row only (no public index, no member.joined), with its audit entry. */
export function pendingMembershipStatements(db: Database, tenant: Pick<Tenant, 'schemaName'>, userId: string, meta: RequestMeta, details: Record<string, unknown>): BatchItem<'pg'>[] {
  const t = tenantTables(tenant.schemaName)
  return [
    db.insert(t.members).values({ userId, role: 'member', status: 'pending' }),
    db.insert(t.auditLog).values({ id: uuidv7(), actorType: 'user', actorId: userId, action: 'member.pending', targetType: 'user', targetId: userId, ip: meta.ip, userAgent: meta.userAgent, details: { role: 'member', ...details } }),
  ]
}

/**
 * The change that turns the account's pending membership into an active one, for `commitChange`
 * in the batch that proves the address (so the activation is durable with the proof). Everything
 * after the first statement acts only if it activated the row in this transaction (`joined_at =
 * now()`, the transaction's time): without a pending row — removed meanwhile, or never there —
 * the batch writes no index row, no audit entry, no member.joined event and no effect. The status
 * change bumps the authorization version (0006 trigger): the `authz_version` effect publishes it.
 */
export function activationChange(db: Database, tenant: Pick<Tenant, 'id' | 'schemaName'>, user: Pick<User, 'id' | 'email'>, meta: RequestMeta, proof: 'verification_link' | 'verified_address'): Change {
  const s = sql.identifier(tenant.schemaName)
  const activatedNow = sql`exists (select 1 from ${s}.members where user_id = ${user.id} and status = 'active' and joined_at = now())`
  return {
    tenant,
    meta,
    statements: [
      db.execute(sql`update ${s}.members set status = 'active', joined_at = now(), updated_at = now() where user_id = ${user.id} and status = 'pending'`),
      db.execute(sql`
        insert into public.memberships (tenant_id, user_id, role)
        select ${tenant.id}, user_id, role from ${s}.members where user_id = ${user.id} and status = 'active' and joined_at = now()
        on conflict do nothing`),
    ],
    audit: { action: 'member.joined', actorId: user.id, targetType: 'user', targetId: user.id, details: { role: 'member', via: 'signup', proof }, when: activatedNow },
    events: [{ type: 'member.joined', data: { user_id: user.id, email: user.email, role: 'member', via: 'signup' }, actor: { type: 'user', id: user.id } }],
    effects: [authzVersionChanged(tenant)],
  }
}

/** Whether a change that included `activationChange`'s statements activated the membership (the UPDATE's row count, at `index`). */
export function activatedIn(results: readonly unknown[], index: number): boolean {
  const update = results[index] as { rowCount?: number | null } | undefined
  return (update?.rowCount ?? 0) > 0
}
