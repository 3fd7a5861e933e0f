import { sql, type Name } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { AppScope } from '../../app-env.ts'
import { auditFrom, changeDeps, commitChange, type Change } from '../../changes/commit.ts'
import { authzVersionChanged, type Effect } from '../../changes/effects.ts'
import { fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { sessionRevocation } from '../../identity/sessions.ts'
import type { BuiltInRole } from '../../identity/memberships.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { uuidv7 } from '../../db/ids.ts'
import type { WebhookEvent, WebhookEventType } from '../../webhooks/outbox.ts'
import { actorStillHolds, assertWithinOwn, auditActor, eventActor, isOwner, type MemberActor } from './actor.ts'
import { MemberErrors } from './errors.ts'
import { findMember, type MemberRecord } from './member-store.ts'

type C = AppScope
type Problem = keyof typeof MemberErrors

/**
 * The ownership rule of a role change (the permission, `members:update`, was checked by the
 * route's gate): granting the owner role, or taking it from someone, takes an owner. Pure: the
 * caller has read the target.
 */
export function roleChangeProblem(actor: MemberActor, target: Pick<MemberRecord, 'role'>, to: BuiltInRole): Problem | null {
  if ((to === 'owner' || target.role === 'owner') && !isOwner(actor)) return 'owner_role_required'
  return null
}

/** Anyone may leave; removing someone else (`members:remove`, checked by the gate) an owner takes an owner. */
export function removalProblem(actor: MemberActor, target: Pick<MemberRecord, 'userId' | 'role'>): Problem | null {
  if (leaves(actor, target.userId)) return null
  if (target.role === 'owner' && !isOwner(actor)) return 'owner_role_required'
  return null
}

const leaves = (actor: MemberActor, userId: string) => actor.subject.type === 'user' && actor.subject.id === userId

/**
 * Every change that could leave the tenant without an owner first locks the owner rows, in
 * one order. Two owners stepping down (or leaving) at once would otherwise each see the other still
 * owner (write skew under READ COMMITTED); with the lock the second waits, and its statement,
 * which runs with a fresh snapshot after the lock, sees the first one's change.
 */
function lockOwners(c: C, s: Name) {
  return c.var.db.execute(sql`select user_id from ${s}.members where role = 'owner' order by user_id for update`)
}

/** The statement's guards: the target still has the role we decided on, another active owner
 * remains when an owner goes, and the actor is still what the decision was made on. */
function guards(s: Name, target: MemberRecord, actor: MemberActor, actorRoles: string[], ownerLeaves: boolean) {
  return sql`m.user_id = ${target.userId} and m.role = ${target.role}
    ${ownerLeaves ? sql`and exists (select 1 from ${s}.members o where o.role = 'owner' and o.status = 'active' and o.user_id <> ${target.userId})` : sql``}
    and ${actorStillHolds(s, actor, actorRoles)}`
}

/** The roles the guard accepts for a user actor: owner for anything touching the owner role, else the role it had. */
function actorRoles(actor: MemberActor, ownerInvolved: boolean): string[] {
  if (ownerInvolved) return ['owner']
  return actor.role === null ? [] : [actor.role]
}

/** Why a guarded statement changed nothing, read again after the fact. */
async function explainMiss(c: C, tenant: Tenant, target: MemberRecord, problem: (current: MemberRecord) => Problem | null): Promise<never> {
  const current = await findMember(c.var.db, tenant, target.userId)
  if (!current) throw fail(MemberErrors, 'member_not_found')
  const again = problem(current)
  if (again) throw fail(MemberErrors, again)
  if (current.role === 'owner' && (await otherActiveOwners(c, tenant, current.userId)) === 0) throw fail(MemberErrors, 'last_owner')
  throw fail(MemberErrors, 'member_changed')
}

async function otherActiveOwners(c: C, tenant: Tenant, userId: string): Promise<number> {
  const s = sql.identifier(tenant.schemaName)
  const result = await c.var.db.execute<{ n: number }>(sql`select count(*)::int as n from ${s}.members where role = 'owner' and status = 'active' and user_id <> ${userId}`)
  return Number(result.rows[0]?.n ?? 0)
}

/**
 * A guarded change to `members`, for `commitChange`: the owner lock first, then the one
 * statement that writes the change and its audit entry `auditId` only if its guards hold (so the
 * entry is the witness: the event and the effects follow it), the webhook event, and the
 * `authz_version` effect (the 0006 triggers bumped the version inside the batch), published
 * before the answer so the next check anywhere sees the change.
 */
function memberChange<T extends WebhookEventType>(c: C, tenant: Tenant, change: { statements: BatchItem<'pg'>[]; auditId: string; event: WebhookEvent<T>; effects?: Effect[] }): Change {
  const s = sql.identifier(tenant.schemaName)
  return {
    tenant,
    guards: [lockOwners(c, s)],
    statements: change.statements,
    audit: { writtenBy: change.auditId },
    events: [change.event as unknown as WebhookEvent<WebhookEventType>],
    effects: [authzVersionChanged(tenant), ...(change.effects ?? [])],
  }
}

/** Whether the guarded statement (the first of a member change) changed a row. */
const changedIn = (results: unknown[]) => ((results[0] as { rows: unknown[] }).rows.length > 0)

/**
 * PATCH /v1/members/:userId. One batch: the owner lock, one statement that changes the
 * tenant's row only if its guards hold, copies the role to the public index and writes the
 * audit entry from the changed row, and the member.role_changed event if it did.
 */
export async function changeRole(c: C, tenant: Tenant, actor: MemberActor, userId: string, to: BuiltInRole): Promise<MemberRecord> {
  const target = await findMember(c.var.db, tenant, userId)
  if (!target) throw fail(MemberErrors, 'member_not_found')
  const problem = roleChangeProblem(actor, target, to)
  if (problem) throw fail(MemberErrors, problem)
  if (target.role === to) return target
  await assertWithinOwn(c, tenant, actor, to)
  const ownerLeaves = target.role === 'owner'
  if (ownerLeaves && (await otherActiveOwners(c, tenant, userId)) === 0) throw fail(MemberErrors, 'last_owner')

  const s = sql.identifier(tenant.schemaName)
  const auditId = uuidv7()
  const { results } = await commitChange(changeDeps(c), memberChange(c, tenant, {
    statements: [c.var.db.execute<{ user_id: string }>(sql`
      with changed as (
        update ${s}.members m set role = ${to}, updated_at = now()
        where ${guards(s, target, actor, actorRoles(actor, to === 'owner' || ownerLeaves), ownerLeaves)}
        returning m.user_id, m.role
      ), indexed as (
        update public.memberships p set role = changed.role from changed where p.tenant_id = ${tenant.id} and p.user_id = changed.user_id
      ), logged as (
        ${auditFrom(tenant.schemaName, sql`changed`, requestMeta(c), auditId, { action: 'member.role_changed', ...auditActor(actor), targetType: 'user', targetId: userId, details: { from: target.role, to } })}
      )
      select user_id from changed`)],
    auditId,
    event: { type: 'member.role_changed', data: { user_id: userId, previous_role: target.role, role: to, changed_by: actor.subject.id }, actor: eventActor(actor) },
  }))
  if (!changedIn(results)) return explainMiss(c, tenant, target, (current) => roleChangeProblem(actor, current, to))
  return { ...target, role: to }
}

/**
 * DELETE /v1/members/:userId: removal (an admin, an API key), or leaving (the caller's own id).
 * The tenant's row, the public index row and the audit entry go in one guarded statement, the
 * member.removed event with it; then every session of the removed user in this tenant ends.
 */
export async function removeMember(c: C, tenant: Tenant, actor: MemberActor, userId: string): Promise<void> {
  const target = await findMember(c.var.db, tenant, userId)
  if (!target) throw fail(MemberErrors, 'member_not_found')
  const problem = removalProblem(actor, target)
  if (problem) throw fail(MemberErrors, problem)
  const leaving = leaves(actor, userId)
  const ownerLeaves = target.role === 'owner'
  if (ownerLeaves && (await otherActiveOwners(c, tenant, userId)) === 0) throw fail(MemberErrors, 'last_owner')

  const s = sql.identifier(tenant.schemaName)
  const auditId = uuidv7()
  const reason = leaving ? 'member_left' : 'member_removed'
  // The removed user's sessions in this tenant end in the same transaction, only if the removal happened.
  const sessions = sessionRevocation(await sessionDeps(c, tenant), tenant, userId, reason, { when: sql`exists (select 1 from ${s}.audit_log where id = ${auditId}::uuid)` })
  const { results } = await commitChange(changeDeps(c), memberChange(c, tenant, {
    statements: [c.var.db.execute<{ user_id: string }>(sql`
      with removed as (
        delete from ${s}.members m
        where ${guards(s, target, actor, leaving ? [target.role] : actorRoles(actor, ownerLeaves), ownerLeaves)}
        returning m.user_id
      ), unindexed as (
        delete from public.memberships p using removed where p.tenant_id = ${tenant.id} and p.user_id = removed.user_id
      ), logged as (
        ${auditFrom(tenant.schemaName, sql`removed`, requestMeta(c), auditId, { action: leaving ? 'member.left' : 'member.removed', ...auditActor(actor), targetType: 'user', targetId: userId, details: { role: target.role } })}
      )
      select user_id from removed`), sessions.statement],
    auditId,
    event: { type: 'member.removed', data: { user_id: userId, role: target.role, removed_by: actor.subject.id }, actor: eventActor(actor) },
    effects: [sessions.effect],
  }))
  if (!changedIn(results)) return explainMiss(c, tenant, target, (current) => removalProblem(actor, current))
}
