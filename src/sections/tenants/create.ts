import type { AppScope } from '../../app-env.ts'
import { tenantMigrations } from '../../../migrations/index.ts'
import { changeDeps, commitChange, type Change } from '../../changes/commit.ts'
import { authzVersionChanged } from '../../changes/effects.ts'
import { isPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.ts'
import { fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { findUserByEmail } from '../../identity/users.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { rememberProvisionedKey } from '../../tenancy/signing-keys.ts'
import { findTenantBySlug, provisioningStatements, provisionTenant, type AuditContext, type NewTenant, type Tenant } from '../../tenancy/registry.ts'
import { membershipStatements } from '../../identity/memberships.ts'
import { PLATFORM_ADMIN } from '../members/actor.ts'
import { mailInvitation } from '../members/invite.ts'

export type OwnerOutcome =
  | { status: 'added'; user_id: string; email: string }
  | { status: 'invited'; email: string; invitation_id: string; expires_at: string }

/**
 * POST /v1/tenants with `owner_email`. The tenant and its owner arrive together, in the batch that
 * provisions the tenant, so no tenant is ever left without the owner it was created for:
 *
 * - an account with that address **and a verified email** becomes the owner at once;
 * - otherwise an owner invitation is mailed (the accept link proves the mailbox), before anything is
 *   written: if the mail service refuses, the answer is 503 and no tenant exists. An unverified
 *   account is invited rather than made owner, because an unverified registration proves nothing
 *   about who holds the address (whoever typed it would own the tenant, with the power to mint API
 *   keys that outlive any later recovery of the address by its real owner).
 */
export async function createTenantWithOwner(c: AppScope, input: NewTenant, ownerEmail: string, ctx: AuditContext): Promise<{ tenant: Tenant; owner: OwnerOutcome }> {
  const db = c.var.db
  const account = await findUserByEmail(db, ownerEmail)
  const prepared = await provisioningStatements(db, input, ctx, { dataKey: c.var.config.DATA_ENCRYPTION_KEY })
  const base = { tenant: prepared, meta: requestMeta(c), marks: idempotencyMark(c, prepared.id) }
  let change: Change
  let owner: OwnerOutcome
  if (account?.emailVerifiedAt) {
    change = {
      ...base,
      statements: [...prepared.statements, ...membershipStatements(db, prepared, account.id, 'owner')],
      audit: { action: 'member.joined', actorType: ctx.actorType, actorId: ctx.actorId ?? null, targetType: 'user', targetId: account.id, details: { role: 'owner', via: 'platform_admin' } },
      // The members insert bumped the new tenant's authorization version (0006 trigger).
      effects: [authzVersionChanged(prepared)],
    }
    owner = { status: 'added', user_id: account.id, email: account.email }
  } else {
    // A slug already taken would otherwise be found out only after the mail went out.
    if (await findTenantBySlug(db, input.slug)) throw fail(TenantErrors, 'slug_taken', undefined, { slug: input.slug })
    const invitation = await mailInvitation(c, { slug: input.slug, name: input.name, schemaName: prepared.schemaName }, PLATFORM_ADMIN, { email: ownerEmail, role: 'owner' })
    change = { ...base, ...invitation.change, statements: [...prepared.statements, ...invitation.change.statements] }
    owner = { status: 'invited', email: ownerEmail, invitation_id: invitation.id, expires_at: invitation.expiresAt }
  }
  let tenant: Tenant
  try {
    const { results } = await commitChange(changeDeps(c), change)
    tenant = (results[0] as Tenant[])[0]!
  } catch (err) {
    if (isPgError(err, UNIQUE_VIOLATION, 'tenants_slug_unique')) throw fail(TenantErrors, 'slug_taken', undefined, { slug: input.slug })
    throw err
  }
  await rememberProvisionedKey(tenant.id, prepared.signingKey)
  return { tenant, owner }
}

/** An Idempotency-Key's mark, committed in the batch that creates the tenant (src/middleware/idempotency). */
const idempotencyMark = (c: AppScope, tenantId: string) => (c.var.idempotency ? [c.var.idempotency.committed(`/v1/tenants/${tenantId}`)] : [])

/** POST /v1/tenants: without an owner, as before; with `owner_email`, together with its owner. */
export async function createTenant(c: AppScope, body: NewTenant & { owner_email?: string }, ctx: AuditContext) {
  const { owner_email: ownerEmail, ...input } = body
  if (!ownerEmail) return { tenant: await provisionTenant(c.var.db, input, ctx, { dataKey: c.var.config.DATA_ENCRYPTION_KEY }, tenantMigrations, (id) => idempotencyMark(c, id)), owner: undefined }
  return createTenantWithOwner(c, input, ownerEmail, ctx)
}
