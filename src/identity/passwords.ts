import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Password hashing.
 *
 * Choice: scrypt with N=2^14, r=8, p=5 — one of OWASP's equivalent minimum scrypt settings
 * (Password Storage Cheat Sheet: N=2^17/r=8/p=1 … N=2^14/r=8/p=5 …) and the strongest of them
 * that fits the platform: Workers cap PBKDF2 at 100,000 iterations (below OWASP's 600,000 for
 * PBKDF2-SHA256), `node:crypto` scrypt refuses N·r·p above 2^20, and an isolate has 128 MB —
 * N=2^17 would need 128 MiB for one hash, N=2^14 needs 16 MiB (128·N·r bytes).
 * p=5 multiplies CPU, not memory. One hash costs tens of milliseconds of CPU (see README: it
 * needs the paid plan's CPU limit, as does any OWASP-strength hash on Workers).
 *
 * The encoded hash carries its algorithm and parameters: `scrypt$ln=14,r=8,p=5$<salt>$<key>`
 * (base64url). PBKDF2-SHA256 hashes (`pbkdf2-sha256$i=<iterations>$<salt>$<key>`) are still
 * verified, capped at the production limit, so older or imported hashes keep working and
 * are upgraded on the next successful login (`needsRehash`).
 */

/**
 * `production` is the only profile a deployment may use (config refuses `test` when ENVIRONMENT
 * is production). `test` keeps the same algorithm and code path at a fraction of the cost, so the
 * test suite's hundreds of sign-ups do not each pay a production hash; one test pins and measures
 * the production parameters.
 */
export const PROFILES = {
  production: { ln: 14, r: 8, p: 5 },
  test: { ln: 10, r: 8, p: 1 },
} as const
export type PasswordHashProfile = keyof typeof PROFILES
export const CURRENT = PROFILES.production
const KEY_LENGTH = 32
const SALT_BYTES = 16
/** Cloudflare Workers refuse PBKDF2 above this many iterations. */
export const PBKDF2_MAX_ITERATIONS = 100_000

type Params = { alg: 'scrypt'; ln: number; r: number; p: number } | { alg: 'pbkdf2-sha256'; i: number }

const b64 = (buf: Uint8Array) => Buffer.from(buf).toString('base64url')

function scryptKey(password: string, salt: Buffer, ln: number, r: number, p: number, length: number): Promise<Buffer> {
  const N = 2 ** ln
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, length, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

function pbkdf2Key(password: string, salt: Buffer, iterations: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(password.normalize('NFKC'), salt, iterations, length, 'sha256', (err, key) => (err ? reject(err) : resolve(key))),
  )
}

/** A new hash with the profile's parameters (config's PASSWORD_HASH_PROFILE). */
export async function hashPassword(password: string, profile: PasswordHashProfile): Promise<string> {
  const { ln, r, p } = PROFILES[profile]
  const salt = randomBytes(SALT_BYTES)
  const key = await scryptKey(password, salt, ln, r, p, KEY_LENGTH)
  return `scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(key)}`
}

/** For imported or legacy hashes and the upgrade path; new hashes are scrypt. */
export async function hashPasswordPbkdf2(password: string, iterations: number = PBKDF2_MAX_ITERATIONS): Promise<string> {
  if (iterations > PBKDF2_MAX_ITERATIONS) throw new RangeError(`PBKDF2 is capped at ${PBKDF2_MAX_ITERATIONS} iterations on Workers`)
  const salt = randomBytes(SALT_BYTES)
  const key = await pbkdf2Key(password, salt, iterations, KEY_LENGTH)
  return `pbkdf2-sha256$i=${iterations}$${b64(salt)}$${b64(key)}`
}

function parse(encoded: string): { params: Params; salt: Buffer; key: Buffer } | undefined {
  const [alg, paramText, salt, key] = encoded.split('$')
  if (!paramText || !salt || !key) return undefined
  const fields = Object.fromEntries(paramText.split(',').map((kv) => kv.split('=') as [string, string]))
  const num = (k: string) => (/^\d+$/.test(fields[k] ?? '') ? Number(fields[k]) : NaN)
  let params: Params
  if (alg === 'scrypt') params = { alg, ln: num('ln'), r: num('r'), p: num('p') }
  else if (alg === 'pbkdf2-sha256') params = { alg, i: num('i') }
  else return undefined
  if (Object.values(params).some((v) => typeof v === 'number' && !Number.isFinite(v))) return undefined
  return { params, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') }
}

/** Constant-time verification against any supported encoding; false for unknown formats. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded)
  if (!parsed) return false
  const { params, salt, key } = parsed
  let derived: Buffer
  if (params.alg === 'scrypt') {
    if (params.ln > 20 || params.r * params.p * 2 ** params.ln > 2 ** 20) return false
    derived = await scryptKey(password, salt, params.ln, params.r, params.p, key.length)
  } else {
    if (params.i > PBKDF2_MAX_ITERATIONS) return false
    derived = await pbkdf2Key(password, salt, params.i, key.length)
  }
  return derived.length === key.length && timingSafeEqual(derived, key)
}

/** True when the hash was made with other (older or weaker) settings than the profile's. */
export function needsRehash(encoded: string, profile: PasswordHashProfile): boolean {
  const parsed = parse(encoded)
  if (!parsed || parsed.params.alg !== 'scrypt') return true
  const { ln, r, p } = parsed.params
  const current = PROFILES[profile]
  return ln !== current.ln || r !== current.r || p !== current.p
}

/**
 * A hash of a random password, verified when the account does not exist, so that an unknown
 * email costs the same time as a wrong password.
 */
const dummies = new Map<PasswordHashProfile, Promise<string>>()
export function dummyHash(profile: PasswordHashProfile): Promise<string> {
  let dummy = dummies.get(profile)
  if (!dummy) {
    dummy = hashPassword(b64(randomBytes(16)), profile)
    dummies.set(profile, dummy)
  }
  return dummy
}
