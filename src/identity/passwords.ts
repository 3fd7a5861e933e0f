import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { argon2d, argon2i, argon2id, setWASMModules } from 'argon2-wasm-edge'
import argon2WASM from 'argon2-wasm-edge/wasm/argon2.wasm'
import blake2bWASM from 'argon2-wasm-edge/wasm/blake2b.wasm'
import { fail } from '../errors.ts'
import { IdentityErrors } from './errors.ts'

/**
 * Password hashing.
 *
 * Choice: Argon2id, m=19456 KiB, t=2, p=1 — OWASP's Password Storage Cheat Sheet: "Use Argon2id
 * with a minimum configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of
 * parallelism" (Argon2id is the algorithm it ranks first). One hash costs ≈57 ms of CPU in workerd,
 * about 40 % of scrypt N=2^14/r=8/p=5 (≈142 ms), the setting used before (`npm run bench`, the
 * README's Benchmarks section), at 19 MiB of memory
 * (the isolate has 128 MB). Any OWASP-strength hash is above the Workers free plan's 10 ms of CPU
 * per request: password sign-in needs the paid plan's limit (30 s by default).
 *
 * The implementation is `argon2-wasm-edge` 1.0.23: the WebAssembly of `hash-wasm` (Dani Biró's
 * widely used hashing library, MIT) with the `.wasm` files shipped as files, so that they can be
 * imported as modules — Workers refuse to compile WebAssembly from bytes at run time, which is
 * why `hash-wasm` itself cannot run there. Provenance, checked when it was adopted: its C sources
 * (src/argon2.c, src/blake2b.c) are identical to hash-wasm 4.13.0's, and its two `.wasm` binaries
 * are byte for byte the ones embedded in hash-wasm 4.11.0 (the release it forked); it has no
 * dependencies and no install scripts. It is maintained by one person and changes rarely, so the
 * version is pinned in the lock file and its output is checked against the Argon2 reference
 * implementation's test vectors and an independent implementation (@noble/hashes) in
 * test/passwords.test.ts: an upgrade that changed a single bit fails the suite. We compare the derived
 * key ourselves in constant time (its own `argon2Verify` compares strings).
 *
 * Production: wrangler bundles the two imported `.wasm` files as WebAssembly modules of the Worker
 * (`wrangler deploy --dry-run --outdir` lists them), the form Workers accept; the same import runs
 * under `wrangler dev` and the Vitest plugin.
 *
 * Every encoded hash carries its algorithm and parameters: new ones are PHC strings
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>`, unpadded base64), so other Argon2 libraries read
 * them too. Older and imported hashes still verify — scrypt (`scrypt$ln=14,r=8,p=5$<salt>$<key>`),
 * PBKDF2-SHA256 (`pbkdf2-sha256$i=<iterations>$<salt>$<key>`, capped at the Workers limit) and
 * Argon2i/d/id PHC strings — and are upgraded on the next successful login (`needsRehash`).
 */

setWASMModules({ argon2WASM, blake2bWASM })

/**
 * `production` is the only profile a deployment may use (config refuses `test` when ENVIRONMENT
 * is production). `test` keeps the same algorithm and code path at a fraction of the cost, so the
 * test suite's hundreds of sign-ups do not each pay a production hash; test/passwords.test.ts pins and
 * checks the production parameters.
 */
export const PROFILES = {
  production: { m: 19456, t: 2, p: 1 },
  test: { m: 256, t: 1, p: 1 },
} as const
export type PasswordHashProfile = keyof typeof PROFILES
export const CURRENT = PROFILES.production
/** OWASP's minimum for Argon2id (memory in KiB at t=2, p=1); a test holds PROFILES.production to it. */
export const OWASP_ARGON2ID_MINIMUM = { m: 19456, t: 2, p: 1 } as const

const KEY_LENGTH = 32
const SALT_BYTES = 16
/** Cloudflare Workers refuse PBKDF2 above this many iterations. */
export const PBKDF2_MAX_ITERATIONS = 100_000
/** Upper bounds for verifying a stored Argon2 hash: 64 MiB (half an isolate) and bounded work. */
const ARGON2_MAX = { m: 65536, t: 10, p: 4, work: 65536 * 4 } as const

type Argon2Type = 'argon2id' | 'argon2i' | 'argon2d'
type Params =
  | { alg: Argon2Type; m: number; t: number; p: number }
  | { alg: 'scrypt'; ln: number; r: number; p: number }
  | { alg: 'pbkdf2-sha256'; i: number }

const ARGON2 = { argon2id, argon2i, argon2d } as const

const b64url = (buf: Uint8Array) => Buffer.from(buf).toString('base64url')
/** PHC strings use standard base64 without padding. */
const b64phc = (buf: Uint8Array) => Buffer.from(buf).toString('base64').replace(/=+$/, '')

// One Argon2 hash at a time per isolate: the isolate has one thread, so queueing costs no throughput,
// and at most one 19 MiB WebAssembly memory is in use at once.
let argon2Queue: Promise<unknown> = Promise.resolve()

function argon2Key(type: Argon2Type, password: string, salt: Uint8Array, m: number, t: number, p: number, length: number): Promise<Uint8Array> {
  const run = () =>
    ARGON2[type]({ password: password.normalize('NFKC'), salt, memorySize: m, iterations: t, parallelism: p, hashLength: length, outputType: 'binary' })
  const result = argon2Queue.then(run, run)
  argon2Queue = result.catch(() => undefined)
  return result
}

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

/** A new Argon2id hash with the profile's parameters (config's PASSWORD_HASH_PROFILE). */
export async function hashPassword(password: string, profile: PasswordHashProfile): Promise<string> {
  const { m, t, p } = PROFILES[profile]
  const salt = randomBytes(SALT_BYTES)
  const key = await argon2Key('argon2id', password, salt, m, t, p, KEY_LENGTH)
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64phc(salt)}$${b64phc(key)}`
}

/** For imported or legacy hashes and the upgrade path; new hashes are Argon2id. */
export async function hashPasswordPbkdf2(password: string, iterations: number = PBKDF2_MAX_ITERATIONS): Promise<string> {
  if (iterations > PBKDF2_MAX_ITERATIONS) throw new RangeError(`PBKDF2 is capped at ${PBKDF2_MAX_ITERATIONS} iterations on Workers`)
  const salt = randomBytes(SALT_BYTES)
  const key = await pbkdf2Key(password, salt, iterations, KEY_LENGTH)
  return `pbkdf2-sha256$i=${iterations}$${b64url(salt)}$${b64url(key)}`
}

/** For the upgrade path and its tests: the scrypt format hashes were stored in before Argon2id. */
export async function hashPasswordScrypt(password: string, ln: number, r: number, p: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await scryptKey(password, salt, ln, r, p, KEY_LENGTH)
  return `scrypt$ln=${ln},r=${r},p=${p}$${b64url(salt)}$${b64url(key)}`
}

function paramFields(text: string): (name: string) => number {
  const fields = Object.fromEntries(text.split(',').map((kv) => kv.split('=') as [string, string]))
  return (name) => (/^\d{1,9}$/.test(fields[name] ?? '') ? Number(fields[name]) : NaN)
}

function parse(encoded: string): { params: Params; salt: Buffer; key: Buffer } | undefined {
  if (encoded.startsWith('$argon2')) {
    // $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
    const [, alg, version, paramText, salt, key] = encoded.split('$')
    if (alg !== 'argon2id' && alg !== 'argon2i' && alg !== 'argon2d') return undefined
    if (version !== 'v=19' || !paramText || !salt || !key) return undefined
    const num = paramFields(paramText)
    const params = { alg, m: num('m'), t: num('t'), p: num('p') } as const
    if (![params.m, params.t, params.p].every(Number.isFinite)) return undefined
    return { params, salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') }
  }
  const [alg, paramText, salt, key] = encoded.split('$')
  if (!paramText || !salt || !key) return undefined
  const num = paramFields(paramText)
  let params: Params
  if (alg === 'scrypt') params = { alg, ln: num('ln'), r: num('r'), p: num('p') }
  else if (alg === 'pbkdf2-sha256') params = { alg, i: num('i') }
  else return undefined
  if (Object.values(params).some((v) => typeof v === 'number' && !Number.isFinite(v))) return undefined
  return { params, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') }
}

/** Constant-time verification against any supported encoding; false for unknown or out-of-bounds ones. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded)
  if (!parsed) return false
  const { params, salt, key } = parsed
  if (key.length < 16 || key.length > 64) return false
  let derived: Uint8Array
  if (params.alg === 'scrypt') {
    if (params.ln > 20 || params.r * params.p * 2 ** params.ln > 2 ** 20) return false
    derived = await scryptKey(password, salt, params.ln, params.r, params.p, key.length)
  } else if (params.alg === 'pbkdf2-sha256') {
    if (params.i > PBKDF2_MAX_ITERATIONS) return false
    derived = await pbkdf2Key(password, salt, params.i, key.length)
  } else {
    const { m, t, p } = params
    if (salt.length < 8 || p < 1 || p > ARGON2_MAX.p || t < 1 || t > ARGON2_MAX.t || m < 8 * p || m > ARGON2_MAX.m || m * t > ARGON2_MAX.work) return false
    derived = await argon2Key(params.alg, password, salt, m, t, p, key.length)
  }
  return derived.length === key.length && timingSafeEqual(derived, key)
}

/** True when the hash was made with another algorithm or other parameters than the profile's. */
export function needsRehash(encoded: string, profile: PasswordHashProfile): boolean {
  const parsed = parse(encoded)
  if (!parsed || parsed.params.alg !== 'argon2id') return true
  const { m, t, p } = parsed.params
  const current = PROFILES[profile]
  return m !== current.m || t !== current.t || p !== current.p || parsed.key.length !== KEY_LENGTH
}

/**
 * A hash of a random password, verified when the account does not exist, so that an unknown
 * email costs the same time as a wrong password.
 */
const dummies = new Map<PasswordHashProfile, Promise<string>>()
export function dummyHash(profile: PasswordHashProfile): Promise<string> {
  let dummy = dummies.get(profile)
  if (!dummy) {
    dummy = hashPassword(b64url(randomBytes(16)), profile)
    dummies.set(profile, dummy)
  }
  return dummy
}

/** The tenant's (or the platform's) minimum length: refused with `weak_password` and the minimum in `details`. */
export function checkPasswordPolicy(password: string, minLength: number) {
  if (password.length < minLength) {
    throw fail(IdentityErrors, 'weak_password', `The password must be at least ${minLength} characters long.`, { min_length: minLength })
  }
}
