import { Hono } from 'hono'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AppEnv } from '../../app-env.ts'
import type { ApiKeyPrincipal } from '../../identity/api-keys.ts'
import { hashToken } from '../../identity/secrets.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import type { AccessClaims } from '../auth/index.ts'
import { handleError } from '../request-context/errors.ts'
import { authenticateApiKey } from './index.ts'

/*
 * The middleware alone, with the key lookup (src/identity/api-keys.ts: cache, then the tenant's
 * schema) replaced by a table of known keys: which header carries a key, which keys pass, what the
 * route sees, and the use recorded after the answer. Through the real Worker: test/api-keys.test.ts.
 */
const lookups = vi.hoisted(() => ({ known: new Map<string, ApiKeyPrincipal>(), found: [] as string[], used: [] as string[], failUse: false }))
vi.mock('../../identity/api-keys.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../identity/api-keys.ts')>()),
  findApiKey: async (_deps: unknown, tenant: Tenant, keyHash: string) => {
    lookups.found.push(`${tenant.id}:${keyHash}`)
    return lookups.known.get(`${tenant.id}:${keyHash}`) ?? null
  },
  recordApiKeyUse: async (_deps: unknown, _tenant: Tenant, id: string) => {
    if (lookups.failUse) throw new Error('Redis is down')
    lookups.used.push(id)
  },
}))

const TENANT = { id: '018f0000-0000-7000-8000-00000000000a', schemaName: 'tenant_a' } as unknown as Tenant
const OTHER = { id: '018f0000-0000-7000-8000-00000000000b', schemaName: 'tenant_b' } as unknown as Tenant
const secret = (n: number) => `atr_${String(n).padStart(43, 'k')}`
const principal = (id: string, expiresAt: string | null = null): ApiKeyPrincipal => ({ id, name: `key ${id}`, roles: ['member'], expiresAt })

async function knownKey(tenant: Tenant, key: string, p: ApiKeyPrincipal) {
  lookups.known.set(`${tenant.id}:${await hashToken(key)}`, p)
}

afterEach(() => {
  lookups.known.clear()
  lookups.found = []
  lookups.used = []
  lookups.failUse = false
})

function harness(options: { tenant?: Tenant | null; user?: string } = {}) {
  const pending: Promise<unknown>[] = []
  const warnings: string[] = []
  const app = new Hono<AppEnv>()
  app.onError(handleError)
  app.use('*', async (c, next) => {
    c.set('tenant', options.tenant === undefined ? TENANT : options.tenant)
    c.set('auth', options.user ? ({ sub: options.user, exp: 0 } as AccessClaims) : null)
    c.set('logger', { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg), child: () => c.var.logger } as unknown as AppEnv['Variables']['logger'])
    await next()
  })
  app.use('*', authenticateApiKey())
  app.get('/who', (c) => c.json({ apiKey: c.var.apiKey }))
  const ctx = { waitUntil: (work: Promise<unknown>) => void pending.push(work), passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  const request = async (headers: Record<string, string>) => {
    const res = await app.request('/who', { headers }, {}, ctx)
    await Promise.all(pending)
    return { status: res.status, body: (await res.json()) as any }
  }
  return { request, warnings }
}

describe('authenticateApiKey', () => {
  it('leaves a request without a key to the other authentication (apiKey null), without a lookup', async () => {
    expect(await harness().request({})).toEqual({ status: 200, body: { apiKey: null } })
    // A bearer that is not an API key is the JWT middleware's.
    expect(await harness().request({ authorization: 'Bearer eyJhbGciOiJFUzUxMiJ9.e30.x' })).toEqual({ status: 200, body: { apiKey: null } })
    expect(lookups.found).toEqual([])
  })

  it('authenticates a key of the tenant from X-API-Key or Authorization: Bearer atr_…, and records its use after the answer', async () => {
    await knownKey(TENANT, secret(1), principal('key-1'))
    for (const headers of [{ 'x-api-key': secret(1) }, { 'x-api-key': ` ${secret(1)} ` }, { authorization: `Bearer ${secret(1)}` }, { authorization: `bearer ${secret(1)}` }] as Record<string, string>[]) {
      expect(await harness().request(headers), JSON.stringify(headers)).toEqual({ status: 200, body: { apiKey: principal('key-1') } })
    }
    expect(lookups.used).toEqual(['key-1', 'key-1', 'key-1', 'key-1'])
  })

  it('refuses an unknown or revoked key, another tenant’s key, and a malformed one (401 invalid_token, no lookup for the malformed)', async () => {
    await knownKey(OTHER, secret(2), principal('key-2'))
    const unknown = await harness().request({ 'x-api-key': secret(2) })
    expect(unknown.status).toBe(401)
    expect(unknown.body.error).toEqual({ code: 'invalid_token', message: 'The API key is invalid or revoked.' })
    const before = lookups.found.length
    const malformed = await harness().request({ 'x-api-key': 'atr_short' })
    expect(malformed.body.error).toEqual({ code: 'invalid_token', message: 'The API key is invalid.' })
    expect(lookups.found).toHaveLength(before)
    expect(lookups.used).toEqual([])
  })

  it('refuses an expired key', async () => {
    await knownKey(TENANT, secret(3), principal('key-3', new Date(Date.now() - 1000).toISOString()))
    await knownKey(TENANT, secret(4), principal('key-4', new Date(Date.now() + 60_000).toISOString()))
    const expired = await harness().request({ 'x-api-key': secret(3) })
    expect(expired.status).toBe(401)
    expect(expired.body.error).toEqual({ code: 'invalid_token', message: 'The API key has expired.' })
    expect((await harness().request({ 'x-api-key': secret(4) })).status).toBe(200)
  })

  it('refuses a key off a tenant host (401) and a key beside an access token (400 validation_failed)', async () => {
    await knownKey(TENANT, secret(5), principal('key-5'))
    const platform = await harness({ tenant: null }).request({ 'x-api-key': secret(5) })
    expect(platform.status).toBe(401)
    expect(platform.body.error.message).toMatch(/only for its tenant/)
    const both = await harness({ user: 'user-1' }).request({ 'x-api-key': secret(5) })
    expect(both.status).toBe(400)
    expect(both.body.error).toEqual({ code: 'validation_failed', message: 'Send either an access token or an API key, not both.' })
    expect(lookups.found).toEqual([])
  })

  it('answers the request even when recording the use fails, and logs a warning', async () => {
    await knownKey(TENANT, secret(6), principal('key-6'))
    lookups.failUse = true
    const h = harness()
    expect((await h.request({ 'x-api-key': secret(6) })).status).toBe(200)
    expect(h.warnings).toEqual(['could not record API key use'])
  })
})
