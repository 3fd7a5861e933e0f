import { eq } from 'drizzle-orm'
import type { AppScope } from '../../app-env.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { lockedFor } from '../../identity/lockout.ts'
import { findUserById, type User } from '../../identity/users.ts'
import { dependencyFailure } from '../../platform/dependency-errors.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { completeLogin } from '../../identity/sign-in.ts'
import { createHandoff, handoffTarget } from '../handoff/handoff.ts'
import { createOwnTenant, type NewOwnTenant } from './create.ts'
import { WorkspaceErrors } from './errors.ts'
import { peekSelection, takeSelection, type SelectionGrant } from './selection.ts'

type C = AppScope

/** Without Redis there is no selection credential: refuse plainly rather than answer "invalid". */
async function redisCall<T>(c: C, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    c.var.logger.error('workspace selection unavailable', { err })
    throw dependencyFailure(err) ?? commonError('service_unavailable')
  }
}

/** The account a grant was issued to, if the grant still describes it (same password as at sign-in). */
async function accountOf(c: C, grant: SelectionGrant | null): Promise<User> {
  const user = grant ? await findUserById(c.var.db, grant.userId) : undefined
  if (!user || (user.passwordChangedAt ?? null) !== grant!.passwordChangedAt) throw fail(WorkspaceErrors, 'invalid_selection')
  return user
}

/**
 * The checks of a choice, then the credential used up: still valid, the user still an active
 * member, the account not locked in this tenant — checked before the credential is used up,
 * so a refused choice leaves it usable for another one; then GETDEL makes it single-use.
 */
async function admitSelection(c: C, tenant: Tenant, user: User, token: string) {
  const t = tenantTables(tenant.schemaName)
  const [member] = await c.var.db.select({ status: t.members.status }).from(t.members).where(eq(t.members.userId, user.id)).limit(1)
  if (member?.status !== 'active') throw fail(IdentityErrors, 'not_a_member')
  let locked = 0
  try {
    locked = await lockedFor(c.var.redis, tenant.id, user.email)
  } catch (err) {
    c.var.logger.warn('lockout unavailable', { err })
  }
  if (locked > 0) {
    c.header('Retry-After', String(locked))
    throw fail(IdentityErrors, 'account_locked', undefined, { retry_after: locked })
  }
  if (!(await redisCall(c, () => takeSelection(c.var.redis, token)))) throw fail(WorkspaceErrors, 'invalid_selection')
}

/**
 * POST /v1/auth/select on the chosen tenant's host: the selection credential from a platform
 * sign-in becomes a sign-in here, as any sign-in on this host completes (`completeLogin`:
 * tokens, or the MFA challenge).
 */
export async function exchangeSelection(c: C, tenant: Tenant, token: string) {
  const user = await accountOf(c, await redisCall(c, () => peekSelection(c.var.redis, token)))
  await admitSelection(c, tenant, user, token)
  return completeLogin(c, tenant, user, { action: 'user.login_platform' })
}

/**
 * POST /v1/auth/select/handoff on the platform host (the web app's workspace picker): the same
 * checks, but the answer is a handoff code for the chosen tenant's host — its page redeems it
 * for that host's own cookie — so no token of the tenant is ever held by the platform page.
 * The code carries no MFA: an account with TOTP on is asked for it there.
 */
export async function handOffSelection(c: C, token: string, tenantKey: string) {
  const user = await accountOf(c, await redisCall(c, () => peekSelection(c.var.redis, token)))
  const tenant = await handoffTarget(c, tenantKey, user.id)
  await admitSelection(c, tenant, user, token)
  return createHandoff(c, tenant, user.id, false)
}

/** POST /v1/auth/workspaces on the platform host: the credential is used up to create a new organization, and signs in there. */
export async function createWithSelection(c: C, token: string, input: NewOwnTenant) {
  const user = await accountOf(c, await redisCall(c, () => takeSelection(c.var.redis, token)))
  return createOwnTenant(c, user, input)
}
