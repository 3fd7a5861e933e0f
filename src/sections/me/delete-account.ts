import { and, eq, inArray, ne, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { AppScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { authzVersionChanged, tenantChanged } from '../../changes/effects.ts'
import { memberships, tenants, users } from '../../db/public-schema.ts'
import { isPgError } from '../../db/pg-errors.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { auditInsert, requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { lockoutSafely, recordFailure, reserveAttempt } from '../../identity/lockout.ts'
import { verifyPassword } from '../../identity/passwords.ts'
import { sessionRevocation } from '../../identity/sessions.ts'
import { findUserById, type User } from '../../identity/users.ts'
import type { Database } from '../../platform/database.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { deliverSoon } from '../../webhooks/deliver.ts'
import { eventStatements } from '../../webhooks/outbox.ts'
import { lockStatements } from '../../identity/sign-in.ts'
import { AccountErrors } from './errors.ts'

type C = AppScope
const DIVISION_BY_ZERO = '22012'

/** How recent the sign-in of an account without a password must be to delete it. */
export const REAUTHENTICATION_WINDOW_SECONDS = 600

/**
 * What deleting the account does to one organization:
 *  - `left`: the membership ends (a member or admin — even the last one of an organization the
 *    platform created —, or an owner beside whom another owner remains);
 *  - `deleted`: an organization the account owns and no one else belongs to is deleted with it
 *    (soft-deleted: its hosts answer 404 at once; the platform's purge drops its data later);
 *  - `blocks_deletion`: the only owner of an organization with other members: the account
 *    cannot be deleted until another member is made owner, or the others are removed — an
 *    organization is never left without an owner, nor deleted under its members' feet.
 */
export type DeletionOutcome = 'left' | 'deleted' | 'blocks_deletion'

interface PlannedTenant {
  tenant: Tenant
  role: string
  otherMembers: number
  otherOwners: number
  outcome: DeletionOutcome
}

/** Every organization of the account (active or suspended), with what its deletion would do there. */
export async function deletionPlan(db: Database, userId: string): Promise<PlannedTenant[]> {
  const mine = await db
    .select({ tenant: tenants, role: memberships.role })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(and(eq(memberships.userId, userId), ne(tenants.status, 'deleted')))
    .orderBy(tenants.name, tenants.slug)
  if (!mine.length) return []
  const others = await db
    .select({
      tenantId: memberships.tenantId,
      members: sql<number>`count(*)::int`,
      owners: sql<number>`(count(*) filter (where ${memberships.role} = 'owner'))::int`,
    })
    .from(memberships)
    .where(and(inArray(memberships.tenantId, mine.map((m) => m.tenant.id)), ne(memberships.userId, userId)))
    .groupBy(memberships.tenantId)
  const counts = new Map(others.map((o) => [o.tenantId, o]))
  return mine.map(({ tenant, role }) => {
    const otherMembers = counts.get(tenant.id)?.members ?? 0
    const otherOwners = counts.get(tenant.id)?.owners ?? 0
    const outcome: DeletionOutcome = role !== 'owner' || otherOwners > 0 ? 'left' : otherMembers === 0 ? 'deleted' : 'blocks_deletion'
    return { tenant, role, otherMembers, otherOwners, outcome }
  })
}

export const presentPlan = (plan: PlannedTenant[]) =>
  plan.map((p) => ({ id: p.tenant.id, slug: p.tenant.slug, name: p.tenant.name, role: p.role, other_members: p.otherMembers, outcome: p.outcome }))

/**
 * The owner's proof: the password (wrong guesses count towards the account's lockout in this
 * tenant, as at sign-in), or — for an account without one — a sign-in of the current session
 * within the last 10 minutes. A stolen access token alone must not be enough to delete an account.
 */
async function confirmOwner(c: C, tenant: Tenant, user: User, sessionId: string | undefined, password: string | undefined) {
  const { db, redis } = c.var
  if (!user.passwordHash) {
    const t = tenantTables(tenant.schemaName)
    const recent = sessionId
      ? await db.select({ id: t.sessions.id }).from(t.sessions)
        .where(and(eq(t.sessions.id, sessionId), eq(t.sessions.userId, user.id), sql`${t.sessions.createdAt} > now() - make_interval(secs => ${REAUTHENTICATION_WINDOW_SECONDS})`)).limit(1)
      : []
    if (!recent.length) throw fail(AccountErrors, 'reauthentication_required', undefined, { within_seconds: REAUTHENTICATION_WINDOW_SECONDS })
    return
  }
  if (password === undefined) throw fail(AccountErrors, 'password_required')
  const policy = effectiveSettings(tenant.settings).lockout
  const budget = await lockoutSafely(c.var.logger, 'reserve', () => reserveAttempt(redis, tenant.id, user.email, policy), null)
  if (budget && !budget.ok) {
    c.header('Retry-After', String(budget.retryAfter))
    throw fail(AccountErrors, 'incorrect_password', 'Too many failed attempts; try again later.', { retry_after: budget.retryAfter })
  }
  if (await verifyPassword(password, user.passwordHash)) return
  const reservation = budget?.reservation
  const lockSeconds = reservation ? await lockoutSafely(c.var.logger, 'count', () => recordFailure(redis, tenant.id, user.email, policy, reservation), 0) : 0
  const failed = auditInsert(db, tenant.schemaName, requestMeta(c), { action: 'user.delete', actorId: user.id, targetType: 'user', targetId: user.id, outcome: 'failure', details: { reason: 'incorrect_password' } })
  await commitChange(changeDeps(c), { tenant, statements: [failed, ...(lockSeconds > 0 ? lockStatements(c, tenant, user, lockSeconds) : [])] })
  if (lockSeconds > 0) c.header('Retry-After', String(lockSeconds))
  throw fail(AccountErrors, 'incorrect_password')
}

/**
 * DELETE /v1/me. Refused while the account is the only owner of an organization with other
 * members (409 sole_owner, listing them). Otherwise one change (`commitChange`), which locks the user row first,
 * so of two concurrent deletions one does the work and the other finds nothing left: a guard
 * that aborts it if the plan no longer holds (someone joined an organization about to be deleted,
 * or the other owner left); in every organization kept, the member row (its role bindings go
 * with it), an audit entry `user.deleted` and the `user.deleted` and `member.removed` webhook
 * events; every organization with no other member soft-deleted with its `tenant.deleted` audit
 * entry; every session of the account, in every organization, with the effects that make the
 * caches follow (revocations, authorization versions, the deleted organizations' registry rows);
 * then the account itself (memberships, linked identities, MFA, account events cascade).
 * An account already gone answers as deleted (idempotent).
 */
export async function deleteAccount(c: C, tenant: Tenant, userId: string, sessionId: string | undefined, password: string | undefined): Promise<{ deleted_tenants: string[] }> {
  const db = c.var.db
  const meta = requestMeta(c)
  const user = await findUserById(db, userId)
  if (!user) return { deleted_tenants: [] }
  await confirmOwner(c, tenant, user, sessionId, password)

  const plan = await deletionPlan(db, userId)
  const blocking = plan.filter((p) => p.outcome === 'blocks_deletion')
  if (blocking.length) throw fail(AccountErrors, 'sole_owner', undefined, { tenants: presentPlan(blocking) })
  const kept = plan.filter((p) => p.outcome === 'left')
  const removed = plan.filter((p) => p.outcome === 'deleted')

  // The plan, re-checked inside the transaction: nobody else in the organizations to delete, and
  // another owner still beside this one where it leaves as an owner.
  const stillHolds = sql.join([
    sql`exists (select 1 from ${users} where ${users.id} = ${userId})`,
    ...removed.map((p) => sql`not exists (select 1 from ${memberships} where ${memberships.tenantId} = ${p.tenant.id} and ${memberships.userId} <> ${userId})`),
    ...kept.filter((p) => p.role === 'owner').map((p) => sql`exists (select 1 from ${memberships} where ${memberships.tenantId} = ${p.tenant.id} and ${memberships.userId} <> ${userId} and ${memberships.role} = 'owner')`),
  ], sql` and `)
  const actor = { type: 'user' as const, id: userId }
  const sessions = await sessionDeps(c, tenant)
  // Every session, in every organization, ends in the same transaction (the plan says where they are).
  const revocations = plan.map((p) => sessionRevocation(sessions, p.tenant, userId, 'account_deleted'))
  const statements: BatchItem<'pg'>[] = []
  for (const p of kept) {
    const t = tenantTables(p.tenant.schemaName)
    statements.push(
      db.delete(t.members).where(eq(t.members.userId, userId)),
      auditInsert(db, p.tenant.schemaName, meta, { action: 'user.deleted', actorId: userId, targetType: 'user', targetId: userId, details: { role: p.role, from_tenant: tenant.id } }),
      ...eventStatements(db, p.tenant, { type: 'member.removed', data: { user_id: userId, role: p.role, removed_by: userId }, actor }),
      ...eventStatements(db, p.tenant, { type: 'user.deleted', data: { user_id: userId }, actor }),
    )
  }
  for (const p of removed) {
    statements.push(
      db.update(tenants).set({ status: 'deleted', deletedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(tenants.id, p.tenant.id)),
      auditInsert(db, p.tenant.schemaName, meta, { action: 'tenant.deleted', actorId: userId, targetType: 'tenant', targetId: p.tenant.id, details: { reason: 'owner_account_deleted' } }),
    )
  }
  statements.push(...revocations.map((r) => r.statement), db.delete(users).where(eq(users.id, userId)))

  const deps = changeDeps(c)
  let batch: unknown[]
  try {
    // A change of several organizations: no single tenant's audit or outbox (`tenant: null`); each
    // organization's entries and events are statements, its deliveries started below.
    ;({ batch } = await commitChange(deps, {
      tenant: null,
      meta,
      guards: [
        db.execute(sql`select ${users.id} from ${users} where ${users.id} = ${userId} for update`),
        db.execute(sql`select 1 / (case when ${stillHolds} then 1 else 0 end)`),
      ],
      statements,
      effects: [
        ...revocations.map((r) => r.effect),
        // The member rows' removal bumped each organization's authorization version (trigger).
        ...kept.map((p) => authzVersionChanged(p.tenant)),
        ...removed.map((p) => tenantChanged(p.tenant)),
      ],
    }))
  } catch (err) {
    if (!isPgError(err, DIVISION_BY_ZERO)) throw err
    // Deleted meanwhile by a concurrent request: done. Otherwise an organization changed: look again.
    if (!(await findUserById(db, userId))) return { deleted_tenants: [] }
    throw commonError('conflict', 'Your organizations changed meanwhile: review what happens to them and try again.')
  }
  const { defer, config } = deps
  if (defer && config) for (const p of kept) deliverSoon({ ...deps, config }, defer, p.tenant, batch)
  c.var.logger.info('account deleted', { user: userId, left: kept.length, deleted_tenants: removed.length })
  return { deleted_tenants: removed.map((p) => p.tenant.id) }
}
