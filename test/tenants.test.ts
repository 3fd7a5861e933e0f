import { describe, expect, it } from 'vitest'
import { adminToken, call, createTenant, PLATFORM, tenantAction, tenantOrigin, uniqueSlug } from './support.ts'

const tenantsUrl = `${PLATFORM}/v1/tenants`

describe('platform API: tenants', () => {
  it('creates a tenant with a generated schema name and answers 201 with Location', async () => {
    const slug = uniqueSlug('create')
    const res = await call(tenantsUrl, { body: { slug, name: 'Acme Inc', plan: 'pro' }, token: adminToken() })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ slug, name: 'Acme Inc', plan: 'pro', status: 'active', settings: {}, placement: 'primary', deleted_at: null })
    expect(res.body.schema_name).toBe(`tenant_${res.body.id.replaceAll('-', '')}`)
    expect(res.headers.get('location')).toBe(`/v1/tenants/${res.body.id}`)
  })

  it('refuses a slug that is taken with 409 slug_taken', async () => {
    const { slug } = await createTenant()
    const res = await call(tenantsUrl, { body: { slug, name: 'Again' }, token: adminToken() })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('slug_taken')
  })

  it.each([
    ['ab', 'length'],
    ['a'.repeat(64), 'length'],
    ['Acme', 'characters'],
    ['acme_inc', 'characters'],
    ['-acme', 'hyphens'],
    ['acme-', 'hyphens'],
    ['xn--acme', 'hyphens'],
    ['www', 'reserved'],
    ['admin', 'reserved'],
    ['api', 'reserved'],
  ])('refuses the slug %j (%s) with 400 validation_failed', async (slug, reason) => {
    const res = await call(tenantsUrl, { body: { slug, name: 'X' }, token: adminToken() })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.details[0].path).toBe('slug')
    expect(JSON.stringify(res.body.error.details)).toContain(reason === 'reserved' ? 'reserved' : '')
  })

  it('refuses unknown fields and missing names', async () => {
    const extra = await call(tenantsUrl, { body: { slug: uniqueSlug(), name: 'X', schema_name: 'public' }, token: adminToken() })
    expect(extra.status).toBe(400)
    expect(extra.body.error.code).toBe('validation_failed')
    const missing = await call(tenantsUrl, { body: { slug: uniqueSlug() }, token: adminToken() })
    expect(missing.status).toBe(400)
    expect(missing.body.error.details.map((d: { path: string }) => d.path)).toContain('name')
  })

  it('answers 401 without a token and 403 with a wrong one', async () => {
    const none = await call(tenantsUrl, { body: { slug: uniqueSlug(), name: 'X' } })
    expect(none.status).toBe(401)
    expect(none.body.error.code).toBe('unauthenticated')
    const wrong = await call(tenantsUrl, { body: { slug: uniqueSlug(), name: 'X' }, token: `${adminToken()}x` })
    expect(wrong.status).toBe(403)
    expect(wrong.body.error.code).toBe('forbidden')
  })

  it('is not served on a tenant host', async () => {
    const t = await createTenant()
    const res = await call(`${tenantOrigin(t.slug)}/v1/tenants`, { token: adminToken() })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('platform_host_required')
  })

  it('gets a tenant by id, 404 for an unknown id and 400 for a malformed one', async () => {
    const t = await createTenant()
    expect((await call(`${tenantsUrl}/${t.id}`, { token: adminToken() })).body.slug).toBe(t.slug)
    const unknown = await call(`${tenantsUrl}/018f0000-0000-7000-8000-000000000000`, { token: adminToken() })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('tenant_not_found')
    const malformed = await call(`${tenantsUrl}/not-a-uuid`, { token: adminToken() })
    expect(malformed.status).toBe(400)
  })

  it('lists tenants page by page, in creation order, without repeats', async () => {
    const created = [await createTenant(), await createTenant(), await createTenant()]
    const seen: string[] = []
    let cursor: string | null = null
    do {
      // Pages of 50: the registry holds every tenant of the whole suite by now, and a smaller page
      // makes this one request per handful of tenants (still many pages, cursor and all).
      const query: string = cursor ? `?limit=50&cursor=${cursor}` : '?limit=50'
      const page: { status: number; body: any } = await call(`${tenantsUrl}${query}`, { token: adminToken() })
      expect(page.status).toBe(200)
      expect(page.body.data.length).toBeLessThanOrEqual(50)
      seen.push(...page.body.data.map((t: { id: string }) => t.id))
      cursor = page.body.next_cursor
    } while (cursor)
    expect(new Set(seen).size).toBe(seen.length)
    expect([...seen].sort()).toEqual(seen)
    const ours = seen.filter((id) => created.some((t) => t.id === id))
    expect(ours).toEqual(created.map((t) => t.id))
    const bad = await call(`${tenantsUrl}?limit=500`, { token: adminToken() })
    expect(bad.status).toBe(400)
  })

  it('filters the list by status', async () => {
    const t = await createTenant()
    await tenantAction(t.id, 'suspend')
    const res = await call(`${tenantsUrl}?status=suspended&limit=100`, { token: adminToken() })
    expect(res.body.data.every((x: { status: string }) => x.status === 'suspended')).toBe(true)
  })

  it('updates name and plan, and merges settings (null removes a key)', async () => {
    const t = await createTenant({ settings: { theme: 'dark', signup: { policy: 'open', domains: ['a.com'] } } })
    const res = await call(`${tenantsUrl}/${t.id}`, {
      method: 'PATCH',
      body: { name: 'Renamed', plan: 'team', settings: { theme: null, signup: { policy: 'domain' }, locale: 'fr' } },
      token: adminToken(),
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ name: 'Renamed', plan: 'team', settings: { signup: { policy: 'domain', domains: ['a.com'] }, locale: 'fr' } })
    expect(res.body.settings).not.toHaveProperty('theme')
  })

  it('refuses an empty update and a malformed rate_limit setting', async () => {
    const t = await createTenant()
    const empty = await call(`${tenantsUrl}/${t.id}`, { method: 'PATCH', body: {}, token: adminToken() })
    expect(empty.status).toBe(400)
    const bad = await call(`${tenantsUrl}/${t.id}`, { method: 'PATCH', body: { settings: { rate_limit: { max: -1 } } }, token: adminToken() })
    expect(bad.status).toBe(400)
    expect(bad.body.error.details[0].path).toMatch(/^settings\.rate_limit/)
  })

  it('suspends and resumes, refusing transitions that make no sense', async () => {
    const t = await createTenant()
    expect((await tenantAction(t.id, 'resume')).status).toBe(409)
    const suspended = await tenantAction(t.id, 'suspend')
    expect(suspended.body.status).toBe('suspended')
    const again = await tenantAction(t.id, 'suspend')
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('invalid_transition')
    expect((await tenantAction(t.id, 'resume')).body.status).toBe('active')
  })

  it('soft-deletes at once, then purge drops the schema and the row', async () => {
    const t = await createTenant()
    expect((await tenantAction(t.id, 'purge')).body.error.code).toBe('purge_requires_deleted')
    const deleted = await call(`${tenantsUrl}/${t.id}`, { method: 'DELETE', token: adminToken() })
    expect(deleted.status).toBe(200)
    expect(deleted.body.status).toBe('deleted')
    expect(deleted.body.deleted_at).not.toBeNull()
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenant`)).status).toBe(404)
    expect((await call(`${tenantsUrl}/${t.id}`, { method: 'PATCH', body: { name: 'x' }, token: adminToken() })).status).toBe(404)

    const purged = await tenantAction(t.id, 'purge')
    expect(purged.status).toBe(204)
    expect((await call(`${tenantsUrl}/${t.id}`, { token: adminToken() })).status).toBe(404)
    // The slug is free again once the tenant is purged.
    expect((await call(tenantsUrl, { body: { slug: t.slug, name: 'Reborn' }, token: adminToken() })).status).toBe(201)
  })
})

describe('current tenant', () => {
  it('GET /v1/tenant answers the tenant the host names, without internals', async () => {
    const t = await createTenant({ settings: { secret_thing: 'x' } })
    const res = await call(`${tenantOrigin(t.slug)}/v1/tenant`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: t.id, slug: t.slug, status: 'active' })
    expect(res.body).not.toHaveProperty('schema_name')
    expect(res.body).not.toHaveProperty('settings')
  })

  it('GET /v1/tenant on the platform host answers 404 tenant_required', async () => {
    const res = await call(`${PLATFORM}/v1/tenant`)
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('tenant_required')
  })
})
