import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedisServer, type RedisServer } from '../../../local/redis-server.ts'
import type { Logger } from '../../platform/logger.ts'
import { connectRedis, type Redis } from '../../platform/redis.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import type { ApiKeyVariables } from '../api-key/index.ts'
import type { AccessClaims, AuthVariables } from '../auth/index.ts'
import { handleError } from '../request-context/errors.ts'
import type { TenantVariables } from '../tenant/index.ts'
import { rateLimit, type RateLimit } from './index.ts'

/*
 * The middleware alone, in front of a route that answers 200, against this file's own embedded
 * Redis REST endpoint (local/redis-server.ts, which runs the limiter's Lua script): counts, the
 * headers, the refusal, who is counted, and an unreachable Redis. Through the real Worker:
 * test/rate-limit.test.ts.
 */
const TOKEN = crypto.randomUUID()
let server: RedisServer
let redis: Redis
beforeAll(async () => {
  server = await startRedisServer({ port: 0, token: TOKEN })
  redis = connectRedis(server.url, TOKEN)
})
afterAll(() => server.close())

interface Caller { user?: string; apiKey?: string; ip?: string; tenant?: string }

function harness(limit: RateLimit, options: { byIp?: boolean; redis?: () => Redis } = {}) {
  const warnings: string[] = []
  const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg), child: () => logger } as unknown as Logger
  const app = new Hono<{ Variables: AuthVariables & ApiKeyVariables & TenantVariables & { redis: Redis; logger: Logger } }>()
  app.onError(handleError)
  let caller: Caller = {}
  app.use('*', async (c, next) => {
    c.set('tenant', caller.tenant ? ({ id: caller.tenant } as Tenant) : null)
    c.set('auth', caller.user ? ({ sub: caller.user, exp: 0 } as AccessClaims) : null)
    c.set('apiKey', caller.apiKey ? { id: caller.apiKey, name: 'k', roles: [], expiresAt: null } : null)
    c.set('redis', options.redis ? options.redis() : redis)
    c.set('logger', logger)
    await next()
  })
  // A prefix per harness: each test counts on its own.
  app.use('*', rateLimit({ limitFor: () => limit, prefix: `rl-test-${crypto.randomUUID()}`, byIp: options.byIp }))
  app.get('/thing', (c) => c.json({ ok: true }))
  const request = async (who: Caller = {}) => {
    caller = who
    const res = await app.request('/thing', { headers: { 'cf-connecting-ip': who.ip ?? '198.18.0.1' } })
    return { status: res.status, headers: res.headers, body: (await res.json()) as any }
  }
  return { request, warnings }
}

describe('rateLimit', () => {
  it('lets max requests through with RateLimit headers counting down, then answers 429 rate_limited with Retry-After', async () => {
    const h = harness({ max: 3, windowSeconds: 60 })
    for (const remaining of ['2', '1', '0']) {
      const res = await h.request()
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('3')
      expect(res.headers.get('ratelimit-remaining')).toBe(remaining)
      expect(Number(res.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60)
    }
    const refused = await h.request()
    expect(refused.status).toBe(429)
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', details: { limit: 3, window_seconds: 60 } })
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused.headers.get('ratelimit-remaining')).toBe('0')
  })

  it('counts each caller on its own: a user, an API key, an address, and the same caller in another tenant', async () => {
    const h = harness({ max: 1, windowSeconds: 60 })
    const callers: Caller[] = [{ user: 'u-1' }, { user: 'u-2' }, { apiKey: 'k-1' }, { ip: '198.18.0.2' }, { ip: '198.18.0.3' }, { user: 'u-1', tenant: 't-2' }]
    for (const who of callers) expect((await h.request(who)).status, JSON.stringify(who)).toBe(200)
    for (const who of callers) expect((await h.request(who)).status, JSON.stringify(who)).toBe(429)
    // A signed-in user is counted as the user, whatever address it comes from.
    expect((await h.request({ user: 'u-1', ip: '198.18.0.9' })).status).toBe(429)
  })

  it('counts per address when byIp is set, even for a signed-in user', async () => {
    const h = harness({ max: 1, windowSeconds: 60 }, { byIp: true })
    expect((await h.request({ user: 'u-1', ip: '198.18.1.1' })).status).toBe(200)
    expect((await h.request({ user: 'u-2', ip: '198.18.1.1' })).status).toBe(429)
    expect((await h.request({ user: 'u-1', ip: '198.18.1.2' })).status).toBe(200)
  })

  it('lets the request through, without headers, when Redis cannot be reached, and logs it', async () => {
    const h = harness({ max: 1, windowSeconds: 60 }, { redis: () => connectRedis('http://127.0.0.1:9', TOKEN, { timeoutMs: 500 }) })
    for (let i = 0; i < 2; i++) {
      const res = await h.request()
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBeNull()
    }
    expect(h.warnings).toEqual(['rate limiter unavailable; request let through', 'rate limiter unavailable; request let through'])
  })
})
