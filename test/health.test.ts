import { describe, expect, it } from 'vitest'
import { call, createTenant, expectHealth, faults, healEndpointsAfterEach, PLATFORM, tenantOrigin } from './support.ts'

healEndpointsAfterEach()

describe('GET /health', () => {
  it('reports database and Redis up with their latency', async () => {
    const res = await call(`${PLATFORM}/health`)
    expectHealth(res, { status: 200, overall: 'ok', database: 'up', redis: 'up' })
    expect(typeof res.body.checks.database.latency_ms).toBe('number')
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('answers 503 degraded when Redis is down, the database still up', async () => {
    await faults('redis', { mode: 'fail', status: 503 })
    const res = await call(`${PLATFORM}/health`)
    expectHealth(res, { status: 503, overall: 'degraded', database: 'up', redis: 'down' })
  })

  it('answers 503 degraded when the database is down', async () => {
    await faults('sql', { mode: 'fail', status: 503 })
    const res = await call(`${PLATFORM}/health`)
    expectHealth(res, { status: 503, overall: 'degraded', database: 'down', redis: 'up' })
  })

  it('is answered on tenant hosts too, before tenant resolution', async () => {
    const t = await createTenant()
    expect((await call(`${tenantOrigin(t.slug)}/health`)).status).toBe(200)
    expect((await call(`${tenantOrigin('no-such-tenant-here')}/health`)).status).toBe(200)
  })
})
