import { Secret, TOTP } from 'otpauth'

/**
 * TOTP (RFC 6238) on top of `otpauth`. Pure functions: the caller passes the clock, keeps the
 * secret encrypted at rest and records the last accepted step (replay protection).
 *
 * The parameters are the ones every authenticator app understands (Google Authenticator ignores
 * anything else in the otpauth URI): HMAC-SHA1, 6 digits, 30-second steps.
 */
export const TOTP_ALGORITHM = 'SHA1'
export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
/** RFC 6238 §5.2 recommends at most one step of network delay / clock drift either way. */
export const TOTP_DRIFT_STEPS = 1
/** 160 bits, the HMAC-SHA1 output size (RFC 4226 §4 R6 asks for at least 128, recommends 160). */
export const TOTP_SECRET_BYTES = 20

export interface TotpParams {
  algorithm?: 'SHA1' | 'SHA256' | 'SHA512'
  digits?: number
  period?: number
}

/** A new random seed, base32 (RFC 4648, no padding) as authenticator apps read it. */
export function newTotpSecret(): string {
  return new Secret({ buffer: crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES)).buffer }).base32
}

/** The time step (RFC 6238 T) a Unix time in milliseconds falls in. */
export function totpStep(nowMs: number, period = TOTP_PERIOD_SECONDS): number {
  return Math.floor(nowMs / 1000 / period)
}

/** The code of a given time step. */
export function totpCode(secretBase32: string, step: number, params: TotpParams = {}): string {
  const period = params.period ?? TOTP_PERIOD_SECONDS
  return TOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: params.algorithm ?? TOTP_ALGORITHM,
    digits: params.digits ?? TOTP_DIGITS,
    period,
    timestamp: step * period * 1000,
  })
}

/** Strips the spaces and dashes people type ("123 456"); null if what is left is not a code. */
export function normaliseTotpCode(input: string, digits = TOTP_DIGITS): string | null {
  const code = input.replace(/[\s-]/g, '')
  return new RegExp(`^\\d{${digits}}$`).test(code) ? code : null
}

/**
 * The time step whose code `input` is, among the current step and `drift` steps either side,
 * or null. When several steps match (a 1-in-a-million coincidence), the latest wins, so a
 * replay check on "step > last used step" never refuses a fresh code because of an older twin.
 */
export function matchTotpStep(secretBase32: string, input: string, nowMs: number, drift = TOTP_DRIFT_STEPS, params: TotpParams = {}): number | null {
  const code = normaliseTotpCode(input, params.digits ?? TOTP_DIGITS)
  if (!code) return null
  const current = totpStep(nowMs, params.period ?? TOTP_PERIOD_SECONDS)
  let matched: number | null = null
  // Every candidate is computed and compared without an early exit: the time taken does not
  // tell which step (if any) matched.
  for (let step = current - drift; step <= current + drift; step++) {
    if (sameCode(totpCode(secretBase32, step, params), code)) matched = step
  }
  return matched
}

function sameCode(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/**
 * The otpauth:// URI an authenticator app scans (Key URI Format, google-authenticator wiki):
 * `otpauth://totp/<issuer>:<label>?issuer=…&secret=…&algorithm=SHA1&digits=6&period=30`.
 */
export function totpUri(input: { secretBase32: string; issuer: string; label: string }): string {
  return new TOTP({
    issuer: input.issuer,
    label: input.label,
    secret: Secret.fromBase32(input.secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString()
}
