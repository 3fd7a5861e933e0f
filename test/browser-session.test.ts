import { describe, expect, it } from 'vitest'
import { call, newEmail, openTenant, PASSWORD, tenantOrigin, uniqueSlug } from './support.ts'

const COOKIE = 'x-atrium-session'

async function openTenantWithOrigin() {
  const tenant = await openTenant()
  return { tenant, origin: tenantOrigin(tenant.slug) }
}

/** Browser-style headers: the page's own origin and the cookie-session header. */
const fromPage = (origin: string, cookie?: string) => ({ origin, [COOKIE]: 'cookie', ...(cookie ? { cookie } : {}) })

function sessionCookie(headers: Headers): { value: string; attributes: string } | null {
  for (const line of headers.getSetCookie()) {
    const match = line.match(/^atrium_session=([^;]*)(.*)$/)
    if (match) return { value: match[1]!, attributes: match[2]! }
  }
  return null
}

async function browserSignIn(origin: string) {
  const email = newEmail()
  const registered = await call(`${origin}/v1/auth/register`, { body: { email, password: PASSWORD }, headers: fromPage(origin) })
  expect(registered.status).toBe(201)
  const cookie = sessionCookie(registered.headers)!
  return { email, registered, cookie: `atrium_session=${cookie.value}`, set: cookie }
}

describe('browser sessions (cookie)', () => {
  it('moves the refresh token of a sign-in into an HttpOnly, SameSite=Lax, host-only, path-limited cookie', async () => {
    const { origin } = await openTenantWithOrigin()
    const { email, registered, set } = await browserSignIn(origin)
    expect(registered.body.refresh_token).toBeUndefined()
    expect(registered.body.access_token).toEqual(expect.any(String))
    expect(registered.headers.get('cache-control')).toBe('no-store')
    expect(set.attributes).toMatch(/; Path=\/v1\/auth\/session/)
    expect(set.attributes).toMatch(/; HttpOnly/)
    expect(set.attributes).toMatch(/; SameSite=Lax/)
    expect(set.attributes).not.toMatch(/Domain=/i)
    // Not localhost: Secure.
    expect(set.attributes).toMatch(/; Secure/)
    expect(set.attributes).toMatch(/Max-Age=\d+/)

    const login = await call(`${origin}/v1/auth/login`, { body: { email, password: PASSWORD }, headers: fromPage(origin) })
    expect(login.status).toBe(200)
    expect(login.body.refresh_token).toBeUndefined()
    expect(sessionCookie(login.headers)).not.toBeNull()
  })

  it('leaves the JSON token API unchanged without the header', async () => {
    const { origin } = await openTenantWithOrigin()
    const email = newEmail()
    const res = await call(`${origin}/v1/auth/register`, { body: { email, password: PASSWORD } })
    expect(res.status).toBe(201)
    expect(res.body.refresh_token).toEqual(expect.any(String))
    expect(sessionCookie(res.headers)).toBeNull()
  })

  it('renews the access token from the cookie and rotates the cookie', async () => {
    const { origin } = await openTenantWithOrigin()
    const { cookie, email } = await browserSignIn(origin)
    const renewed = await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers: fromPage(origin, cookie) })
    expect(renewed.status).toBe(200)
    expect(Object.keys(renewed.body).sort()).toEqual(['access_token', 'expires_in', 'token_type'])
    const next = sessionCookie(renewed.headers)!
    expect(`atrium_session=${next.value}`).not.toBe(cookie)
    const me = await call(`${origin}/v1/me`, { token: renewed.body.access_token })
    expect(me.body.email).toBe(email)

    // The next cookie works; the first one was used (reuse ends the session).
    const again = await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers: fromPage(origin, `atrium_session=${next.value}`) })
    expect(again.status).toBe(200)
  })

  it('refuses cross-site and header-less requests to the cookie endpoints', async () => {
    const { origin } = await openTenantWithOrigin()
    const { cookie } = await browserSignIn(origin)
    const other = tenantOrigin(uniqueSlug('other'))
    const attempts: Record<string, string>[] = [
      { origin: 'https://evil.example', [COOKIE]: 'cookie', cookie },
      { origin: other, [COOKIE]: 'cookie', cookie },
      { origin: 'null', [COOKIE]: 'cookie', cookie },
      { [COOKIE]: 'cookie', cookie, 'sec-fetch-site': 'cross-site' },
      { [COOKIE]: 'cookie', cookie },
    ]
    for (const headers of attempts) {
      const res = await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers })
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(res.body.error.code).toBe('cross_site_request')
    }
    const noHeader = await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers: { origin, cookie } })
    expect(noHeader.status).toBe(400)
    expect(noHeader.body.error.code).toBe('session_header_required')
    // Sec-Fetch-Site alone (a client that sends no Origin) is accepted when it says same-origin.
    const fetchMeta = await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers: { [COOKIE]: 'cookie', cookie, 'sec-fetch-site': 'same-origin' } })
    expect(fetchMeta.status).toBe(200)
  })

  it('refuses a cross-site cookie sign-in (login CSRF)', async () => {
    const { origin } = await openTenantWithOrigin()
    const { email } = await browserSignIn(origin)
    const res = await call(`${origin}/v1/auth/login`, { body: { email, password: PASSWORD }, headers: { origin: 'https://evil.example', [COOKIE]: 'cookie' } })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('cross_site_request')
    expect(sessionCookie(res.headers)).toBeNull()
  })

  it('refuses tenant A’s cookie on tenant B’s host', async () => {
    const a = await openTenantWithOrigin()
    const b = await openTenantWithOrigin()
    const { cookie } = await browserSignIn(a.origin)
    const res = await call(`${b.origin}/v1/auth/session/refresh`, { method: 'POST', headers: fromPage(b.origin, cookie) })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('invalid_grant')
    // And the refused cookie is cleared on B; A's session is untouched.
    expect(sessionCookie(res.headers)?.value).toBe('')
    const stillA = await call(`${a.origin}/v1/auth/session/refresh`, { method: 'POST', headers: fromPage(a.origin, cookie) })
    expect(stillA.status).toBe(200)
  })

  it('signs out: the cookie is cleared and the session revoked (its access token stops working)', async () => {
    const { origin } = await openTenantWithOrigin()
    const { cookie, registered } = await browserSignIn(origin)
    const out = await call(`${origin}/v1/auth/session/logout`, { method: 'POST', headers: fromPage(origin, cookie) })
    expect(out.status).toBe(204)
    const cleared = sessionCookie(out.headers)!
    expect(cleared.value).toBe('')
    expect(cleared.attributes).toMatch(/Max-Age=0/)
    expect((await call(`${origin}/v1/me`, { token: registered.body.access_token })).status).toBe(401)
    expect((await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers: fromPage(origin, cookie) })).status).toBe(401)
    // Without a cookie: still 204 (nothing to end).
    expect((await call(`${origin}/v1/auth/session/logout`, { method: 'POST', headers: fromPage(origin) })).status).toBe(204)
  })

  it('answers 401 no_browser_session without a cookie, and 404 tenant_required on the platform host', async () => {
    const { origin } = await openTenantWithOrigin()
    const none = await call(`${origin}/v1/auth/session/refresh`, { method: 'POST', headers: fromPage(origin) })
    expect(none.status).toBe(401)
    expect(none.body.error.code).toBe('no_browser_session')
    const platform = await call('http://localhost/v1/auth/session/refresh', { method: 'POST', headers: fromPage('http://localhost') })
    expect(platform.status).toBe(404)
  })

  it('puts clickjacking, sniffing and referrer headers on API answers', async () => {
    const { origin } = await openTenantWithOrigin()
    const res = await call(`${origin}/v1/tenant`)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'")
  })
})
