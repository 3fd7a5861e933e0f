import { and, eq, gt, sql } from 'drizzle-orm'
import type { AppScope, TenantScope } from '../../app-env.ts'
import { UUID_PATTERN } from '../../db/ids.ts'
import { memberships } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { tenantUrl } from '../../tenancy/hosts.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { createMfaChallenge } from '../../identity/mfa/challenge.ts'
import { hasTotpEnabled } from '../../identity/mfa/status.ts'
import { startSession } from '../../identity/sessions.ts'
import { findTenantById, findTenantBySlug, type Tenant } from '../../tenancy/registry.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { effectiveSettings } from '../../tenancy/settings.ts'
import { loginEvent } from '../../identity/sign-in.ts'
import { HandoffErrors } from './errors.ts'
import { HANDOFF_TTL_SECONDS, issueHandoff, takeHandoff } from './store.ts'

type C = AppScope

async function activeMembership(c: C, tenantId: string, userId: string) {
  const rows = await c.var.db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.userId, userId)))
    .limit(1)
  return rows[0] ?? null
}

/** The tenant a switcher names (slug or id), if it is active and the user belongs to it. */
export async function handoffTarget(c: C, key: string, userId: string): Promise<Tenant> {
  const lowered = key.toLowerCase()
  const target = UUID_PATTERN.test(lowered) ? await findTenantById(c.var.db, lowered) : await findTenantBySlug(c.var.db, lowered)
  if (!target || target.status !== 'active') throw fail(TenantErrors, 'tenant_not_found')
  if (!(await activeMembership(c, target.id, userId))) throw fail(IdentityErrors, 'not_a_member')
  return target
}

/** A single-use, 60-second code for the target tenant's host, and the page there that redeems it. */
export async function createHandoff(c: C, target: Tenant, userId: string, mfa: boolean, sessionExpiresAt?: string) {
  let code: string
  try {
    code = await issueHandoff(c.var.redis, { userId, tenantId: target.id, mfa, sessionExpiresAt })
  } catch (err) {
    c.var.logger.error('handoff: could not store the code', { err })
    throw commonError('service_unavailable')
  }
  const url = tenantUrl(c, target)
  // The code rides in the fragment: never sent to a server, never in a log or a Referer.
  return { tenant: { id: target.id, slug: target.slug, name: target.name }, url: `${url}/handoff#code=${code}`, expires_in: HANDOFF_TTL_SECONDS }
}

/** The current session (the access token's `sid`): whether it passed MFA and when it ends; 401 if it has ended. */
export async function sourceSession(c: TenantScope): Promise<{ mfa: boolean; expiresAt: string }> {
  const sid = c.var.auth?.sid
  const t = tenantTables(c.var.tenant.schemaName)
  const rows = sid && UUID_PATTERN.test(sid)
    ? await c.var.db.select({ mfa: t.sessions.mfa, expiresAt: t.sessions.expiresAt }).from(t.sessions).where(and(eq(t.sessions.id, sid), gt(t.sessions.expiresAt, sql`now()`))).limit(1)
    : []
  if (!rows[0]) throw commonError('invalid_token', 'The session of this access token has ended.')
  return rows[0]
}

/**
 * Redeem a handoff code on its tenant's host: a new session of this tenant for the user, or an
 * MFA challenge when the account has TOTP on and either the session it came from did not pass
 * MFA or this tenant requires MFA (a tenant that asks for MFA asks again).
 */
export async function redeemHandoff(c: TenantScope, code: string) {
  const tenant = c.var.tenant
  let grant
  try {
    grant = await takeHandoff(c.var.redis, tenant.id, code)
  } catch (err) {
    c.var.logger.error('handoff: could not read the code', { err })
    throw commonError('service_unavailable')
  }
  if (!grant) throw fail(HandoffErrors, 'invalid_handoff')
  if (!(await activeMembership(c, tenant.id, grant.userId))) throw fail(IdentityErrors, 'not_a_member')
  const t = tenantTables(tenant.schemaName)
  const [member] = await c.var.db.select({ status: t.members.status }).from(t.members).where(eq(t.members.userId, grant.userId)).limit(1)
  if (member?.status !== 'active') throw fail(IdentityErrors, 'not_a_member')

  const totp = await hasTotpEnabled(c.var.db, grant.userId)
  if (totp && (!grant.mfa || effectiveSettings(tenant.settings).requireMfa)) {
    return { mfa_required: true as const, mfa_token: await createMfaChallenge(c.var.redis, { userId: grant.userId, tenantId: tenant.id, sessionExpiresAt: grant.sessionExpiresAt }) }
  }
  const mfa = totp && grant.mfa
  const { tokens } = await startSession(await sessionDeps(c, tenant), tenant, grant.userId, requestMeta(c), {
    mfa,
    expiresAt: grant.sessionExpiresAt,
    action: 'user.handed_off',
    events: loginEvent(grant.userId, mfa),
  })
  return tokens
}
