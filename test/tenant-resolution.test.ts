import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { call, createTenant, endpointRequests, faults, healEndpointsAfterEach, PLATFORM, resetEndpointStats, tenantAction, tenantOrigin, uniqueSlug, withEnv } from './support.ts'

healEndpointsAfterEach()

describe('tenant resolution', () => {
  it('answers 404 tenant_not_found for an unknown subdomain', async () => {
    const res = await call(`${tenantOrigin(uniqueSlug('nobody'))}/v1/tenant`)
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('tenant_not_found')
  })

  it('answers 404 for a nested subdomain and for a name that cannot be a slug', async () => {
    const t = await createTenant()
    expect((await call(`http://x.${t.slug}.atrium.test/v1/tenant`)).status).toBe(404)
    for (const label of [`-${t.slug}`, `${t.slug}-`, t.slug.replace('-', '_'), `${t.slug}${'a'.repeat(64)}`, 'ab--cd', 'www']) {
      const res = await call(`http://${label}.atrium.test/v1/tenant`)
      expect(res.status, label).toBe(404)
      expect(res.body.error.code, label).toBe('tenant_not_found')
    }
  })

  it('matches hosts case-insensitively', async () => {
    const t = await createTenant()
    const res = await call(`http://${t.slug.toUpperCase()}.atrium.test/v1/tenant`)
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(t.id)
  })

  it('resolves the same tenant on every configured base domain', async () => {
    const t = await createTenant()
    expect((await call(`http://${t.slug}.localhost/v1/tenant`)).body.id).toBe(t.id)
    expect((await call(`http://${t.slug}.atrium.test/v1/tenant`)).body.id).toBe(t.id)
  })

  it('answers 403 tenant_suspended, and sees the change on the very next request (cache invalidated)', async () => {
    const t = await createTenant()
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200) // warms the caches
    await tenantAction(t.id, 'suspend')
    const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('tenant_suspended')
    await tenantAction(t.id, 'resume')
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200)
  })

  it('serves a tenant created after a miss for its slug was cached', async () => {
    const slug = uniqueSlug('later')
    expect((await call(`${tenantOrigin(slug)}/v1/tenant`)).status).toBe(404)
    await createTenant({ slug })
    expect((await call(`${tenantOrigin(slug)}/v1/tenant`)).status).toBe(200)
  })

  it('needs no SQL for a warm request', async () => {
    const t = await createTenant()
    await call(`${tenantOrigin(t.slug)}/v1/tenant`)
    await resetEndpointStats('sql')
    for (let i = 0; i < 3; i++) expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(200)
    expect(await endpointRequests('sql')).toBe(0)
  })

  it('falls back to the database when Redis is down', async () => {
    const t = await createTenant()
    await faults('redis', { mode: 'fail', status: 503 })
    // A fresh env has a cold in-isolate cache only if the slug was never seen: use a new tenant.
    const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(200)
    expect(res.body.id).toBe(t.id)
  })

  it('refuses X-Tenant-ID where configuration does not allow it', async () => {
    const t = await createTenant()
    const res = await call(`${PLATFORM}/v1/tenant`, { headers: { 'x-tenant-id': t.slug } })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('tenant_header_not_allowed')
  })

  it('accepts X-Tenant-ID (slug or id) on the platform host where allowed', async () => {
    const t = await createTenant()
    const bySlug = await withEnv({ ALLOW_TENANT_HEADER: 'true' }, `${PLATFORM}/v1/tenant`, { headers: { 'x-tenant-id': t.slug } })
    expect(bySlug.status).toBe(200)
    expect(bySlug.body.id).toBe(t.id)
    const byId = await withEnv({ ALLOW_TENANT_HEADER: 'true' }, `${PLATFORM}/v1/tenant`, { headers: { 'x-tenant-id': t.id } })
    expect(byId.body.slug).toBe(t.slug)
    const unknown = await withEnv({ ALLOW_TENANT_HEADER: 'true' }, `${PLATFORM}/v1/tenant`, { headers: { 'x-tenant-id': uniqueSlug() } })
    expect(unknown.status).toBe(404)
  })

  it('lets the host win over X-Tenant-ID on a tenant host', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const res = await withEnv({ ALLOW_TENANT_HEADER: 'true' }, `${tenantOrigin(a.slug)}/v1/tenant`, { headers: { 'x-tenant-id': b.slug } })
    expect(res.body.id).toBe(a.id)
  })

  it('fails with a message naming a missing variable', async () => {
    const res = await withEnv({ DATABASE_URL: '' }, `${PLATFORM}/health`)
    expect(res.status).toBe(500)
    expect(res.body.error.code).toBe('misconfigured')
    expect(res.body.error.message).toContain('DATABASE_URL')
  })

  it('routes through SELF on the platform host', async () => {
    const res = await SELF.fetch(`${PLATFORM}/v1/nothing-here`)
    expect(res.status).toBe(404)
    expect(((await res.json()) as any).error.code).toBe('not_found')
  })
})
