import { createScheduledController, env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { afterEach, describe, expect, it } from 'vitest'
import worker from '../src/index.ts'
import { EPOCH_KEY } from '../src/changes/drain.ts'
import { revokedKey } from '../src/changes/effects.ts'
import { connectRedis } from '../src/platform/redis.ts'
import { addMember, adminToken, call, createTenant, database, faults, PASSWORD, PLATFORM, signUp, tenantOrigin, type Owner } from './support.ts'

/**
 * Redis is a cache: a change acknowledged while Redis is down (or failing just then) takes effect
 * when it comes back, and stays in effect (issue 9, items 1 and 2). The effects are rows of
 * public.pending_effects written with the change; an isolate that saw Redis fail drains them before
 * it trusts Redis again, and so does the cron.
 */

afterEach(async () => {
  await faults('redis', { mode: 'off' })
  await faults('sql', { mode: 'off' })
})

const redis = () => connectRedis(env.UPSTASH_REDIS_REST_URL as string, env.UPSTASH_REDIS_REST_TOKEN as string)
const sessionOf = (token: string) => JSON.parse(atob(token.split('.')[1]!.replaceAll('-', '+').replaceAll('_', '/'))).sid as string

async function pendingFor(sessionId: string) {
  const rows = await database().execute<{ n: number }>(sql`
    select count(*)::int as n from public.pending_effects where kind = 'sessions_revoked' and applied_at is null and payload->'sessions' ? ${sessionId}`)
  return Number(rows.rows[0]!.n)
}

const me = (o: Owner, token = o.access_token) => call(`${o.host}/v1/me`, { token })

async function signIn(o: Owner) {
  const res = await call(`${o.host}/v1/auth/login`, { body: { email: o.email, password: PASSWORD } })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.access_token as string
}

describe('revocations made while Redis is down', () => {
  it('keeps a logged-out token refused after Redis recovers (the revocation is applied when it is back)', async () => {
    const owner = await signUp()
    expect((await me(owner)).status).toBe(200)
    await faults('redis', { mode: 'fail', status: 503 })
    expect((await call(`${owner.host}/v1/auth/logout`, { method: 'POST', token: owner.access_token })).status).toBe(204)
    expect((await me(owner)).status).toBe(401) // the session row decides during the outage
    const sid = sessionOf(owner.access_token)
    expect(await pendingFor(sid)).toBe(1)

    await faults('redis', { mode: 'off' })
    expect((await me(owner)).status).toBe(401)
    expect(await redis().exists(revokedKey(sid))).toBe(1)
    expect(await pendingFor(sid)).toBe(0)
  })

  it('keeps every session of a removed member refused after Redis recovers', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const inTenant = { ...owner, access_token: member.access_token }
    expect((await me(inTenant)).status).toBe(200)

    await faults('redis', { mode: 'fail', status: 503 })
    expect((await call(`${owner.host}/v1/members/${member.user.id}`, { method: 'DELETE', token: owner.access_token })).status).toBe(204)
    await faults('redis', { mode: 'off' })
    expect((await me(inTenant)).status).toBe(401)
    expect(await redis().exists(revokedKey(sessionOf(inTenant.access_token)))).toBe(1)
  })

  it('applies a revocation left pending by the cron, before any request comes', async () => {
    const owner = await signUp()
    const second = await signIn(owner)
    await faults('redis', { mode: 'fail', status: 503 })
    expect((await call(`${owner.host}/v1/auth/logout-all`, { method: 'POST', token: owner.access_token })).status).toBeLessThan(300)
    await faults('redis', { mode: 'off' })
    const sid = sessionOf(second)
    expect(await pendingFor(sid)).toBe(1)
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }), env as never)
    expect(await pendingFor(sid)).toBe(0)
    expect(await redis().exists(revokedKey(sid))).toBe(1)
  })

  it('writes live revocations again into a Redis that lost its data', async () => {
    const owner = await signUp()
    expect((await call(`${owner.host}/v1/auth/logout`, { method: 'POST', token: owner.access_token })).status).toBe(204)
    const sid = sessionOf(owner.access_token)
    expect(await redis().exists(revokedKey(sid))).toBe(1)
    // Redis restarted empty: the keys are gone, and so is the epoch; the Worker sees it fail meanwhile.
    await redis().del(revokedKey(sid), EPOCH_KEY)
    await faults('redis', { mode: 'fail', status: 503, count: 1 })
    expect((await call(`${PLATFORM}/dev/outbox?to=nobody%40example.com`)).status).toBe(503)
    expect((await me(owner)).status).toBe(401)
    expect(await redis().exists(revokedKey(sid))).toBe(1)
  })
})

describe('API-key revocations made while Redis is down', () => {
  it('keeps a revoked key refused after Redis recovers (its cached principal is dropped when it is back)', async () => {
    const owner = await signUp()
    const created = await call(`${owner.host}/v1/api-keys`, { body: { name: 'durable', roles: ['admin'] }, token: owner.access_token })
    expect(created.status).toBe(201)
    const useKey = () => call(`${owner.host}/v1/api-keys`, { headers: { 'x-api-key': created.body.secret } })
    expect((await useKey()).status).toBe(200) // its principal is cached in Redis (and the isolate)
    await faults('redis', { mode: 'fail', status: 503 })
    // Acknowledged although Redis cannot be told now (no 503 after the commit).
    expect((await call(`${owner.host}/v1/api-keys/${created.body.id}`, { method: 'DELETE', token: owner.access_token })).status).toBe(200)
    await faults('redis', { mode: 'off' })
    expect((await useKey()).status).toBe(401)
  })
})

describe('tenant changes made while Redis is down', () => {
  it('never serves a tenant suspended during the outage as active after Redis recovers', async () => {
    const t = await createTenant()
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200) // cached in Redis (and the isolate)
    await faults('redis', { mode: 'fail', status: 503 })
    expect((await call(`${PLATFORM}/v1/tenants/${t.id}/suspend`, { method: 'POST', token: adminToken() })).status).toBe(200)
    await faults('redis', { mode: 'off' })
    const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('tenant_suspended')
    // Cached again, from the database: suspended.
    expect((await redis().get<{ tenant: { status: string } }>(`tenant:slug:${t.slug}`))?.tenant.status).toBe('suspended')
  })

  it('never serves settings changed during the outage from the stale copy after Redis recovers', async () => {
    const t = await createTenant({ settings: { signup_policy: 'open' } })
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200)
    await faults('redis', { mode: 'fail', status: 503 })
    const patched = await call(`${PLATFORM}/v1/tenants/${t.id}`, { method: 'PATCH', body: { settings: { signup_policy: 'invite_only' } }, token: adminToken() })
    expect(patched.status).toBe(200)
    await faults('redis', { mode: 'off' })
    const signup = await call(`${tenantOrigin(t.slug)}/v1/auth/register`, { body: { email: `${crypto.randomUUID()}@example.com`, password: PASSWORD } })
    expect(signup.status).toBe(403)
  })

  it('drops the cached copy of a tenant deleted during the outage', async () => {
    const t = await createTenant()
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200)
    await faults('redis', { mode: 'fail', status: 503 })
    expect((await call(`${PLATFORM}/v1/tenants/${t.id}`, { method: 'DELETE', token: adminToken() })).status).toBe(200)
    await faults('redis', { mode: 'off' })
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(404)
  })
})
