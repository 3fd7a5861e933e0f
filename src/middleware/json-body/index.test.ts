import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { handleError } from '../request-context/errors.ts'
import { jsonBody } from './index.ts'

/* The middleware alone, in front of routes that echo the body they read (from the cache it fills). */
function app(maxBytes: number | (() => number) = 64) {
  const app = new Hono()
  app.onError(handleError)
  app.use('*', jsonBody({ maxBytes }))
  const echo = async (c: { req: { text(): Promise<string> }; json(v: unknown): Response }) => {
    const text = await c.req.text()
    return c.json({ body: text ? JSON.parse(text) : null })
  }
  app.on(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], '/echo', (c) => echo(c))
  return app
}

async function send(method: string, body: BodyInit | null, headers: Record<string, string> = { 'content-type': 'application/json' }, maxBytes?: number | (() => number)) {
  const res = await app(maxBytes).request('/echo', { method, body, headers })
  return { status: res.status, body: (await res.json()) as any }
}

describe('jsonBody', () => {
  it('passes a JSON body to the route, for every method that carries one, and +json media types', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(await send(method, '{"a":1}'), method).toEqual({ status: 200, body: { body: { a: 1 } } })
    expect((await send('POST', '[1]', { 'content-type': 'application/merge-patch+json; charset=utf-8' })).body).toEqual({ body: [1] })
  })

  it('lets a request without a body through, whatever its Content-Type', async () => {
    expect(await send('POST', null, {})).toEqual({ status: 200, body: { body: null } })
    expect(await send('DELETE', null, { 'content-type': 'text/plain' })).toEqual({ status: 200, body: { body: null } })
    expect((await send('GET', null, { 'content-type': 'text/plain' })).status).toBe(200)
  })

  it('refuses another media type, or none, with 415 unsupported_media_type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx']) {
      const res = await send('POST', '{"a":1}', { 'content-type': type })
      expect(res.status, type).toBe(415)
      expect(res.body.error.code, type).toBe('unsupported_media_type')
      expect(res.body.error.message, type).toContain(type)
    }
    const none = await app().request('/echo', { method: 'POST', body: new Blob(['{"a":1}']) })
    expect(none.status).toBe(415)
  })

  it('refuses malformed JSON and bytes that are not UTF-8 with 400 malformed_json', async () => {
    const bad = await send('POST', '{"a":')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toEqual({ code: 'malformed_json', message: 'The request body is not valid JSON.' })
    const latin1 = await send('POST', new Uint8Array([0x22, 0xe9, 0x22]))
    expect(latin1.status).toBe(400)
    expect(latin1.body.error).toEqual({ code: 'malformed_json', message: 'The request body is not valid UTF-8.' })
  })

  it('refuses a body over the limit with 413 payload_too_large, the limit read per request when it is a function', async () => {
    const fits = JSON.stringify({ a: 'x'.repeat(50) })
    expect(fits.length).toBeLessThanOrEqual(64)
    expect((await send('POST', fits)).status).toBe(200)
    const over = await send('POST', JSON.stringify({ a: 'x'.repeat(60) }))
    expect(over.status).toBe(413)
    expect(over.body.error).toEqual({ code: 'payload_too_large', message: 'The request body is larger than 64 bytes.' })
    let limit = 1000
    const dynamic = app(() => limit)
    const body = JSON.stringify({ a: 'x'.repeat(100) })
    expect((await dynamic.request('/echo', { method: 'POST', body, headers: { 'content-type': 'application/json' } })).status).toBe(200)
    limit = 50
    expect((await dynamic.request('/echo', { method: 'POST', body, headers: { 'content-type': 'application/json' } })).status).toBe(413)
  })
})
