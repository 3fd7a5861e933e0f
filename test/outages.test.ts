import { describe, expect, it } from 'vitest'
import { adminToken, call, createTenant, endpointRequests, expectHealth, expectOutage, faults, healEndpointsAfterEach, PLATFORM, resetEndpointStats, tenantOrigin, uniqueSlug, withEnv } from './support.ts'

healEndpointsAfterEach()

const platformGet = (path: string) => call(`${PLATFORM}${path}`, { token: adminToken() })

describe('outages are answered as outages', () => {
  it('answers 503 database_unavailable with Retry-After when SQL is down, not a 500', async () => {
    await faults('sql', { mode: 'fail', status: 503 })
    const res = await call(`${PLATFORM}/v1/tenants`, { body: { slug: uniqueSlug(), name: 'Down' }, token: adminToken() })
    expectOutage(res, 'database_unavailable', '5')
    expect(JSON.stringify(res.body)).not.toContain('injected')
  })

  it('answers 503 database_unavailable when SQL is unreachable (connection dropped)', async () => {
    await faults('sql', { mode: 'drop' })
    const res = await platformGet('/v1/tenants')
    expectOutage(res, 'database_unavailable')
  })

  it('answers 503 cache_unavailable with Retry-After where Redis is required and it is down', async () => {
    await faults('redis', { mode: 'fail', status: 503 })
    const res = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent('nobody@example.com')}`)
    expectOutage(res, 'cache_unavailable', '2')
  })

  it('keeps serving the paths that degrade when Redis is down (tenant lookup, rate limit)', async () => {
    const t = await createTenant()
    await faults('redis', { mode: 'fail', status: 503 })
    const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(t.id)
    await faults('redis', { mode: 'drop' })
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200)
  })
})

describe('deadlines', () => {
  it('gives up on a SQL request past SQL_TIMEOUT_MS and answers 503', async () => {
    // The endpoint would answer after 3 s; only the 200 ms deadline can turn this into a 503.
    await faults('sql', { mode: 'delay', delayMs: 3000 })
    const res = await withEnv({ SQL_TIMEOUT_MS: '200' }, `${PLATFORM}/v1/tenants`, { token: adminToken() })
    expectOutage(res, 'database_unavailable')
  })

  it('bounds the backend time of a whole request by REQUEST_BUDGET_MS, whatever each call is allowed', async () => {
    await faults('sql', { mode: 'delay', delayMs: 3000 })
    const res = await withEnv({ SQL_TIMEOUT_MS: '60000', REQUEST_BUDGET_MS: '300' }, `${PLATFORM}/v1/tenants`, { token: adminToken() })
    expectOutage(res, 'database_unavailable')
  })

  it('gives up on a Redis request past REDIS_TIMEOUT_MS: degradable paths still answer', async () => {
    const t = await createTenant()
    await faults('redis', { mode: 'delay', delayMs: 3000 })
    const res = await withEnv({ REDIS_TIMEOUT_MS: '200', TENANT_CACHE_TTL_SECONDS: '0' }, `${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(t.id)
  })

  it('waits for a slow Redis once per request: after the first timeout the rest of the request skips it', async () => {
    const t = await createTenant()
    await faults('redis', { mode: 'delay', delayMs: 1500 })
    await resetEndpointStats('redis')
    // Tenant lookup (cache read, then cache write after SQL) and the rate limiter each want Redis.
    const res = await withEnv({ REDIS_TIMEOUT_MS: '200', TENANT_CACHE_TTL_SECONDS: '0' }, `${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(200)
    expect(await endpointRequests('redis')).toBe(1)
  })

  it('answers 503 cache_unavailable when a required Redis call times out', async () => {
    await faults('redis', { mode: 'delay', delayMs: 3000 })
    const res = await withEnv({ REDIS_TIMEOUT_MS: '200' }, `${PLATFORM}/dev/outbox?to=nobody%40example.com`)
    expectOutage(res, 'cache_unavailable')
  })
})

describe('retry of reads on a connection-level failure', () => {
  it('sends a read once more after the connection dropped, and answers', async () => {
    const t = await createTenant()
    await resetEndpointStats('sql')
    await faults('sql', { mode: 'drop', count: 1 })
    const res = await platformGet(`/v1/tenants/${t.id}`)
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(t.id)
    expect(await endpointRequests('sql')).toBe(2)
  })

  it('never re-sends a write batch: one attempt, a 503, and the client decides', async () => {
    const slug = uniqueSlug()
    await resetEndpointStats('sql')
    await faults('sql', { mode: 'drop', count: 1 })
    const res = await call(`${PLATFORM}/v1/tenants`, { body: { slug, name: 'Dropped' }, token: adminToken() })
    expectOutage(res, 'database_unavailable')
    expect(await endpointRequests('sql')).toBe(1)
    // The batch never reached the database: the retry creates it.
    expect((await call(`${PLATFORM}/v1/tenants`, { body: { slug, name: 'Dropped' }, token: adminToken() })).status).toBe(201)
  })

  it('does not retry a read that failed with a Postgres error or a server error', async () => {
    await resetEndpointStats('sql')
    await faults('sql', { mode: 'fail', status: 503, count: 1 })
    const res = await platformGet('/v1/tenants')
    expect(res.status).toBe(503)
    expect(await endpointRequests('sql')).toBe(1)
  })
})

describe('GET /health under latency', () => {
  it('reports degraded (200) with the database slow, above HEALTH_SLOW_MS', async () => {
    // Wide margins on both sides of the threshold: a loaded machine must not make Redis "slow" too.
    await faults('sql', { mode: 'delay', delayMs: 2500 })
    const res = await withEnv({ HEALTH_SLOW_MS: '1500' }, `${PLATFORM}/health`)
    expectHealth(res, { status: 200, overall: 'degraded', database: 'slow', redis: 'up' })
  })

  it('reports the database down (503) once it is past its deadline', async () => {
    await faults('sql', { mode: 'delay', delayMs: 3000 })
    const res = await withEnv({ SQL_TIMEOUT_MS: '200' }, `${PLATFORM}/health`)
    expectHealth(res, { status: 503, overall: 'degraded', database: 'down' })
    expect(res.body.checks.database.error).toBe('database_unavailable')
  })
})
