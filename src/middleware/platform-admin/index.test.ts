import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { handleError } from '../request-context/errors.ts'
import { requirePlatformAdmin } from './index.ts'

/* The guard alone, in front of a route that answers 200: the token comes from the callback, as from the configuration. */
const TOKEN = 'platform-admin-token-0123456789'

function app() {
  const app = new Hono()
  app.onError(handleError)
  app.get('/admin', requirePlatformAdmin(() => TOKEN), (c) => c.json({ ok: true }))
  return app
}

async function get(authorization?: string) {
  const res = await app().request('/admin', { headers: authorization === undefined ? {} : { authorization } })
  return { status: res.status, body: (await res.json()) as any }
}

describe('requirePlatformAdmin', () => {
  it('lets the configured token through as a Bearer token (any case of the scheme, spaces around it)', async () => {
    expect(await get(`Bearer ${TOKEN}`)).toEqual({ status: 200, body: { ok: true } })
    expect((await get(`bearer ${TOKEN}`)).status).toBe(200)
    expect((await get(`Bearer   ${TOKEN}  `)).status).toBe(200)
  })

  it('answers 401 unauthenticated without a Bearer token', async () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer    ', `Basic ${btoa(`admin:${TOKEN}`)}`, TOKEN]) {
      const res = await get(header)
      expect(res.status, String(header)).toBe(401)
      expect(res.body.error).toEqual({ code: 'unauthenticated', message: 'Send the platform admin token as a Bearer token.' })
    }
  })

  it('answers 403 forbidden for any other token: a prefix, a longer one, another case', async () => {
    for (const token of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), 'x']) {
      const res = await get(`Bearer ${token}`)
      expect(res.status, token).toBe(403)
      expect(res.body.error).toEqual({ code: 'forbidden', message: 'The platform admin token is not valid.' })
    }
  })
})
