import { afterEach, describe, expect, it } from 'vitest'
import { accessToken, call, createTenant, faults, tenantOrigin } from './support.ts'

afterEach(() => faults('redis', { mode: 'off' }))

const limited = () => createTenant({ settings: { rate_limit: { max: 3, window_seconds: 60 } } })

describe('rate limiting', () => {
  it('lets the limit through with RateLimit headers, then answers 429 with Retry-After', async () => {
    const t = await limited()
    const ip = { 'cf-connecting-ip': '203.0.113.7' }
    for (let i = 0; i < 3; i++) {
      const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: ip })
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('3')
      expect(res.headers.get('ratelimit-remaining')).toBe(String(2 - i))
    }
    const refused = await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: ip })
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('rate_limited')
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused.headers.get('ratelimit-remaining')).toBe('0')
  })

  it('counts each caller separately: another IP, or a signed-in user, has its own budget', async () => {
    const t = await limited()
    for (let i = 0; i < 3; i++) await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: { 'cf-connecting-ip': '203.0.113.8' } })
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: { 'cf-connecting-ip': '203.0.113.8' } })).status).toBe(429)
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: { 'cf-connecting-ip': '203.0.113.9' } })).status).toBe(200)
    const token = await accessToken(t, { sub: crypto.randomUUID() })
    const user = await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: { 'cf-connecting-ip': '203.0.113.8' }, token })
    expect(user.status).toBe(200)
  })

  it('counts each tenant separately', async () => {
    const a = await limited()
    const b = await limited()
    const ip = { 'cf-connecting-ip': '203.0.113.10' }
    for (let i = 0; i < 3; i++) await call(`${tenantOrigin(a.slug)}/v1/tenant`, { headers: ip })
    expect((await call(`${tenantOrigin(a.slug)}/v1/tenant`, { headers: ip })).status).toBe(429)
    expect((await call(`${tenantOrigin(b.slug)}/v1/tenant`, { headers: ip })).status).toBe(200)
  })

  it('lets requests through when Redis is unreachable', async () => {
    const t = await limited()
    await call(`${tenantOrigin(t.slug)}/v1/tenant`) // warm the tenant cache in the isolate
    await faults('redis', { mode: 'fail', status: 503 })
    for (let i = 0; i < 5; i++) {
      const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`, { headers: { 'cf-connecting-ip': '203.0.113.11' } })
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBeNull()
    }
  })
})
