import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { users } from '../db/public-schema.ts'
import { connectDatabase } from '../platform/database.ts'
import { call, PLATFORM, tenantOrigin } from '../../test/support.ts'
import { parseConfig } from '../config.ts'
import { CURRENT, hashPassword, hashPasswordPbkdf2, needsRehash, PBKDF2_MAX_ITERATIONS, PROFILES, verifyPassword } from './passwords.ts'

describe('password hashing', () => {
  it('stays within the production limits of Workers', () => {
    const N = 2 ** CURRENT.ln
    // node:crypto scrypt refuses N·r·p above 2^20 (everywhere, locally too).
    expect(N * CURRENT.r * CURRENT.p).toBeLessThanOrEqual(2 ** 20)
    // One hash needs 128·N·r bytes: keep it far below the 128 MB of an isolate.
    expect(128 * N * CURRENT.r).toBeLessThanOrEqual(32 * 1024 * 1024)
    // Production Workers cap PBKDF2 at 100,000 iterations; local workerd does not, so we hold the line ourselves.
    expect(PBKDF2_MAX_ITERATIONS).toBe(100_000)
  })

  it('refuses to create or verify PBKDF2 hashes above the production cap', async () => {
    await expect(hashPasswordPbkdf2('secret', PBKDF2_MAX_ITERATIONS + 1)).rejects.toThrow(RangeError)
    const over = 'pbkdf2-sha256$i=100001$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
    expect(await verifyPassword('secret', over)).toBe(false)
  })

  it('hashes with the pinned production parameters, stored in the hash', async () => {
    // The suite runs with PASSWORD_HASH_PROFILE=test (vitest.config.ts); this one hash is the real one.
    expect(PROFILES.production).toEqual({ ln: 14, r: 8, p: 5 })
    const hash = await hashPassword('correct horse', 'production')
    expect(hash).toMatch(/^scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('correct horsf', hash)).toBe(false)
    expect(needsRehash(hash, 'production')).toBe(false)
    expect(needsRehash(hash, 'test')).toBe(true)
  })

  it('verifies what it hashed under the test profile, and rehashes anything else', async () => {
    const hash = await hashPassword('correct horse', 'test')
    expect(hash).toMatch(/^scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('correct horsf', hash)).toBe(false)
    expect(await verifyPassword('correct horse', 'garbage')).toBe(false)
    expect(needsRehash(hash, 'test')).toBe(false)
    expect(needsRehash(hash, 'production')).toBe(true)
    expect(needsRehash(await hashPasswordPbkdf2('x', 1000), 'test')).toBe(true)
    expect(needsRehash('scrypt$ln=13,r=8,p=5$AA$AA', 'production')).toBe(true)
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

  it('upgrades an older hash on the next successful login', async () => {
    const email = `${crypto.randomUUID()}@example.com`
    const registered = await call(`${PLATFORM}/v1/auth/register`, { body: { email, password: 'correct horse battery' } })
    const db = connectDatabase(env.DATABASE_URL, env.NEON_FETCH_ENDPOINT)
    await db.update(users).set({ passwordHash: await hashPasswordPbkdf2('correct horse battery', 10_000) }).where(eq(users.email, email))
    const login = await call(`${tenantOrigin(registered.body.tenant.slug)}/v1/auth/login`, { body: { email, password: 'correct horse battery' } })
    expect(login.status).toBe(200)
    const [row] = await db.select({ hash: users.passwordHash }).from(users).where(eq(users.email, email))
    // The suite's profile is `test`: the upgrade uses the configured profile's parameters.
    expect(env.PASSWORD_HASH_PROFILE).toBe('test')
    expect(row!.hash).toMatch(/^scrypt\$ln=10,r=8,p=1\$/)
  })
})
