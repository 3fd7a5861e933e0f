import { afterEach, describe, expect, it } from 'vitest'
import { call, createTenant, faults, PLATFORM, tenantOrigin } from './support.ts'

afterEach(async () => {
  await faults('sql', { mode: 'off' })
  await faults('redis', { mode: 'off' })
})

describe('GET /health', () => {
  it('reports database and Redis up with their latency', async () => {
    const res = await call(`${PLATFORM}/health`)
    expect(res.status).toBe(200)
    expect(res.body.status).toBe('ok')
    expect(res.body.checks.database).toMatchObject({ status: 'up' })
    expect(res.body.checks.redis).toMatchObject({ status: 'up' })
    expect(typeof res.body.checks.database.latency_ms).toBe('number')
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('answers 503 degraded when Redis is down, the database still up', async () => {
    await faults('redis', { mode: 'fail', status: 503 })
    const res = await call(`${PLATFORM}/health`)
    expect(res.status).toBe(503)
    expect(res.body.status).toBe('degraded')
    expect(res.body.checks.redis.status).toBe('down')
    expect(res.body.checks.database.status).toBe('up')
  })

  it('answers 503 degraded when the database is down', async () => {
    await faults('sql', { mode: 'fail', status: 503 })
    const res = await call(`${PLATFORM}/health`)
    expect(res.status).toBe(503)
    expect(res.body.checks.database.status).toBe('down')
    expect(res.body.checks.redis.status).toBe('up')
  })

  it('is answered on tenant hosts too, before tenant resolution', async () => {
    const t = await createTenant()
    expect((await call(`${tenantOrigin(t.slug)}/health`)).status).toBe(200)
    expect((await call(`${tenantOrigin('no-such-tenant-here')}/health`)).status).toBe(200)
  })
})
