import { sql, type Name } from 'drizzle-orm'
import type { Context } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { revokeAllSessions } from '../../identity/sessions.ts'
import type { BuiltInRole, Member } from '../../middleware/membership/index.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { auditFrom } from './audit-from.ts'
import { MemberErrors } from './errors.ts'
import { findMember, type MemberRecord } from './member-store.ts'

type C = Context<AppEnv>
type Problem = { table: 'member'; code: keyof typeof MemberErrors } | { table: 'identity'; code: 'insufficient_role' }

const ADMINS: BuiltInRole[] = ['owner', 'admin']

/**
 * Who may change a role: admins and owners; the owner role (granting it, or taking it from
 * someone) only owners. Pure: the caller has read both rows.
 */
export function roleChangeProblem(actor: Pick<Member, 'role'>, target: Pick<MemberRecord, 'role'>, to: BuiltInRole): Problem | null {
  if (!ADMINS.includes(actor.role as BuiltInRole)) return { table: 'identity', code: 'insufficient_role' }
  if ((to === 'owner' || target.role === 'owner') && actor.role !== 'owner') return { table: 'member', code: 'owner_role_required' }
  return null
}

/** Anyone may leave; removing someone else takes an admin, and removing an owner an owner. */
export function removalProblem(actor: Pick<Member, 'userId' | 'role'>, target: Pick<MemberRecord, 'userId' | 'role'>): Problem | null {
  if (actor.userId === target.userId) return null
  if (!ADMINS.includes(actor.role as BuiltInRole)) return { table: 'identity', code: 'insufficient_role' }
  if (target.role === 'owner' && actor.role !== 'owner') return { table: 'member', code: 'owner_role_required' }
  return null
}

function raise(problem: Problem) {
  return problem.table === 'identity' ? fail(IdentityErrors, problem.code) : fail(MemberErrors, problem.code)
}

const list = (values: string[]) => sql.join(values.map((v) => sql`${v}`), sql`, `)

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
 * remains when an owner goes, and the actor still holds a role that allows the change. */
function guards(s: Name, target: MemberRecord, actor: { userId: string; roles: string[] }, ownerLeaves: boolean) {
  return sql`m.user_id = ${target.userId} and m.role = ${target.role}
    ${ownerLeaves ? sql`and exists (select 1 from ${s}.members o where o.role = 'owner' and o.status = 'active' and o.user_id <> ${target.userId})` : sql``}
    and exists (select 1 from ${s}.members a where a.user_id = ${actor.userId} and a.status = 'active' and a.role in (${list(actor.roles)}))`
}

/** Why a guarded statement changed nothing, read again after the fact. */
async function explainMiss(c: C, tenant: Tenant, target: MemberRecord, problem: (current: MemberRecord) => Problem | null): Promise<never> {
  const current = await findMember(c.var.db, tenant, target.userId)
  if (!current) throw fail(MemberErrors, 'member_not_found')
  const again = problem(current)
  if (again) throw raise(again)
  if (current.role === 'owner' && (await otherActiveOwners(c, tenant, current.userId)) === 0) throw fail(MemberErrors, 'last_owner')
  throw fail(MemberErrors, 'member_changed')
}

async function otherActiveOwners(c: C, tenant: Tenant, userId: string): Promise<number> {
  const s = sql.identifier(tenant.schemaName)
  const result = await c.var.db.execute<{ n: number }>(sql`select count(*)::int as n from ${s}.members where role = 'owner' and status = 'active' and user_id <> ${userId}`)
  return Number(result.rows[0]?.n ?? 0)
}

/**
 * PATCH /v1/members/:userId. One batch: the owner lock, then one statement that changes the
 * tenant's row only if its guards hold, copies the role to the public index and writes the
 * audit entry from the changed row.
 */
export async function changeRole(c: C, tenant: Tenant, actor: Member, userId: string, to: BuiltInRole): Promise<MemberRecord> {
  const target = await findMember(c.var.db, tenant, userId)
  if (!target) throw fail(MemberErrors, 'member_not_found')
  const problem = roleChangeProblem(actor, target, to)
  if (problem) throw raise(problem)
  if (target.role === to) return target
  const ownerLeaves = target.role === 'owner'
  if (ownerLeaves && (await otherActiveOwners(c, tenant, userId)) === 0) throw fail(MemberErrors, 'last_owner')

  const s = sql.identifier(tenant.schemaName)
  const allowed = { userId: actor.userId, roles: to === 'owner' || ownerLeaves ? ['owner'] : ADMINS }
  const [, changed] = await c.var.db.batch([
    lockOwners(c, s),
    c.var.db.execute<{ user_id: string }>(sql`
      with changed as (
        update ${s}.members m set role = ${to}, updated_at = now()
        where ${guards(s, target, allowed, ownerLeaves)}
        returning m.user_id, m.role
      ), indexed as (
        update public.memberships p set role = changed.role from changed where p.tenant_id = ${tenant.id} and p.user_id = changed.user_id
      ), logged as (
        ${auditFrom(s, sql`changed`, requestMeta(c), { action: 'member.role_changed', actorId: actor.userId, targetType: 'user', targetId: userId, details: { from: target.role, to } })}
      )
      select user_id from changed`),
  ])
  if (!changed.rows.length) {
    return explainMiss(c, tenant, target, (current) => roleChangeProblem(actor, current, to))
  }
  return { ...target, role: to }
}

/**
 * DELETE /v1/members/:userId: removal by an admin, or leaving (the caller's own id). The
 * tenant's row, the public index row and the audit entry go in one guarded statement; then
 * every session of the removed user in this tenant ends.
 */
export async function removeMember(c: C, tenant: Tenant, actor: Member, userId: string): Promise<void> {
  const target = await findMember(c.var.db, tenant, userId)
  if (!target) throw fail(MemberErrors, 'member_not_found')
  const problem = removalProblem(actor, target)
  if (problem) throw raise(problem)
  const ownerLeaves = target.role === 'owner'
  if (ownerLeaves && (await otherActiveOwners(c, tenant, userId)) === 0) throw fail(MemberErrors, 'last_owner')

  const leaving = actor.userId === userId
  const s = sql.identifier(tenant.schemaName)
  const allowed = { userId: actor.userId, roles: leaving ? [target.role] : ownerLeaves ? ['owner'] : ADMINS }
  const [, removed] = await c.var.db.batch([
    lockOwners(c, s),
    c.var.db.execute<{ user_id: string }>(sql`
      with removed as (
        delete from ${s}.members m
        where ${guards(s, target, allowed, ownerLeaves)}
        returning m.user_id
      ), unindexed as (
        delete from public.memberships p using removed where p.tenant_id = ${tenant.id} and p.user_id = removed.user_id
      ), logged as (
        ${auditFrom(s, sql`removed`, requestMeta(c), { action: leaving ? 'member.left' : 'member.removed', actorId: actor.userId, targetType: 'user', targetId: userId, details: { role: target.role } })}
      )
      select user_id from removed`),
  ])
  if (!removed.rows.length) {
    return explainMiss(c, tenant, target, (current) => removalProblem(actor, current))
  }
  await revokeAllSessions(await sessionDeps(c, tenant), tenant, userId, leaving ? 'member_left' : 'member_removed')
}
