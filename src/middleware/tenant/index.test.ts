import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { TenantDirectory, TenantKey } from '../../tenancy/directory.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { handleError } from '../request-context/errors.ts'
import { platformHostOnly, resolveTenant, tenantHostOnly, type TenantVariables } from './index.ts'

/*
 * The middleware alone, with a recording stand-in for the tenant directory (the cached lookup):
 * which host names which tenant, which lookups are made, and the refusals. Resolution through the
 * real Worker and its caches is in test/tenant-resolution.test.ts.
 */
const ACME = { id: '018f0000-0000-7000-8000-00000000ac01', slug: 'acme', status: 'active' } as unknown as Tenant
const SLEEPY = { id: '018f0000-0000-7000-8000-000000005eee', slug: 'sleepy', status: 'suspended' } as unknown as Tenant
const GONE = { id: '018f0000-0000-7000-8000-00000000900e', slug: 'gone', status: 'deleted' } as unknown as Tenant

function harness(options: { allowHeader?: boolean } = {}) {
  const lookups: TenantKey[] = []
  const directory = {
    async find(key: TenantKey) {
      lookups.push(key)
      return [ACME, SLEEPY, GONE].find((t) => ('slug' in key ? t.slug === key.slug : t.id === key.id))
    },
  } as unknown as TenantDirectory
  const app = new Hono<{ Variables: TenantVariables & { tenants: TenantDirectory } }>()
  app.onError(handleError)
  app.use('*', async (c, next) => {
    c.set('tenants', directory)
    await next()
  })
  app.use('*', resolveTenant(() => ({ baseDomains: ['atrium.test', 'localhost'], allowHeader: options.allowHeader ?? false })))
  app.get('/which', (c) => c.json({ tenant: c.var.tenant?.slug ?? null }))
  app.get('/tenant-only', tenantHostOnly(), (c) => c.json({ ok: true }))
  app.get('/platform-only', platformHostOnly(), (c) => c.json({ ok: true }))
  const request = async (url: string, headers: Record<string, string> = {}) => {
    const res = await app.request(url, { headers })
    return { status: res.status, body: (await res.json()) as any }
  }
  return { request, lookups }
}

describe('resolveTenant', () => {
  it('names the tenant by the subdomain of any base domain, and none on the apex or a host outside them', async () => {
    const h = harness()
    expect((await h.request('http://acme.atrium.test/which')).body).toEqual({ tenant: 'acme' })
    expect((await h.request('http://acme.localhost/which')).body).toEqual({ tenant: 'acme' })
    expect((await h.request('http://ACME.atrium.test/which')).body).toEqual({ tenant: 'acme' })
    for (const url of ['http://atrium.test/which', 'http://localhost/which', 'http://atrium.example.workers.dev/which', 'http://127.0.0.1/which']) {
      expect((await h.request(url)).body, url).toEqual({ tenant: null })
    }
    expect(h.lookups).toEqual([{ slug: 'acme' }, { slug: 'acme' }, { slug: 'acme' }])
  })

  it('answers 404 tenant_not_found for an unknown or deleted tenant, and for a name that cannot be a slug without a lookup', async () => {
    const h = harness()
    for (const host of ['nobody.atrium.test', 'gone.atrium.test', '-acme.atrium.test', 'ab--cd.atrium.test', 'x.acme.atrium.test']) {
      const res = await h.request(`http://${host}/which`)
      expect(res.status, host).toBe(404)
      expect(res.body.error.code, host).toBe('tenant_not_found')
    }
    expect(h.lookups).toEqual([{ slug: 'nobody' }, { slug: 'gone' }])
  })

  it('answers 403 tenant_suspended for a suspended tenant', async () => {
    const res = await harness().request('http://sleepy.atrium.test/which')
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('tenant_suspended')
  })

  it('takes X-Tenant-ID (an id or a slug, any case) on the platform host only where allowed, and refuses it elsewhere (400)', async () => {
    const allowed = harness({ allowHeader: true })
    expect((await allowed.request('http://localhost/which', { 'x-tenant-id': ` ${ACME.id.toUpperCase()} ` })).body).toEqual({ tenant: 'acme' })
    expect((await allowed.request('http://localhost/which', { 'x-tenant-id': 'Acme' })).body).toEqual({ tenant: 'acme' })
    expect(allowed.lookups).toEqual([{ id: ACME.id }, { slug: 'acme' }])
    // On a tenant host the host names the tenant; the header is not read.
    expect((await allowed.request('http://acme.atrium.test/which', { 'x-tenant-id': SLEEPY.id })).body).toEqual({ tenant: 'acme' })

    const refused = await harness().request('http://localhost/which', { 'x-tenant-id': ACME.id })
    expect(refused.status).toBe(400)
    expect(refused.body.error.code).toBe('tenant_header_not_allowed')
  })
})

describe('tenantHostOnly and platformHostOnly', () => {
  it('serve a route on its own kind of host only (404 tenant_required / platform_host_required on the other)', async () => {
    const h = harness()
    expect((await h.request('http://acme.atrium.test/tenant-only')).status).toBe(200)
    const onPlatform = await h.request('http://localhost/tenant-only')
    expect(onPlatform.status).toBe(404)
    expect(onPlatform.body.error.code).toBe('tenant_required')
    expect((await h.request('http://localhost/platform-only')).status).toBe(200)
    const onTenant = await h.request('http://acme.atrium.test/platform-only')
    expect(onTenant.status).toBe(404)
    expect(onTenant.body.error.code).toBe('platform_host_required')
  })
})
