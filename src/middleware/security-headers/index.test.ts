import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { securityHeaders } from './index.ts'

/* The middleware alone, on routes answering JSON, text, and JSON with headers of their own. */
function app() {
  const app = new Hono()
  app.use('*', securityHeaders())
  app.get('/json', (c) => c.json({ ok: true }))
  app.get('/text', (c) => c.text('hello'))
  app.get('/own', (c) => {
    c.header('X-Frame-Options', 'SAMEORIGIN')
    c.header('Content-Security-Policy', "default-src 'self'")
    return c.json({ ok: true })
  })
  app.get('/fails', () => {
    throw new Error('boom')
  })
  app.onError((_err, c) => c.json({ error: 'failed' }, 500))
  return app
}

describe('securityHeaders', () => {
  it('adds nosniff, DENY framing, no Referer, and a CSP that runs nothing to a JSON answer', async () => {
    const res = await app().request('/json')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
  })

  it('leaves the CSP off an answer that is not JSON, but still sets the others', async () => {
    const res = await app().request('/text')
    expect(res.headers.get('content-security-policy')).toBeNull()
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('keeps the headers a route set itself', async () => {
    const res = await app().request('/own')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('content-security-policy')).toBe("default-src 'self'")
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('sets them on error answers and on 404s too', async () => {
    for (const [path, status] of [['/fails', 500], ['/nowhere', 404]] as const) {
      const res = await app().request(path)
      expect(res.status, path).toBe(status)
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
    }
  })
})
