import { describe, expect, it } from 'vitest'
import { adminToken, call, PLATFORM } from './support.ts'

const tenantsUrl = `${PLATFORM}/v1/tenants`

describe('HTTP conventions', () => {
  it('answers malformed JSON with 400 malformed_json', async () => {
    const res = await call(tenantsUrl, { body: '{"slug": "abc",', token: adminToken() })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('malformed_json')
  })

  it('answers a non-JSON body with 415 unsupported_media_type', async () => {
    const res = await call(tenantsUrl, { body: 'slug=abc', headers: { 'content-type': 'application/x-www-form-urlencoded' }, token: adminToken() })
    expect(res.status).toBe(415)
    expect(res.body.error.code).toBe('unsupported_media_type')
  })

  it('answers an oversized body with 413 payload_too_large', async () => {
    const res = await call(tenantsUrl, { body: { slug: 'big-one', name: 'x'.repeat(1024 * 1024 + 10) }, token: adminToken() })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
  })

  it('answers a JSON body that is not an object with 400 validation_failed', async () => {
    const res = await call(tenantsUrl, { body: '[1,2]', token: adminToken() })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
  })

  it('answers an unknown route with a JSON 404', async () => {
    const res = await call(`${PLATFORM}/v1/nope`)
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No route for GET /v1/nope.' } })
  })

  it('gives every response a request id, keeping a well-formed incoming one', async () => {
    const own = await call(`${PLATFORM}/health`, { headers: { 'x-request-id': 'req-12345678' } })
    expect(own.headers.get('x-request-id')).toBe('req-12345678')
    const bad = await call(`${PLATFORM}/health`, { headers: { 'x-request-id': 'bad id with spaces' } })
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('publishes an OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await call(`${PLATFORM}/openapi.json`)
    expect(res.status).toBe(200)
    expect(res.body.openapi).toBe('3.1.0')
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/health', '/v1/tenant', '/v1/tenants', '/v1/tenants/{id}', '/v1/tenants/{id}/purge']))
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining([
      '/v1/resource-types', '/v1/resource-types/{name}', '/v1/roles', '/v1/roles/{idOrName}', '/v1/role-bindings', '/v1/role-bindings/{id}',
      '/v1/policies', '/v1/policies/{idOrName}', '/v1/authz/check', '/v1/authz/check-batch',
    ]))
    // A request body's schema names the fields the route validates (following a $ref into components).
    const bodySchema = (operation: any) => {
      const schema = operation.requestBody.content['application/json'].schema
      return schema.$ref ? res.body.components.schemas[schema.$ref.split('/').pop()] : schema
    }
    const check = bodySchema(res.body.paths['/v1/authz/check'].post)
    expect(check.type).toBe('object')
    expect(Object.keys(check.properties)).toEqual(expect.arrayContaining(['subject', 'action', 'resource']))
    const create = res.body.paths['/v1/tenants'].post
    const createBody = bodySchema(create)
    expect(createBody.required).toEqual(expect.arrayContaining(['slug', 'name']))
    expect(createBody.properties.slug.type).toBe('string')
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '409']))
  })

  it('leaves the development outbox out of the document: it does not exist in production', async () => {
    const res = await call(`${PLATFORM}/openapi.json`)
    expect(Object.keys(res.body.paths).filter((p) => p.startsWith('/dev'))).toEqual([])
    // It still answers in this (test, outbox) deployment, and still validates its query.
    expect((await call(`${PLATFORM}/dev/outbox?to=nobody@example.com`)).body).toEqual({ messages: [] })
    expect((await call(`${PLATFORM}/dev/outbox?to=not-an-address`)).status).toBe(400)
  })
})
