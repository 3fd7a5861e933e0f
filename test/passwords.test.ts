import { env } from 'cloudflare:test'
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2.js'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.ts'
import { users } from '../src/db/public-schema.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { call, PLATFORM, tenantOrigin } from './support.ts'
import {
  CURRENT, hashPassword, hashPasswordPbkdf2, hashPasswordScrypt, needsRehash, OWASP_ARGON2ID_MINIMUM, PBKDF2_MAX_ITERATIONS, PROFILES, verifyPassword,
} from '../src/identity/passwords.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const phcParts = (hash: string) => {
  const [, alg, version, params, salt, key] = hash.split('$')
  return { alg, version, params, salt: Buffer.from(salt!, 'base64'), key: Buffer.from(key!, 'base64') }
}

describe('password hashing', () => {
  it('holds the production parameters to at least OWASP’s Argon2id minimum, within an isolate’s memory', () => {
    expect(PROFILES.production).toEqual({ m: 19456, t: 2, p: 1 })
    expect(CURRENT).toBe(PROFILES.production)
    // OWASP: Argon2id with at least 19 MiB of memory, 2 iterations, 1 degree of parallelism.
    expect(CURRENT.m).toBeGreaterThanOrEqual(OWASP_ARGON2ID_MINIMUM.m)
    expect(CURRENT.t).toBeGreaterThanOrEqual(OWASP_ARGON2ID_MINIMUM.t)
    expect(OWASP_ARGON2ID_MINIMUM).toEqual({ m: 19456, t: 2, p: 1 })
    // One hash holds m KiB: keep it far below the 128 MB of an isolate.
    expect(CURRENT.m * 1024).toBeLessThanOrEqual(32 * 1024 * 1024)
    // Production Workers cap PBKDF2 at 100,000 iterations; local workerd does not, so we hold the line ourselves.
    expect(PBKDF2_MAX_ITERATIONS).toBe(100_000)
  })

  it('hashes with the production parameters, stored in a PHC string, and verifies in constant time', async () => {
    // The suite runs with PASSWORD_HASH_PROFILE=test (vitest.config.ts); this is the real one.
    const hash = await hashPassword('correct horse', 'production')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('correct horsf', hash)).toBe(false)
    expect(needsRehash(hash, 'production')).toBe(false)
    expect(needsRehash(hash, 'test')).toBe(true)
    // An independent implementation (@noble/hashes, pure JS) derives the same key from the stored salt.
    const { salt, key } = phcParts(hash)
    expect(hex(nobleArgon2id('correct horse', salt, { m: 19456, t: 2, p: 1, dkLen: 32 }))).toBe(hex(key))
  })

  it('verifies what it hashed under the test profile, and rehashes anything else', async () => {
    const hash = await hashPassword('correct horse', 'test')
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/)
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('correct horsf', hash)).toBe(false)
    expect(await verifyPassword('correct horse', 'garbage')).toBe(false)
    expect(needsRehash(hash, 'test')).toBe(false)
    expect(needsRehash(hash, 'production')).toBe(true)
    expect(needsRehash(await hashPasswordPbkdf2('x', 1000), 'test')).toBe(true)
    expect(needsRehash(await hashPasswordScrypt('x', 10, 8, 1), 'test')).toBe(true)
    expect(needsRehash('$argon2i$v=19$m=256,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', 'test')).toBe(true)
  })

  it('matches the Argon2 reference implementation’s test vectors (phc-winner-argon2 src/test.c, v=19)', async () => {
    // Argon2id, password "password", salt "somesalt": encoded hashes exactly as the reference prints them.
    const vectors = [
      '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
      '$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc',
      '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc',
    ]
    for (const vector of vectors) {
      expect(await verifyPassword('password', vector)).toBe(true)
      expect(await verifyPassword('passwore', vector)).toBe(false)
    }
    // The reference's Argon2i vector (m=256, t=2, p=1) verifies too: imported Argon2i hashes keep working.
    expect(await verifyPassword('password', '$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8')).toBe(true)
  })

  it('agrees with an independent implementation (@noble/hashes) at several parameters', async () => {
    // @noble/hashes is first checked against RFC 9106 §5.3 (Argon2id with secret and associated data).
    const rfc = nobleArgon2id(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2), { t: 3, m: 32, p: 4, dkLen: 32, key: new Uint8Array(8).fill(3), personalization: new Uint8Array(12).fill(4) })
    expect(hex(rfc)).toBe('0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659')
    for (const [password, m, t, p] of [['correct horse battery', 256, 1, 1], ['pässwörd ✓', 1024, 3, 2], ['x', 64, 2, 4]] as const) {
      const salt = crypto.getRandomValues(new Uint8Array(16))
      const key = nobleArgon2id(password.normalize('NFKC'), salt, { m, t, p, dkLen: 32 })
      const encoded = `$argon2id$v=19$m=${m},t=${t},p=${p}$${Buffer.from(salt).toString('base64').replace(/=+$/, '')}$${Buffer.from(key).toString('base64').replace(/=+$/, '')}`
      expect(await verifyPassword(password, encoded)).toBe(true)
    }
  })

  it('refuses to verify hashes whose parameters are out of bounds or malformed', async () => {
    const key = 'CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'
    for (const encoded of [
      `$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$${key}`, // 1 GiB
      `$argon2id$v=19$m=65536,t=50,p=1$c29tZXNhbHQ$${key}`,
      `$argon2id$v=19$m=8,t=1,p=2$c29tZXNhbHQ$${key}`, // m < 8·p
      `$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$${key}`,
      `$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$${key}`,
      `$argon2id$v=19$m=256,t=2,p=1$c2FsdA$${key}`, // 4-byte salt
      '$argon2x$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4',
    ]) {
      expect(await verifyPassword('password', encoded)).toBe(false)
    }
  })

  it('still verifies scrypt hashes, the format used before Argon2id', async () => {
    const scrypt = await hashPasswordScrypt('correct horse', 14, 8, 5)
    expect(scrypt).toMatch(/^scrypt\$ln=14,r=8,p=5\$/)
    expect(await verifyPassword('correct horse', scrypt)).toBe(true)
    expect(await verifyPassword('correct horsf', scrypt)).toBe(false)
    expect(needsRehash(scrypt, 'production')).toBe(true)
  })

  it('refuses to create or verify PBKDF2 hashes above the production cap', async () => {
    await expect(hashPasswordPbkdf2('secret', PBKDF2_MAX_ITERATIONS + 1)).rejects.toThrow(RangeError)
    const over = 'pbkdf2-sha256$i=100001$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
    expect(await verifyPassword('secret', over)).toBe(false)
  })

  it('refuses the test profile in production', () => {
    const base = {
      DATABASE_URL: 'postgres://u@h/db',
      UPSTASH_REDIS_REST_URL: 'https://redis.example.com',
      UPSTASH_REDIS_REST_TOKEN: 't',
      JWT_PRIVATE_KEY: 'k',
      PLATFORM_ADMIN_TOKEN: 'x'.repeat(24),
      DATA_ENCRYPTION_KEY: 'A'.repeat(43),
      SENDGRID_API_KEY: 'sg',
    }
    expect(parseConfig({ ...base, ENVIRONMENT: 'production' }).PASSWORD_HASH_PROFILE).toBe('production')
    expect(() => parseConfig({ ...base, ENVIRONMENT: 'production', PASSWORD_HASH_PROFILE: 'test' })).toThrow(/PASSWORD_HASH_PROFILE/)
    expect(parseConfig({ ...base, ENVIRONMENT: 'test', PASSWORD_HASH_PROFILE: 'test' }).PASSWORD_HASH_PROFILE).toBe('test')
  })

  for (const [name, make] of [
    ['PBKDF2', () => hashPasswordPbkdf2('correct horse battery', 10_000)],
    ['scrypt', () => hashPasswordScrypt('correct horse battery', 14, 8, 5)],
  ] as const) {
    it(`upgrades a ${name} hash to Argon2id on the next successful login`, async () => {
      const email = `${crypto.randomUUID()}@example.com`
      const registered = await call(`${PLATFORM}/v1/auth/register`, { body: { email, password: 'correct horse battery' } })
      const db = connectDatabase(env.DATABASE_URL, env.NEON_FETCH_ENDPOINT)
      await db.update(users).set({ passwordHash: await make() }).where(eq(users.email, email))
      const login = await call(`${tenantOrigin(registered.body.tenant.slug)}/v1/auth/login`, { body: { email, password: 'correct horse battery' } })
      expect(login.status).toBe(200)
      const [row] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.email, email))
      // The suite's profile is `test`: the upgrade uses the configured profile's parameters.
      expect(env.PASSWORD_HASH_PROFILE).toBe('test')
      expect(row!.hash).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$/)
      expect(await verifyPassword('correct horse battery', row!.hash!)).toBe(true)
    })
  }
})
