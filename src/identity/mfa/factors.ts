import type { RequestScope } from '../../platform/request-scope.ts'
import { decryptSecret, hashToken } from '../secrets.ts'
import { matchTotpStep, normaliseTotpCode } from './totp.ts'
import { canonicalBackupCode } from './backup-codes.ts'
import { mfaStore, totpSecretContext, type MfaRow } from './store.ts'

export type SpentFactor =
  | { ok: true; method: 'totp'; step: number }
  | { ok: true; method: 'backup_code'; remaining: number }
  | { ok: false; reason: 'incorrect_code' | 'replayed' }

/** The user's TOTP seed, decrypted (bound to the user: a row copied to another user does not decrypt). */
export function totpSecretOf(c: Pick<RequestScope, 'var'>, userId: string, row: Pick<MfaRow, 'secretEnc'>): Promise<string> {
  return decryptSecret(c.var.config.DATA_ENCRYPTION_KEY, row.secretEnc, totpSecretContext(userId))
}

/**
 * Check a second factor of a user with TOTP on, and spend it: a TOTP code from the current
 * step ± 1 that is later than the last accepted one, or an unused backup code. Each is spent
 * by one conditional UPDATE, so the same code presented twice at once succeeds once.
 */
export async function spendSecondFactor(c: Pick<RequestScope, 'var'>, userId: string, row: MfaRow, code: string): Promise<SpentFactor> {
  const store = mfaStore(c.var.db)
  if (normaliseTotpCode(code)) {
    const step = matchTotpStep(await totpSecretOf(c, userId, row), code, Date.now())
    if (step === null) return { ok: false, reason: 'incorrect_code' }
    return (await store.useStep(userId, step)) ? { ok: true, method: 'totp', step } : { ok: false, reason: 'replayed' }
  }
  const backup = canonicalBackupCode(code)
  if (!backup || !(await store.useBackupCode(userId, await hashToken(backup)))) return { ok: false, reason: 'incorrect_code' }
  return { ok: true, method: 'backup_code', remaining: await store.backupCodesLeft(userId) }
}
