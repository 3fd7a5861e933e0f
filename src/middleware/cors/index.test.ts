import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { Tenant } from '../../tenancy/registry.ts'
import { handleError } from '../request-context/errors.ts'
import type { TenantVariables } from '../tenant/index.ts'
import { CORS_ALLOWED_HEADERS, CORS_ALLOWED_METHODS, CORS_EXPOSED_HEADERS, tenantCors } from './index.ts'

/* The middleware alone, behind a stand-in for tenant resolution (a tenant with `allowed_origins`, or the platform host). */
const APP = 'https://app.example.com'

function app(allowedOrigins: string[] | null) {
  const app = new Hono<{ Variables: TenantVariables }>()
  app.onError(handleError)
  app.use('*', async (c, next) => {
    c.set('tenant', allowedOrigins === null ? null : ({ id: 't-1', settings: { cors: { allowed_origins: allowedOrigins } } } as unknown as Tenant))
    await next()
  })
  app.use('*', tenantCors())
  app.get('/thing', (c) => c.json({ ok: true }))
  app.get('/fails', () => {
    throw new Error('boom')
  })
  app.options('/thing', (c) => c.json({ reached: 'route' }))
  return app
}

const preflight = (origin: string, method = 'POST') => ({ method: 'OPTIONS', headers: { origin, 'access-control-request-method': method } })

describe('tenantCors', () => {
  it('answers a preflight from a listed origin itself (204): that origin, credentials, methods, headers, max-age, Vary', async () => {
    const res = await app([APP]).request('/thing', preflight(APP))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('access-control-allow-methods')).toBe(CORS_ALLOWED_METHODS.join(', '))
    expect(res.headers.get('access-control-allow-headers')).toBe(CORS_ALLOWED_HEADERS.join(', '))
    expect(res.headers.get('access-control-max-age')).toBe('600')
    expect(res.headers.get('vary')).toBe('Origin')
  })

  it('refuses a preflight from an unlisted origin (403 cors_origin_not_allowed), and every preflight on the platform host', async () => {
    for (const [origins, origin] of [[[APP], 'https://evil.example.com'], [[APP], 'null'], [[APP], `${APP}.evil.com`], [null, APP]] as const) {
      const res = await app(origins as string[] | null).request('/thing', preflight(origin))
      expect(res.status, origin).toBe(403)
      expect(((await res.json()) as any).error.code).toBe('cors_origin_not_allowed')
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  it('lets an OPTIONS request that is no preflight (no Origin or no requested method) reach the route', async () => {
    expect(await (await app([APP]).request('/thing', { method: 'OPTIONS', headers: { origin: APP } })).json()).toEqual({ reached: 'route' })
    expect(await (await app([APP]).request('/thing', { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } })).json()).toEqual({ reached: 'route' })
  })

  it('gives a listed origin its own origin back with credentials and the exposed headers, errors included', async () => {
    for (const path of ['/thing', '/fails']) {
      const res = await app([APP, 'https://*.example.org']).request(path, { headers: { origin: APP } })
      expect(res.headers.get('access-control-allow-origin'), path).toBe(APP)
      expect(res.headers.get('access-control-allow-credentials'), path).toBe('true')
      expect(res.headers.get('access-control-expose-headers'), path).toBe(CORS_EXPOSED_HEADERS.join(', '))
      expect(res.headers.get('vary'), path).toBe('Origin')
    }
    const sub = await app(['https://*.example.org']).request('/thing', { headers: { origin: 'https://a.b.example.org' } })
    expect(sub.headers.get('access-control-allow-origin')).toBe('https://a.b.example.org')
  })

  it('gives an unlisted origin no CORS header (but Vary: Origin when the tenant lists any), and none at all on the platform host', async () => {
    const other = await app([APP]).request('/thing', { headers: { origin: 'https://example.org' } })
    expect(other.status).toBe(200)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    expect(other.headers.get('access-control-allow-credentials')).toBeNull()
    expect(other.headers.get('vary')).toBe('Origin')
    const none = await app([]).request('/thing', { headers: { origin: APP } })
    expect(none.headers.get('access-control-allow-origin')).toBeNull()
    expect(none.headers.get('vary')).toBeNull()
    const platform = await app(null).request('/thing', { headers: { origin: APP } })
    expect(platform.headers.get('access-control-allow-origin')).toBeNull()
    expect(platform.headers.get('vary')).toBeNull()
  })
})
