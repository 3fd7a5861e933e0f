import type { BatchItem } from 'drizzle-orm/batch'
import { createRoute } from '@hono/zod-openapi'
import type { AppScope, TenantScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { fail } from '../../errors.ts'
import { auditInsert, requestMeta, userEventInsert } from '../../identity/audit.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { verifyPassword } from '../../identity/passwords.ts'
import { encryptSecret, hashToken } from '../../identity/secrets.ts'
import { matchTotpStep, newTotpSecret, totpUri } from '../../identity/mfa/totp.ts'
import { findUserById } from '../../identity/users.ts'
import type { SignedInVariables } from '../../middleware/auth/index.ts'
import { selfService } from '../../middleware/membership/index.ts'
import { forgetMfaEnabled, rememberMfaEnabled } from '../../identity/mfa/status.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, json, body, security } from '../../openapi.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { TokenResponse } from '../../identity/schemas.ts'
import { newBackupCodes } from '../../identity/mfa/backup-codes.ts'
import { MfaErrors } from '../../identity/mfa/errors.ts'
import { spendSecondFactor, totpSecretOf } from '../../identity/mfa/factors.ts'
import { qrSvg } from './qr.ts'
import { BackupCodes, ConfirmTotpBody, DisableMfaBody, MfaStatus, RegenerateBackupCodesBody, TotpEnrolment, VerifyMfaBody } from './schemas.ts'
import { completeMfaSignIn } from '../../identity/mfa/sign-in.ts'
import { mfaStore, totpSecretContext } from '../../identity/mfa/store.ts'

const tags = ['MFA']

type C = AppScope

/** The signed-in user; the token outlived the account only if it was deleted meanwhile. */
async function currentUser(c: AppScope<SignedInVariables>) {
  const user = await findUserById(c.var.db, c.var.auth.sub)
  if (!user) throw fail(IdentityErrors, 'not_a_member')
  return user
}

/** Secrets and backup codes must not linger in a cache between here and the user. */
const noStore = (c: C) => c.header('Cache-Control', 'no-store')

/** A refused proof (wrong code or password) on the signed-in endpoints, in the tenant's audit log. */
function auditFailure(c: TenantScope, userId: string, stage: string, reason: string) {
  return auditInsert(c.var.db, c.var.tenant.schemaName, requestMeta(c), { action: 'mfa.failed', actorId: userId, targetType: 'user', targetId: userId, outcome: 'failure', details: { stage, reason } })
}

/** A change to the account's MFA: the user's own event and the tenant's audit entry, with the change's statements, one commit. */
function commitOwnChange(c: TenantScope, userId: string, action: string, details: { event: Record<string, unknown>; audit: Record<string, unknown> }, statements: BatchItem<'pg'>[] = []) {
  const tenant = c.var.tenant
  const meta = requestMeta(c)
  return commitChange(changeDeps(c), {
    tenant,
    meta,
    statements: [...statements, userEventInsert(c.var.db, userId, meta, action, { ...details.event, tenant: tenant.id })],
    audit: { action, actorId: userId, targetType: 'user', targetId: userId, details: details.audit },
  })
}

/**
 * Two-factor authentication (TOTP, RFC 6238, with backup codes). Enrolment is per account and
 * lives in the public tables; every event is written to the audit log of the tenant it
 * happened on. /v1/me/mfa* for the signed-in user, /v1/auth/mfa/verify for the second sign-in step.
 */
export function registerMfaRoutes(app: ReturnType<typeof sectionRouter>) {
  const me = sectionRouter()

  me.openapi(
    createRoute({
      method: 'get', path: '/', middleware: selfService(), tags, security, summary: 'Whether two-factor authentication is on, and how many backup codes are left',
      responses: { 200: json(MfaStatus, 'MFA status'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const userId = c.var.auth.sub
      const store = mfaStore(c.var.db)
      const [row, left] = await Promise.all([store.find(userId), store.backupCodesLeft(userId)])
      const enabledAt = row?.enabledAt ? new Date(row.enabledAt).toISOString() : null
      return c.json({ totp: { enabled: Boolean(enabledAt), enabled_at: enabledAt, pending: Boolean(row && !row.enabledAt) }, backup_codes_remaining: enabledAt ? left : 0 }, 200)
    },
  )

  me.openapi(
    createRoute({
      method: 'post', path: '/totp', middleware: selfService(), tags, security,
      summary: 'Start TOTP enrolment: a new secret (replacing an unconfirmed one), as text, otpauth URI and SVG QR code. Confirm with POST /v1/me/mfa/totp/confirm.',
      responses: { 201: json(TotpEnrolment, 'The secret to put in an authenticator app'), ...errorResponses(401, 403, 409) },
    }),
    async (c) => {
      const user = await currentUser(c)
      const secret = newTotpSecret()
      const sealed = await encryptSecret(c.var.config.DATA_ENCRYPTION_KEY, secret, totpSecretContext(user.id))
      if (!(await mfaStore(c.var.db).startEnrolment(user.id, sealed))) throw fail(MfaErrors, 'mfa_already_enabled')
      const otpauthUri = totpUri({ secretBase32: secret, issuer: c.var.tenant.name, label: user.email })
      noStore(c)
      return c.json({ secret, otpauth_uri: otpauthUri, qr_svg: qrSvg(otpauthUri) }, 201)
    },
  )

  me.openapi(
    createRoute({
      method: 'post', path: '/totp/confirm', tags, security, middleware: [...selfService(), credentialThrottle] as const,
      summary: 'Confirm TOTP enrolment with a code from the app: turns MFA on and answers ten backup codes, this once',
      request: body(ConfirmTotpBody),
      responses: { 200: json(BackupCodes, 'MFA is on; the backup codes'), ...errorResponses(400, 401, 403, 409, 429) },
    }),
    async (c) => {
      const userId = c.var.auth.sub
      const store = mfaStore(c.var.db)
      const row = await store.find(userId)
      if (!row) throw fail(MfaErrors, 'mfa_enrolment_not_started')
      if (row.enabledAt) throw fail(MfaErrors, 'mfa_already_enabled')
      const step = matchTotpStep(await totpSecretOf(c, userId, row), c.req.valid('json').code, Date.now())
      if (step === null) {
        await auditFailure(c, userId, 'enrolment', 'incorrect_code')
        throw fail(MfaErrors, 'incorrect_mfa_code')
      }
      const codes = newBackupCodes()
      const confirmed = await store.confirm(userId, row.secretEnc, step, await Promise.all(codes.map(hashToken)))
      if (!confirmed) {
        // Confirmed or replaced by a concurrent request since it was read.
        throw fail(MfaErrors, (await store.find(userId))?.enabledAt ? 'mfa_already_enabled' : 'mfa_enrolment_not_started')
      }
      await commitOwnChange(c, userId, 'mfa.enrolled', { event: { method: 'totp' }, audit: { method: 'totp', backup_codes: codes.length } })
      await rememberMfaEnabled(c.var, userId)
      noStore(c)
      return c.json({ backup_codes: codes }, 200)
    },
  )

  me.openapi(
    createRoute({
      method: 'post', path: '/backup-codes', tags, security, middleware: [...selfService(), credentialThrottle] as const,
      summary: 'Replace the backup codes with ten new ones (the old ones stop working), shown this once. Needs a current TOTP code or an unused backup code.',
      request: body(RegenerateBackupCodesBody),
      responses: { 200: json(BackupCodes, 'The new backup codes'), ...errorResponses(400, 401, 403, 404, 429) },
    }),
    async (c) => {
      const userId = c.var.auth.sub
      const store = mfaStore(c.var.db)
      const row = await store.find(userId)
      if (!row?.enabledAt) throw fail(MfaErrors, 'mfa_not_enabled')
      const spent = await spendSecondFactor(c, userId, row, c.req.valid('json').code)
      if (!spent.ok) {
        await auditFailure(c, userId, 'backup_codes', spent.reason)
        throw fail(MfaErrors, 'incorrect_mfa_code')
      }
      const codes = newBackupCodes()
      // Turned off meanwhile: nothing was written.
      if (!(await store.replaceBackupCodes(userId, await Promise.all(codes.map(hashToken))))) throw fail(MfaErrors, 'mfa_not_enabled')
      await commitOwnChange(c, userId, 'mfa.backup_codes_regenerated', { event: {}, audit: { backup_codes: codes.length, method: spent.method } })
      noStore(c)
      return c.json({ backup_codes: codes }, 200)
    },
  )

  me.openapi(
    createRoute({
      method: 'delete', path: '/', tags, security, middleware: [...selfService(), credentialThrottle] as const,
      summary: 'Turn two-factor authentication off (TOTP and backup codes). Needs the password; an account without one sends a TOTP or backup code instead.',
      request: body(DisableMfaBody),
      responses: { 204: { description: 'MFA is off' }, ...errorResponses(400, 401, 403, 404, 429) },
    }),
    async (c) => {
      const user = await currentUser(c)
      const { password, code } = c.req.valid('json')
      const store = mfaStore(c.var.db)
      const row = await store.find(user.id)
      if (!row) throw fail(MfaErrors, 'mfa_not_enabled')

      const refuse = async (reason: string, error: keyof typeof MfaErrors) => {
        await auditFailure(c, user.id, 'disable', reason)
        return fail(MfaErrors, error)
      }
      if (user.passwordHash) {
        if (password === undefined) throw fail(MfaErrors, 'password_required')
        if (!(await verifyPassword(password, user.passwordHash))) throw await refuse('incorrect_password', 'incorrect_password')
      } else if (row.enabledAt) {
        // Social sign-in only: no password to ask for, so the second factor itself proves it is the owner.
        if (code === undefined) throw fail(MfaErrors, 'mfa_code_required')
        const spent = await spendSecondFactor(c, user.id, row, code)
        if (!spent.ok) throw await refuse(spent.reason, 'incorrect_mfa_code')
      }
      // (An unconfirmed enrolment of an account without password protects nothing yet: the session is enough.)

      const wasEnabled = Boolean(row.enabledAt)
      await commitOwnChange(c, user.id, 'mfa.disabled', { event: { was_enabled: wasEnabled }, audit: { was_enabled: wasEnabled } }, [...store.removal(user.id)])
      await forgetMfaEnabled(c.var, user.id)
      return c.body(null, 204)
    },
  )

  const auth = sectionRouter()
  auth.openapi(
    createRoute({
      method: 'post', path: '/verify', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Complete a sign-in that answered mfa_required: a TOTP code or a backup code, within 5 minutes and 5 attempts',
      request: body(VerifyMfaBody),
      responses: { 200: json(TokenResponse, 'Signed in (the session is marked as MFA-verified)'), ...errorResponses(400, 401, 403, 429) },
    }),
    async (c) => {
      const { mfa_token, code } = c.req.valid('json')
      noStore(c)
      return c.json(await completeMfaSignIn(c, c.var.tenant, mfa_token, code), 200)
    },
  )

  app.route('/v1/me/mfa', me)
  app.route('/v1/auth/mfa', auth)
}
