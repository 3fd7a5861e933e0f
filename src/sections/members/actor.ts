import { eq, sql, type Name, type SQL } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import type { Subject } from '../../authz/engine.ts'
import { type Grants, assertGrantCeiling } from '../../authz/permissions.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { fail } from '../../errors.ts'
import type { PermissionContext } from '../../middleware/permission/index.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { MemberErrors } from './errors.ts'

/**
 * Who changes members or invitations: a signed-in member or an API key, after
 * `requirePermission` let it through (its roles and bindings decide, not a built-in rank).
 */
export interface MemberActor {
  subject: Subject
  /** The user's built-in role in this tenant (`members.role`); null for an API key. */
  role: string | null
  /** What the actor holds tenant-wide: the ceiling of the roles it may grant or take away. */
  grants: Grants
}

/** The caller of a route behind requirePermission (or the leave gate) as a MemberActor. */
export function memberActor(c: PermissionContext): MemberActor {
  const subject = c.var.subject
  return { subject, role: c.var.member?.role ?? null, grants: c.var.authz.tenantWideGrants(subject) }
}

/** The platform admin acting on a tenant through the platform API (POST /v1/tenants[/:id/invitations]): above the tenant's rules. */
export const PLATFORM_ADMIN = Object.freeze({ platformAdmin: true as const })
export type PlatformAdminActor = typeof PLATFORM_ADMIN

/** Who invites: a member or API key of the tenant (behind requirePermission), or the platform admin. */
export type Inviter = MemberActor | PlatformAdminActor

export const isPlatformAdmin = (actor: Inviter): actor is PlatformAdminActor => 'platformAdmin' in actor

/** Audit entries and webhook events name the actor as what it is: a user, an API key or the platform admin. */
export function auditActor(actor: MemberActor): { actorType: MemberActor['subject']['type']; actorId: string }
export function auditActor(actor: Inviter): { actorType: MemberActor['subject']['type'] | 'platform_admin'; actorId: string | null }
export function auditActor(actor: Inviter) {
  return isPlatformAdmin(actor) ? { actorType: 'platform_admin' as const, actorId: null } : { actorType: actor.subject.type, actorId: actor.subject.id }
}
export function eventActor(actor: MemberActor): { type: MemberActor['subject']['type']; id: string }
export function eventActor(actor: Inviter): { type: MemberActor['subject']['type'] | 'platform_admin'; id: string | null }
export function eventActor(actor: Inviter) {
  return isPlatformAdmin(actor) ? { type: 'platform_admin' as const, id: null } : { type: actor.subject.type, id: actor.subject.id }
}

/** Owner stays with people: only a member holding the owner role grants it, takes it away, or removes an owner. */
export const isOwner = (actor: MemberActor) => actor.subject.type === 'user' && actor.role === 'owner'

export function assertOwner(actor: MemberActor) {
  if (!isOwner(actor)) throw fail(MemberErrors, 'owner_role_required')
}

/**
 * Nobody grants a role holding a permission they do not hold tenant-wide themselves (wildcards
 * compared as wholes, as for API keys): someone given `members:update` or `members:invite`
 * through a binding cannot make anyone — themselves included — an admin. Taking a role away
 * (a demotion, a removal) is what those permissions are for; only the owner role is guarded
 * on the way out too (`assertOwner`). Owner and admin hold `*:*`: for them this reads nothing.
 */
export async function assertWithinOwn(c: AppScope, tenant: Pick<Tenant, 'schemaName'>, actor: MemberActor, role: string): Promise<void> {
  if (actor.grants.all) return
  const r = tenantTables(tenant.schemaName).roles
  const [row] = await c.var.db.select({ permissions: r.permissions }).from(r).where(eq(r.name, role)).limit(1)
  assertGrantCeiling(actor.grants, row?.permissions ?? [], role)
}

/**
 * SQL for a guarded statement: the actor is still what the decision was made on when the
 * statement runs — a user still an active member with the role it had (or one of `roles`), an
 * API key still live. Bindings are not re-read here: the permission itself was decided on the
 * model version the request read.
 */
export function actorStillHolds(s: Name, actor: MemberActor, roles: readonly string[]): SQL {
  if (actor.subject.type === 'api_key') {
    return sql`exists (select 1 from ${s}.api_keys k where k.id = ${actor.subject.id} and k.revoked_at is null and (k.expires_at is null or k.expires_at > now()))`
  }
  if (roles.length === 0) return sql`false`
  const list = sql.join(roles.map((v) => sql`${v}`), sql`, `)
  return sql`exists (select 1 from ${s}.members a where a.user_id = ${actor.subject.id} and a.status = 'active' and a.role in (${list}))`
}
