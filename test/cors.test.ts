import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { allowedOriginProblem, originAllowed } from '../src/tenancy/cors-origins.ts'
import { adminToken, call, createTenant, type Owner, PLATFORM, signUp, tenantOrigin } from './support.ts'

const APP = 'https://app.example.com'

function preflight(url: string, origin: string, method = 'POST', headers = 'authorization, content-type') {
  return SELF.fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })
}

function corsHeaders(res: Response) {
  return [...res.headers.keys()].filter((h) => h.startsWith('access-control-'))
}

async function setOrigins(tenantId: string, origins: unknown) {
  return call(`${PLATFORM}/v1/tenants/${tenantId}`, { method: 'PATCH', token: adminToken(), body: { settings: { cors: { allowed_origins: origins } } } })
}

describe('allowed origin rules', () => {
  it('accepts serialised origins and a leading *. wildcard', () => {
    for (const ok of [APP, 'http://localhost:3000', 'https://*.example.com', 'http://127.0.0.1:5173', 'https://xn--bcher-kva.example']) {
      expect(allowedOriginProblem(ok), ok).toBeNull()
    }
  })

  it('refuses paths, other wildcards, default ports, odd schemes, null and bare TLD wildcards', () => {
    for (const bad of ['null', '*', 'https://*', 'https://*.com', 'https://a.*.example.com', 'https://app*.example.com', `${APP}/`, `${APP}/path`,
      'https://app.example.com:443', 'http://app.example.com:80', 'https://app.example.com:99999', 'ftp://app.example.com', 'HTTPS://APP.EXAMPLE.COM',
      'https://user@app.example.com', 'https://app.example.com?x=1', ' https://app.example.com', 'app.example.com', 'file://']) {
      expect(allowedOriginProblem(bad), bad).not.toBeNull()
    }
  })

  it('matches exactly, and wildcards label-wise with the same scheme and port', () => {
    const allowed = [APP, 'https://*.corp.example', 'http://localhost:3000']
    expect(originAllowed(APP, allowed)).toBe(true)
    expect(originAllowed('https://a.b.corp.example', allowed)).toBe(true)
    expect(originAllowed('http://localhost:3000', allowed)).toBe(true)
    for (const refused of ['null', 'http://app.example.com', 'https://app.example.com:8443', 'https://app.example.com.evil.test', 'https://evilapp.example.com',
      'https://corp.example', 'https://evilcorp.example', 'http://a.corp.example', 'https://corp.example.evil.test', 'http://localhost:3001', `${APP}/`, 'HTTPS://APP.EXAMPLE.COM']) {
      expect(originAllowed(refused, allowed), refused).toBe(false)
    }
    expect(originAllowed(undefined, allowed)).toBe(false)
  })
})

describe('CORS for the tenant’s browser apps', () => {
  let owner: Owner
  beforeAll(async () => {
    owner = await signUp()
    const res = await setOrigins(owner.tenant.id, [APP, 'https://*.corp.example'])
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.settings.cors).toEqual({ allowed_origins: [APP, 'https://*.corp.example'] })
  })

  it('validates cors.allowed_origins where settings are written', async () => {
    const t = await createTenant()
    for (const bad of [['*'], ['null'], ['https://app.example.com/'], 'https://app.example.com', [42], ['https://*.*.example.com']]) {
      const res = await setOrigins(t.id, bad)
      expect(res.status, JSON.stringify(bad)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(JSON.stringify(res.body.error.details)).toContain('cors')
    }
    const created = await call(`${PLATFORM}/v1/tenants`, { token: adminToken(), body: { slug: `cors-${crypto.randomUUID().slice(0, 8)}`, name: 'C', settings: { cors: { allowed_origins: ['https://*'] } } } })
    expect(created.status).toBe(400)
  })

  it('answers a preflight from a listed origin with exactly that origin, the methods and the headers', async () => {
    const res = await preflight(`${owner.host}/v1/me`, APP, 'PATCH')
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST, PUT, PATCH, DELETE')
    expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-API-Key, X-Request-Id')
    expect(res.headers.get('vary')).toContain('Origin')
    const wild = await preflight(`${owner.host}/v1/me`, 'https://team.corp.example')
    expect(wild.headers.get('access-control-allow-origin')).toBe('https://team.corp.example')
  })

  it('gives the actual answer (errors included) the origin with credentials, and exposes the request id', async () => {
    const ok = await SELF.fetch(`${owner.host}/v1/me`, { headers: { origin: APP, authorization: `Bearer ${owner.access_token}` } })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP)
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true')
    expect(ok.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
    const unauthenticated = await SELF.fetch(`${owner.host}/v1/me`, { headers: { origin: APP } })
    expect(unauthenticated.status).toBe(401)
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(APP)
  })

  it('gives any other origin no CORS header at all: null, look-alikes, another scheme or port', async () => {
    for (const origin of ['null', 'https://app.example.com.evil.test', 'https://evilapp.example.com', 'http://app.example.com', 'https://app.example.com:8443', 'https://corp.example', 'https://evilcorp.example']) {
      const pre = await preflight(`${owner.host}/v1/me`, origin)
      expect(pre.status, origin).toBe(403)
      expect(corsHeaders(pre), origin).toEqual([])
      const actual = await SELF.fetch(`${owner.host}/v1/me`, { headers: { origin, authorization: `Bearer ${owner.access_token}` } })
      expect(actual.status).toBe(200)
      expect(corsHeaders(actual), origin).toEqual([])
    }
  })

  it('is per tenant: another tenant, and the platform host, do not honour this tenant’s list', async () => {
    const other = await signUp()
    const pre = await preflight(`${other.host}/v1/me`, APP)
    expect(pre.status).toBe(403)
    expect(corsHeaders(pre)).toEqual([])
    const actual = await SELF.fetch(`${other.host}/v1/tenant`, { headers: { origin: APP } })
    expect(corsHeaders(actual)).toEqual([])
    const platform = await SELF.fetch(`${PLATFORM}/v1/auth/register`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST' } })
    expect(corsHeaders(platform)).toEqual([])
    expect((await SELF.fetch(`${tenantOrigin(owner.tenant.slug)}/health`, { headers: { origin: APP } })).status).toBe(200)
  })

  it('stops at once when the origin is removed from the list', async () => {
    const o = await signUp()
    await setOrigins(o.tenant.id, [APP])
    expect((await preflight(`${o.host}/v1/me`, APP)).status).toBe(204)
    expect((await setOrigins(o.tenant.id, [])).status).toBe(200)
    // The platform API clears the tenant caches on every change (the isolate cache of this isolate included).
    const res = await preflight(`${o.host}/v1/me`, APP)
    expect(res.status).toBe(403)
    expect(corsHeaders(res)).toEqual([])
  })
})
