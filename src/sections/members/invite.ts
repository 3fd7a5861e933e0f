import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { auditFrom, changeDeps, commitChange, type Change } from '../../changes/commit.ts'
import { uuidv7 } from '../../db/ids.ts'
import { tenantTables, type TenantTables } from '../../db/tenant-schema.ts'
import { AppError, fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { hashToken, randomToken } from '../../identity/secrets.ts'
import { findUserByEmail } from '../../identity/users.ts'
import type { BuiltInRole } from '../../identity/memberships.ts'
import { mailSender } from '../../platform/mail/index.ts'
import { appLink } from '../../tenancy/app-links.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import type { WebhookEvent, WebhookEventType } from '../../webhooks/outbox.ts'
import { assertOwner, assertWithinOwn, auditActor, eventActor, isPlatformAdmin, type Inviter, type MemberActor } from './actor.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { MemberErrors } from './errors.ts'
import { invitationMail } from './invitation-mail.ts'
import { findMember } from './member-store.ts'

type C = AppScope
export type InvitationRow = TenantTables['invitations']['$inferSelect']

export const INVITATION_TTL_DAYS = 7

/** Pending = neither accepted nor revoked, and not expired. */
export function pendingInvitation(t: TenantTables) {
  return and(isNull(t.invitations.acceptedAt), isNull(t.invitations.revokedAt), sql`${t.invitations.expiresAt} > now()`)
}

export function invitationStatus(row: InvitationRow): 'pending' | 'accepted' | 'revoked' | 'expired' {
  if (row.acceptedAt) return 'accepted'
  if (row.revokedAt) return 'revoked'
  return new Date(row.expiresAt).getTime() <= Date.now() ? 'expired' : 'pending'
}

const iso = (v: string | null) => (v ? new Date(v).toISOString() : null)
export function presentInvitation(row: InvitationRow) {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    status: invitationStatus(row),
    invited_by: row.invitedBy,
    created_at: iso(row.createdAt)!,
    expires_at: iso(row.expiresAt)!,
    accepted_at: iso(row.acceptedAt),
    revoked_at: iso(row.revokedAt),
  }
}

/**
 * POST /v1/invitations (and the platform's POST /v1/tenants/:id/invitations). The mail goes out
 * before anything is written: when the mail service refuses, the caller gets 503 and no
 * invitation exists; the token travels only in the mail (stored as SHA-256), so not even the
 * inviting admin can use it. The invitation, its audit entry and the member.invited event are one
 * batch. `invited_by` is the inviting user, the API key that invited (the event's `actor.type` says
 * which), or null for the platform admin, who is held to none of the tenant's rules.
 */
export async function createInvitation(c: C, tenant: Tenant, inviter: Inviter, input: { email: string; role: BuiltInRole }) {
  if (!isPlatformAdmin(inviter)) {
    if (input.role === 'owner') assertOwner(inviter)
    await assertWithinOwn(c, tenant, inviter, input.role)
  }
  const db = c.var.db
  const t = tenantTables(tenant.schemaName)
  const account = await findUserByEmail(db, input.email)
  if (account && (await findMember(db, tenant, account.id))) throw fail(MemberErrors, 'already_member')
  const [pending] = await db.select({ id: t.invitations.id }).from(t.invitations).where(and(eq(t.invitations.email, input.email), pendingInvitation(t))).limit(1)
  if (pending) throw fail(MemberErrors, 'invitation_pending', undefined, { invitation_id: pending.id })

  const { id, change } = await mailInvitation(c, tenant, inviter, input)
  const { results } = await commitChange(changeDeps(c), {
    tenant,
    ...change,
    // An Idempotency-Key's mark commits with the invitation (src/middleware/idempotency).
    marks: c.var.idempotency ? [c.var.idempotency.committed(`/v1/invitations/${id}`)] : [],
  })
  return (results[0] as InvitationRow[])[0]!
}

/**
 * Mail an invitation and answer the change that records it (the invitation row, returned first,
 * its audit entry, its event), for the caller's `commitChange`: createInvitation's own, or the
 * change that provisions a new tenant together with its owner's invitation.
 */
export async function mailInvitation(c: C, tenant: Pick<Tenant, 'slug' | 'name' | 'schemaName'>, inviter: Inviter, input: { email: string; role: BuiltInRole }) {
  const db = c.var.db
  const t = tenantTables(tenant.schemaName)
  const token = randomToken()
  const id = uuidv7()
  const expiresAt = new Date(Date.now() + INVITATION_TTL_DAYS * 24 * 3600 * 1000).toISOString()
  const link = appLink(c, tenant, 'invitation', token)
  try {
    await mailSender(c.var.config, c.var.redis).send(invitationMail({ to: input.email, organization: tenant.name, role: input.role, link, expiresInDays: INVITATION_TTL_DAYS }))
  } catch (err) {
    throw new AppError(MemberErrors.mail_unavailable[0], 'mail_unavailable', MemberErrors.mail_unavailable[1], undefined, { cause: err })
  }
  const invitedBy = isPlatformAdmin(inviter) ? null : inviter.subject.id
  const change = {
    meta: requestMeta(c),
    statements: [db.insert(t.invitations).values({ id, email: input.email, role: input.role, tokenHash: await hashToken(token), invitedBy, expiresAt }).returning()],
    audit: { action: 'member.invited', ...auditActor(inviter), targetType: 'invitation', targetId: id, details: { email: input.email, role: input.role } },
    events: [{ type: 'member.invited', data: { invitation_id: id, email: input.email, role: input.role, expires_at: expiresAt, invited_by: invitedBy }, actor: eventActor(inviter) } as WebhookEvent<WebhookEventType>],
  } satisfies Omit<Change, 'tenant'>
  return { id, expiresAt, change }
}

/** GET /v1/invitations: pending invitations, newest first (keyset on the time-ordered id). */
export async function listPendingInvitations(c: C, tenant: Tenant, page: { limit: number; cursor?: string }) {
  const t = tenantTables(tenant.schemaName)
  const before = page.cursor ? decodeCursor(page.cursor, ['uuid'])[0] : undefined
  const rows = await c.var.db
    .select()
    .from(t.invitations)
    .where(and(pendingInvitation(t), before ? lt(t.invitations.id, before) : undefined))
    .orderBy(desc(t.invitations.id))
    .limit(page.limit + 1)
  const data = rows.slice(0, page.limit)
  return { data, nextCursor: rows.length > page.limit ? encodeCursor([data.at(-1)!.id]) : null }
}

/**
 * DELETE /v1/invitations/:id. One statement revokes the invitation if it is still open and
 * writes the audit entry from the revoked row; an accepted or already revoked one is a 409.
 */
export async function revokeInvitation(c: C, tenant: Tenant, actor: MemberActor, id: string): Promise<InvitationRow> {
  const t = tenantTables(tenant.schemaName)
  const find = async () => (await c.var.db.select().from(t.invitations).where(eq(t.invitations.id, id)).limit(1))[0]
  const row = await find()
  if (!row) throw fail(MemberErrors, 'invitation_not_found')
  const notPending = (r: InvitationRow) => fail(MemberErrors, 'invitation_not_pending', `This invitation was already ${invitationStatus(r)}.`)
  if (row.acceptedAt || row.revokedAt) throw notPending(row)
  const s = sql.identifier(tenant.schemaName)
  const auditId = uuidv7()
  const { results } = await commitChange(changeDeps(c), { tenant, audit: { writtenBy: auditId }, statements: [c.var.db.execute<InvitationRow>(sql`
    with revoked as (
      update ${s}.invitations set revoked_at = now()
      where id = ${id} and accepted_at is null and revoked_at is null
      returning id
    ), logged as (
      ${auditFrom(tenant.schemaName, sql`revoked`, requestMeta(c), auditId, { action: 'invitation.revoked', ...auditActor(actor), targetType: 'invitation', targetId: id, details: { email: row.email, role: row.role } })}
    )
    select id from revoked`)] })
  const after = (await find())!
  if (!(results[0] as { rows: unknown[] }).rows.length) throw notPending(after)
  return after
}
