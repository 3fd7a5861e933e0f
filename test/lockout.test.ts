import { and, eq } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import { hashToken } from '../src/identity/secrets.ts'
import { call, database, faults, memberOfOpenTenant, newEmail, openTenant, PASSWORD, redis, tablesOf, tenantOrigin } from './support.ts'

afterEach(() => faults('redis', { mode: 'off' }))

/** Every Redis key the lockout may write for this address in this tenant (today's names and the former counter's). */
async function lockoutKeys(tenantId: string, address: string) {
  const id = `${tenantId}:${(await hashToken(address)).slice(0, 32)}`
  return { attempts: `lockout:attempts:${id}`, lock: `lockout:lock:${id}`, level: `lockout:level:${id}`, formerCounter: `lockout:fail:${id}` }
}

async function auditRows(tenantId: string, action: string) {
  const log = tablesOf(tenantId).auditLog
  return database().select().from(log).where(eq(log.action, action))
}

// 100 (or 20) requests at once, or a dozen sign-ins in a row: more than the default 30 s on a loaded machine.
describe('account lockout under concurrency', () => {
  it('evaluates at most max_attempts of 100 concurrent guesses (the right one among them): no sign-in, one lock, one length', async () => {
    const { tenant, host, account: { email: address } } = await memberOfOpenTenant({ lockout: { max_attempts: 3, base_seconds: 30, max_seconds: 600 } })

    // 99 wrong passwords, then the right one, all at once and each from its own address (call()).
    const guesses = [...Array.from({ length: 99 }, (_, i) => `wrong password ${i}`), PASSWORD]
    const answers = await Promise.all(guesses.map((password) => call(`${host}/v1/auth/login`, { body: { email: address, password } })))

    expect(answers.filter((a) => a.status === 200)).toEqual([])
    const unexpected = answers.filter((a) => !(a.status === 401 || (a.status === 429 && a.body.error.code === 'account_locked')))
    expect(unexpected.map((a) => `${a.status} ${JSON.stringify(a.body)}`)).toEqual([])
    // Each evaluated password writes one user.login audit row (failure or success); refused ones write none.
    const evaluated = await auditRows(tenant.id, 'user.login')
    expect(evaluated.length).toBeGreaterThanOrEqual(1)
    expect(evaluated.length).toBeLessThanOrEqual(3)
    expect(evaluated.every((row) => row.outcome === 'failure')).toBe(true)
    // One lock: one user.locked audit entry (its webhook event is written in the same batch, src/identity/sign-in.ts).
    expect(await auditRows(tenant.id, 'user.locked')).toHaveLength(1)
    // One length: the first lock of the day (base_seconds), level 1, every key with a TTL.
    const k = await lockoutKeys(tenant.id, address)
    const lockTtl = await redis.ttl(k.lock)
    expect(lockTtl).toBeGreaterThan(20)
    expect(lockTtl).toBeLessThanOrEqual(30)
    expect(Number(await redis.get(k.level))).toBe(1)
    expect(await redis.ttl(k.level)).toBeGreaterThan(0)
    expect(await redis.exists(k.attempts)).toBe(0)
    // Every refusal names a wait no longer than that lock.
    for (const a of answers.filter((x) => x.status === 429)) expect(Number(a.headers.get('retry-after'))).toBeLessThanOrEqual(30)

    // And the lock holds for the right password afterwards.
    const after = await call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })
    expect(after.status).toBe(429)
  }, 120_000)

  it('lets the right password through within the budget and starts a fresh window after it', async () => {
    const { tenant, host, account: { email: address } } = await memberOfOpenTenant({ lockout: { max_attempts: 3, base_seconds: 30, max_seconds: 600 } })
    for (let i = 0; i < 2; i++) expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(401)
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })).status).toBe(200)
    // The success cleared the window: two more failures do not lock.
    for (let i = 0; i < 2; i++) expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(401)
    expect(await auditRows(tenant.id, 'user.locked')).toHaveLength(0)
  })

  it('records user.unlocked with the first sign-in after a lock, once, in the session’s batch', async () => {
    const { tenant, host, account: { email: address } } = await memberOfOpenTenant({ lockout: { max_attempts: 1, base_seconds: 30, max_seconds: 600 } })
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(429)
    // The cool-down over (its key expired), the lock history stays for a day.
    await redis.del((await lockoutKeys(tenant.id, address)).lock)
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })).status).toBe(200)
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })).status).toBe(200)
    const unlocked = await auditRows(tenant.id, 'user.unlocked')
    expect(unlocked).toHaveLength(1)
    expect(await auditRows(tenant.id, 'user.login')).toHaveLength(3)
  })

  it('locks a burst on an unknown email exactly like one on a known email', async () => {
    const tenant = await openTenant({ lockout: { max_attempts: 2, base_seconds: 30, max_seconds: 600 } })
    const host = tenantOrigin(tenant.slug)
    const address = newEmail()
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(`${host}/v1/auth/login`, { body: { email: address, password: 'x'.repeat(12) } })))
    expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(2)
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(18)
    expect(await auditRows(tenant.id, 'user.locked')).toHaveLength(1)
    expect(await redis.ttl((await lockoutKeys(tenant.id, address)).lock)).toBeLessThanOrEqual(30)
  }, 60_000)
})

describe('account lockout under Redis faults', () => {
  it('never leaves a lockout key without expiry, whichever Redis request of a failing sign-in fails', async () => {
    // max_attempts 1: every failure also locks, so each sign-in exercises every lockout write.
    const tenant = await openTenant({ lockout: { max_attempts: 1, base_seconds: 30, max_seconds: 600 } })
    const host = tenantOrigin(tenant.slug)
    let keysWritten = 0
    for (let after = 0; after < 12; after++) {
      const address = newEmail()
      await call(`${host}/v1/tenant`) // the tenant from the isolate cache, so the faults land on the sign-in's own requests
      // Two failures in a row: the request and the client's one retry.
      await faults('redis', { mode: 'fail', status: 503, after, count: 2 })
      const res = await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })
      await faults('redis', { mode: 'off' })
      expect([401, 429]).toContain(res.status)
      const k = await lockoutKeys(tenant.id, address)
      for (const key of Object.values(k)) {
        const ttl = await redis.ttl(key)
        expect(ttl, `${key} after a fault at request ${after}`).not.toBe(-1)
        if (ttl > 0) keysWritten++
      }
    }
    expect(keysWritten).toBeGreaterThan(0)
  }, 120_000)

  it('signs in and counts nothing while Redis is down, then locks as usual once it is back', async () => {
    const { tenant, host, account: { email: address } } = await memberOfOpenTenant({ lockout: { max_attempts: 2, base_seconds: 30, max_seconds: 600 } })
    await call(`${host}/v1/tenant`)
    await faults('redis', { mode: 'fail', status: 503 })
    for (let i = 0; i < 3; i++) expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(401)
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })).status).toBe(200)
    await faults('redis', { mode: 'off' })
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(401)
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(429)
    const locks = await database().select().from(tablesOf(tenant.id).auditLog).where(and(eq(tablesOf(tenant.id).auditLog.action, 'user.locked')))
    expect(locks).toHaveLength(1)
  })
})
