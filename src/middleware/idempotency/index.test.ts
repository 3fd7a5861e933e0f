import { Hono } from 'hono'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AppEnv } from '../../app-env.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import type { AccessClaims } from '../auth/index.ts'
import { handleError } from '../request-context/errors.ts'
import { idempotent, type IdempotencyVariables } from './index.ts'
import type { ClaimOutcome, KeyRef } from '../../db/idempotency-keys.ts'

/*
 * The middleware alone, with the key store (src/db/idempotency-keys.ts: conditional SQL on the tenant's
 * idempotency_keys) replaced by the same decisions over a map, so each outcome can be set up:
 * a route that creates (and marks its batch) behind it. The store's SQL and concurrency through
 * the real Worker: test/idempotency.test.ts.
 */
type Row = { fingerprint: string; claimId: string; state: 'started' | 'committed' | 'done'; location: string | null; response: string | null; leaseOver: boolean }
const keys = vi.hoisted(() => ({ rows: new Map<string, Row>(), inFlightSeconds: 7 }))
vi.mock('../../db/idempotency-keys.ts', async (importOriginal) => {
  const id = (ref: KeyRef) => `${ref.scope}|${ref.key}`
  return {
    ...(await importOriginal<typeof import('../../db/idempotency-keys.ts')>()),
    claimKey: async (_db: unknown, ref: KeyRef, fingerprint: string, claimId: string): Promise<ClaimOutcome> => {
      const row = keys.rows.get(id(ref))
      if (!row) {
        keys.rows.set(id(ref), { fingerprint, claimId, state: 'started', location: null, response: null, leaseOver: false })
        return { kind: 'claimed' }
      }
      if (row.claimId === claimId) return { kind: 'claimed' }
      if (row.fingerprint !== fingerprint) return { kind: 'reused' }
      if (row.state === 'done' && row.response) return { kind: 'done', response: row.response }
      if (row.state === 'committed' && row.leaseOver) return { kind: 'committed', location: row.location }
      return { kind: 'in_progress', retryAfterSeconds: keys.inFlightSeconds }
    },
    committedStatement: async (_db: unknown, ref: KeyRef, claimId: string, location: string) => {
      const row = keys.rows.get(id(ref))
      if (row?.claimId === claimId) Object.assign(row, { state: 'committed', location })
    },
    storeResponse: async (_db: unknown, ref: KeyRef, claimId: string, sealed: string) => {
      const row = keys.rows.get(id(ref))
      if (row?.claimId === claimId) Object.assign(row, { state: 'done', response: sealed })
    },
    releaseKey: async (_db: unknown, ref: KeyRef, claimId: string) => {
      if (keys.rows.get(id(ref))?.claimId === claimId) keys.rows.delete(id(ref))
    },
  }
})
afterEach(() => keys.rows.clear())

const TENANT = { id: '018f0000-0000-7000-8000-00000000000a', schemaName: 'tenant_a' } as unknown as Tenant
const DATA_KEY = Buffer.from(new Uint8Array(32).fill(7)).toString('base64url')

function harness() {
  const runs: unknown[] = []
  const errors: string[] = []
  const app = new Hono<AppEnv & { Variables: IdempotencyVariables }>()
  app.onError(handleError)
  let user = 'user-1'
  app.use('*', async (c, next) => {
    c.set('tenant', TENANT)
    c.set('auth', { sub: user, exp: 0 } as AccessClaims)
    c.set('apiKey', null)
    c.set('db', {} as AppEnv['Variables']['db'])
    c.set('config', { DATA_ENCRYPTION_KEY: DATA_KEY } as AppEnv['Variables']['config'])
    c.set('logger', { debug() {}, info() {}, warn() {}, error: (msg: string) => void errors.push(msg), child: () => c.var.logger } as unknown as AppEnv['Variables']['logger'])
    await next()
  })
  // Creates a widget (the batch marks the key), or fails when asked to; /unmarked forgets to mark its batch.
  app.post('/widgets', idempotent(), async (c) => {
    const body = (await c.req.json()) as { name: string; fail?: boolean }
    runs.push(body)
    if (body.fail) return c.json({ error: { code: 'conflict', message: 'No.' } }, 409)
    const id = `w-${runs.length}`
    await c.var.idempotency?.committed(`/widgets/${id}`)
    return c.json({ id, name: body.name, secret: 'shown-once' }, 201, { Location: `/widgets/${id}` })
  })
  app.post('/unmarked', idempotent(), (c) => c.json({ ok: true }, 201))
  const request = async (path: string, key: string | undefined, body: string, as = 'user-1') => {
    user = as
    const res = await app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) } })
    return { status: res.status, headers: res.headers, body: (await res.json()) as any }
  }
  return { request, runs, errors }
}

describe('idempotent', () => {
  it('runs a request without Idempotency-Key as usual, keeping nothing', async () => {
    const h = harness()
    expect((await h.request('/widgets', undefined, '{"name":"a"}')).status).toBe(201)
    expect((await h.request('/widgets', undefined, '{"name":"a"}')).status).toBe(201)
    expect(h.runs).toHaveLength(2)
    expect(keys.rows.size).toBe(0)
  })

  it('refuses a key that is not 1 to 255 visible ASCII characters (400 idempotency_key_invalid), before the route', async () => {
    const h = harness()
    for (const key of ['', 'has space', 'é', 'x'.repeat(256)]) {
      const res = await h.request('/widgets', key, '{"name":"a"}')
      expect(res.status, key).toBe(400)
      expect(res.body.error.code).toBe('idempotency_key_invalid')
    }
    expect(h.runs).toEqual([])
  })

  it('answers a retry with the first answer (status, body, Location, Idempotency-Replayed), whatever the body’s key order and spacing; stored encrypted', async () => {
    const h = harness()
    const first = await h.request('/widgets', 'k-1', '{"name":"a","size":2}')
    expect(first.status).toBe(201)
    const again = await h.request('/widgets', 'k-1', '{ "size": 2, "name": "a" }')
    expect(again.status).toBe(201)
    expect(again.body).toEqual(first.body)
    expect(again.headers.get('location')).toBe('/widgets/w-1')
    expect(again.headers.get('idempotency-replayed')).toBe('true')
    expect(first.headers.get('idempotency-replayed')).toBeNull()
    expect(h.runs).toHaveLength(1)
    const [row] = [...keys.rows.values()]
    expect(row!.state).toBe('done')
    expect(row!.response).not.toContain('shown-once')
  })

  it('refuses the same key with another request (422 idempotency_key_reused): another body or another path', async () => {
    const h = harness()
    await h.request('/widgets', 'k-2', '{"name":"a"}')
    const other = await h.request('/widgets', 'k-2', '{"name":"b"}')
    expect(other.status).toBe(422)
    expect(other.body.error.code).toBe('idempotency_key_reused')
    expect((await h.request('/unmarked', 'k-2', '{"name":"a"}')).status).toBe(422)
    expect(h.runs).toHaveLength(1)
  })

  it('answers 409 idempotency_in_progress with Retry-After while the first request runs', async () => {
    const h = harness()
    await h.request('/widgets', 'k-3', '{"name":"a"}')
    Object.assign([...keys.rows.values()][0]!, { state: 'started', response: null })
    const res = await h.request('/widgets', 'k-3', '{"name":"a"}')
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('idempotency_in_progress')
    expect(res.headers.get('retry-after')).toBe(String(keys.inFlightSeconds))
  })

  it('answers 409 idempotency_key_committed with the location when the change committed but its answer was never stored', async () => {
    const h = harness()
    await h.request('/widgets', 'k-4', '{"name":"a"}')
    Object.assign([...keys.rows.values()][0]!, { state: 'committed', response: null, leaseOver: true })
    const res = await h.request('/widgets', 'k-4', '{"name":"a"}')
    expect(res.status).toBe(409)
    expect(res.body.error).toMatchObject({ code: 'idempotency_key_committed', details: { location: '/widgets/w-1' } })
    expect(h.runs).toHaveLength(1)
  })

  it('releases the key after an error answer: the retry runs afresh', async () => {
    const h = harness()
    expect((await h.request('/widgets', 'k-5', '{"name":"a","fail":true}')).status).toBe(409)
    expect(keys.rows.size).toBe(0)
    expect((await h.request('/widgets', 'k-5', '{"name":"a","fail":true}')).status).toBe(409)
    expect(h.runs).toHaveLength(2)
  })

  it('keeps the keys of different callers apart', async () => {
    const h = harness()
    await h.request('/widgets', 'k-6', '{"name":"a"}', 'user-1')
    const other = await h.request('/widgets', 'k-6', '{"name":"a"}', 'user-2')
    expect(other.status).toBe(201)
    expect(other.headers.get('idempotency-replayed')).toBeNull()
    expect(h.runs).toHaveLength(2)
  })

  it('logs an error when an idempotent route succeeds without marking its batch', async () => {
    const h = harness()
    expect((await h.request('/unmarked', 'k-7', '{}')).status).toBe(201)
    expect(h.errors).toEqual(['idempotent route answered without marking its batch'])
  })
})
