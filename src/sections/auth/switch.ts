import type { SignedInVariables } from '../../middleware/auth/index.ts'
import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import type { AppScope, TenantScope } from '../../app-env.ts'
import { UUID_PATTERN } from '../../db/ids.ts'
import { memberships } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError, fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { createMfaChallenge } from '../../identity/mfa/challenge.ts'
import { hasTotpEnabled } from '../../identity/mfa/status.ts'
import { startSession } from '../../identity/sessions.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { findTenantById, findTenantBySlug, type Tenant } from '../../tenancy/registry.ts'

/** The live session behind the caller's access token: its absolute end and whether it passed MFA. */
async function sourceSession(c: AppScope, tenant: Tenant, userId: string, sessionId: string | undefined) {
  if (!sessionId || !UUID_PATTERN.test(sessionId)) return undefined
  const t = tenantTables(tenant.schemaName)
  const rows = await c.var.db
    .select({ expiresAt: t.sessions.expiresAt, mfa: t.sessions.mfa })
    .from(t.sessions)
    .where(and(eq(t.sessions.id, sessionId), eq(t.sessions.userId, userId), isNull(t.sessions.revokedAt), gt(t.sessions.expiresAt, sql`now()`)))
    .limit(1)
  return rows[0]
}

/**
 * The org switcher: a session in another tenant the user belongs to, opened from the current
 * one. A switch is not a sign-in: the new session ends when the source session ends (it never
 * extends it) and has the source's MFA level. A source that did not pass MFA, for a user who
 * has TOTP on, gets the same second-factor challenge a password sign-in into the target would
 * (completed on the target's host); a user without TOTP switching into a `require_mfa` tenant
 * gets a session that the enrolment gate holds, as after any sign-in.
 */
export async function switchTenant(c: TenantScope<SignedInVariables>, key: string) {
  const auth = c.var.auth
  const source = await sourceSession(c, c.var.tenant, auth.sub, auth.sid)
  if (!source) throw commonError('invalid_token', 'The session of this access token has ended.')
  const lookup = key.toLowerCase()
  const target = UUID_PATTERN.test(lookup) ? await findTenantById(c.var.db, lookup) : await findTenantBySlug(c.var.db, lookup)
  if (!target || target.status !== 'active') throw fail(TenantErrors, 'tenant_not_found')
  const member = await c.var.db.select().from(memberships).where(and(eq(memberships.tenantId, target.id), eq(memberships.userId, auth.sub))).limit(1)
  if (!member.length) throw fail(IdentityErrors, 'not_a_member')
  const tenant = { id: target.id, slug: target.slug }
  if (!source.mfa && (await hasTotpEnabled(c.var.db, auth.sub))) {
    const mfaToken = await createMfaChallenge(c.var.redis, { userId: auth.sub, tenantId: target.id, sessionExpiresAt: source.expiresAt })
    return { mfa_required: true as const, mfa_token: mfaToken, tenant }
  }
  const { tokens } = await startSession(await sessionDeps(c, target), target, auth.sub, requestMeta(c), {
    action: 'user.switched_in',
    mfa: source.mfa,
    expiresAt: source.expiresAt,
  })
  return { ...tokens, tenant }
}
