import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../../app-env.ts'
import type { Database } from '../../platform/database.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Redis } from '../../platform/redis.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import type { AccessClaims } from '../auth/index.ts'
import { handleError } from '../request-context/errors.ts'
import { mfaEnabledKey } from '../../identity/mfa/status.ts'
import { requireMfaEnrolment } from './index.ts'

/*
 * The middleware alone, in front of a catch-all route. Its storage is a recording stand-in:
 * Redis answers from a Map, and the database answers "enrolled?" from a set (the query
 * itself is exercised through the real Worker in test/mfa.test.ts). What is checked here is
 * when the middleware reads anything at all.
 */
const USER = '018f0000-0000-7000-8000-000000000001'
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent }

function harness(settings: Record<string, unknown>, options: { auth?: boolean; enrolled?: boolean } = {}) {
  const reads = { sql: 0, redis: 0 }
  const cache = new Map<string, unknown>()
  const redis = {
    get: async (key: string) => (reads.redis++, cache.get(key) ?? null),
    set: async (key: string, value: unknown) => (cache.set(key, value), 'OK'),
    del: async (key: string) => Number(cache.delete(key)),
  } as unknown as Redis
  // hasTotpEnabled: select … from user_mfa where … limit 1
  const chain = { from: () => chain, where: () => chain, limit: async () => (reads.sql++, options.enrolled ? [{ userId: USER }] : []) }
  const db = { select: () => chain } as unknown as Database

  const app = new Hono<AppEnv>()
  app.onError(handleError)
  app.use('*', async (c, next) => {
    c.set('tenant', { id: 't', settings } as unknown as Tenant)
    c.set('auth', options.auth === false ? null : ({ sub: USER, exp: 0 } as AccessClaims))
    c.set('db', db)
    c.set('redis', redis)
    c.set('logger', silent)
    await next()
  })
  app.use('*', requireMfaEnrolment())
  app.all('*', (c) => c.json({ ok: true }))
  const request = async (method: string, path: string) => {
    const res = await app.request(path, { method })
    return { status: res.status, code: res.status === 200 ? null : ((await res.json()) as { error: { code: string } }).error.code }
  }
  return { request, reads, cache }
}

describe('requireMfaEnrolment', () => {
  it('reads nothing for a tenant without require_mfa, nor for a request without a user', async () => {
    const off = harness({ signup_policy: 'open' })
    expect(await off.request('GET', '/v1/me/tenants')).toEqual({ status: 200, code: null })
    expect(off.reads).toEqual({ sql: 0, redis: 0 })
    const anonymous = harness({ require_mfa: true }, { auth: false })
    expect(await anonymous.request('GET', '/v1/tenant')).toEqual({ status: 200, code: null })
    expect(anonymous.reads).toEqual({ sql: 0, redis: 0 })
  })

  it('refuses a user without TOTP with 403 mfa_enrolment_required, but lets enrolment, GET /v1/me, refresh and logout through', async () => {
    const h = harness({ require_mfa: true })
    for (const [method, path] of [['GET', '/v1/me/tenants'], ['PATCH', '/v1/me'], ['POST', '/v1/auth/logout-all'], ['GET', '/v1/me/mfa-other'], ['GET', '/v1/audit']]) {
      expect(await h.request(method!, path!), `${method} ${path}`).toEqual({ status: 403, code: 'mfa_enrolment_required' })
    }
    for (const [method, path] of [['GET', '/v1/me'], ['GET', '/v1/me/mfa'], ['POST', '/v1/me/mfa/totp'], ['POST', '/v1/me/mfa/totp/confirm'], ['DELETE', '/v1/me/mfa'], ['POST', '/v1/auth/logout'], ['POST', '/v1/auth/refresh']]) {
      expect(await h.request(method!, path!), `${method} ${path}`).toEqual({ status: 200, code: null })
    }
    // Nothing cached for a user who has not enrolled: enrolling takes effect at once.
    expect(h.cache.size).toBe(0)
  })

  it('lets an enrolled user through, and answers from the cache after the first request', async () => {
    const h = harness({ require_mfa: true }, { enrolled: true })
    expect(await h.request('GET', '/v1/me/tenants')).toEqual({ status: 200, code: null })
    expect(h.reads.sql).toBe(1)
    expect(h.cache.get(mfaEnabledKey(USER))).toBe(1)
    expect(await h.request('GET', '/v1/me/sessions')).toEqual({ status: 200, code: null })
    expect(h.reads.sql).toBe(1)
  })
})
