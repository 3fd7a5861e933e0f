import { Hono } from 'hono'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { currentBudget } from '../../platform/deadline.ts'
import { handleError } from './errors.ts'
import { requestContext, type RequestContextVariables } from './index.ts'

/*
 * The middleware alone, first in a small app, with a configuration of its own: nothing here
 * reaches a backend (the clients are only built). Through the real Worker: test/http.test.ts.
 */
const ENV = {
  ENVIRONMENT: 'test',
  DATABASE_URL: 'postgres://atrium:atrium@127.0.0.1:1/atrium',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: 'token',
  JWT_PRIVATE_KEY: 'unused here',
  PLATFORM_ADMIN_TOKEN: 'a-platform-admin-token-of-24+',
  DATA_ENCRYPTION_KEY: 'A'.repeat(43),
  MAIL_TRANSPORT: 'outbox',
  LOG_LEVEL: 'info',
  REQUEST_BUDGET_MS: '5000',
}

function app() {
  const app = new Hono<{ Variables: RequestContextVariables }>()
  app.onError(handleError)
  app.use('*', requestContext())
  app.get('/vars', (c) =>
    c.json({
      requestId: c.var.requestId,
      environment: c.var.config.ENVIRONMENT,
      clients: ['logger', 'db', 'redis', 'round', 'tenants'].filter((name) => c.get(name as keyof RequestContextVariables) !== undefined),
      budget: currentBudget() !== undefined,
    }),
  )
  app.get('/teapot', (c) => c.json({ ok: false }, 418))
  return app
}

const logs = () => {
  const lines: Array<Record<string, unknown>> = []
  for (const level of ['log', 'warn', 'error'] as const) vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(JSON.parse(line)))
  return lines
}
afterEach(() => {
  vi.restoreAllMocks()
})

describe('requestContext', () => {
  it('keeps a well-formed X-Request-Id, answers it, and puts it on the context', async () => {
    logs()
    const res = await app().request('/vars', { headers: { 'x-request-id': 'req-12345678' } }, ENV)
    expect(res.headers.get('x-request-id')).toBe('req-12345678')
    expect(((await res.json()) as any).requestId).toBe('req-12345678')
  })

  it('replaces a malformed or missing one with a UUID', async () => {
    logs()
    for (const incoming of ['bad id with spaces', 'short', 'x'.repeat(129), undefined]) {
      const res = await app().request('/vars', { headers: incoming === undefined ? {} : { 'x-request-id': incoming } }, ENV)
      const id = res.headers.get('x-request-id')!
      expect(id, String(incoming)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(((await res.json()) as any).requestId).toBe(id)
    }
  })

  it('puts the parsed configuration and the platform clients on the context, and runs the route under the request’s budget', async () => {
    logs()
    const body = (await (await app().request('/vars', {}, ENV)).json()) as any
    expect(body).toMatchObject({ environment: 'test', clients: ['logger', 'db', 'redis', 'round', 'tenants'], budget: true })
    expect(currentBudget()).toBeUndefined()
  })

  it('writes one log line per request, with the request id, method, path and status', async () => {
    const lines = logs()
    await app().request('/teapot', { headers: { 'x-request-id': 'req-teapot-1' } }, ENV)
    expect(lines).toEqual([expect.objectContaining({ level: 'info', msg: 'request', request_id: 'req-teapot-1', method: 'GET', path: '/teapot', status: 418, duration_ms: expect.any(Number) })])
    const quiet = logs()
    await app().request('/teapot', {}, { ...ENV, LOG_LEVEL: 'warn' })
    expect(quiet).toEqual([])
  })

  it('answers a bad configuration with a JSON 500 misconfigured naming the variable, with the request id, logged as an error', async () => {
    const lines = logs()
    const res = await app().request('/vars', { headers: { 'x-request-id': 'req-misconfigured' } }, { ...ENV, DATABASE_URL: 'mysql://nope' })
    expect(res.status).toBe(500)
    expect(res.headers.get('x-request-id')).toBe('req-misconfigured')
    const body = (await res.json()) as any
    expect(body.error.code).toBe('misconfigured')
    expect(body.error.message).toContain('DATABASE_URL')
    expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'configuration error', request_id: 'req-misconfigured' })])
  })
})
