import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { admitTenantCreation, isTenantCapError, ownedTenantCapStatements } from '../src/tenancy/creation-limits.ts'
import { call, newEmail, PASSWORD, PLATFORM, randomClientIp, signUp } from './support.ts'

/** Self-service tenant creation (platform sign-up today): off switch, per-account cap, per-IP and global limits. */

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext

async function register(overrides: Record<string, string>, ip = randomClientIp()) {
  const res = await createApp().fetch(
    new Request(`${PLATFORM}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
      body: JSON.stringify({ email: newEmail(), password: PASSWORD }),
    }),
    { ...env, ...overrides },
    ctx,
  )
  return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get('retry-after') }
}

describe('self-service tenant creation', () => {
  it('can be turned off: platform sign-up answers 403 tenant_creation_disabled and creates nothing', async () => {
    const res = await register({ SELF_SERVICE_TENANTS: 'false' })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('tenant_creation_disabled')
    // Joining an existing tenant is no tenant creation: the tenant-host sign-up is unaffected (covered in auth tests).
  })

  it('counts sign-ups per IP: the next one from that address is 429 with Retry-After, others still pass', async () => {
    const ip = randomClientIp()
    // A limit of its own size keeps this test's window apart from every other test's (the Redis key names the limit).
    const limits = { TENANT_CREATION_PER_IP_PER_HOUR: '2', TENANT_CREATION_PER_HOUR: '100003' }
    expect((await register(limits, ip)).status).toBe(201)
    expect((await register(limits, ip)).status).toBe(201)
    const third = await register(limits, ip)
    expect(third.status).toBe(429)
    expect(third.body.error).toMatchObject({ code: 'rate_limited', details: { scope: 'ip', limit: 2, window_seconds: 3600 } })
    expect(Number(third.retryAfter)).toBeGreaterThan(0)
    expect((await register(limits)).status).toBe(201)
  })

  it('counts every address together against the global limit', async () => {
    const limits = { TENANT_CREATION_PER_IP_PER_HOUR: '100', TENANT_CREATION_PER_HOUR: '3' }
    for (let i = 0; i < 3; i++) expect((await register(limits)).status).toBe(201)
    const next = await register(limits)
    expect(next.status).toBe(429)
    expect(next.body.error.details.scope).toBe('global')
  })

  it('caps the live tenants an account owns, checked before and inside the creating batch', async () => {
    const owner = await signUp()
    const db = connectDatabase(env.DATABASE_URL as string, env.NEON_FETCH_ENDPOINT as string)
    // The account owns one tenant: a cap of 1 refuses another, a cap of 2 admits it.
    const app = createApp()
    app.get('/probe/admit', async (c) => {
      await admitTenantCreation(c as never, { accountId: owner.user.id })
      return c.json({ admitted: true })
    })
    const admit = (cap: string) => app.fetch(new Request(`${PLATFORM}/probe/admit`, { headers: { 'cf-connecting-ip': randomClientIp() } }), { ...env, MAX_TENANTS_PER_ACCOUNT: cap }, ctx)
    const refused = await admit('1')
    expect(refused.status).toBe(409)
    expect(((await refused.json()) as any).error).toMatchObject({ code: 'tenant_limit_reached', details: { max: 1 } })
    expect((await admit('2')).status).toBe(200)

    // The in-batch guard aborts the whole batch when the cap is reached (the race the pre-check cannot close).
    let error: unknown
    try {
      await db.batch([...ownedTenantCapStatements(db, owner.user.id, 1)] as never)
    } catch (err) {
      error = err
    }
    expect(isTenantCapError(error)).toBe(true)
    await expect(db.batch([...ownedTenantCapStatements(db, owner.user.id, 2)] as never)).resolves.toBeDefined()
  })

  it('leaves the platform admin’s POST /v1/tenants alone (no self-service)', async () => {
    const res = await createApp().fetch(
      new Request(`${PLATFORM}/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${env.PLATFORM_ADMIN_TOKEN as string}`, 'cf-connecting-ip': randomClientIp() },
        body: JSON.stringify({ slug: `adm-${crypto.randomUUID().slice(0, 8)}`, name: 'Admin made' }),
      }),
      { ...env, SELF_SERVICE_TENANTS: 'false' },
      ctx,
    )
    expect(res.status).toBe(201)
    expect((await call(`${PLATFORM}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })).status).toBe(201)
  })
})
