import { describe, expect, it } from 'vitest'
import { browse, cookieFrom, numericId } from './oauth-flow.ts'
import { call, fakeProviders, newEmail, openTenant, tenantOrigin } from './support.ts'

const fake = fakeProviders()

describe('social sign-in into a browser session (session=cookie)', () => {
  it('puts the refresh token in the session cookie and only the access token in the fragment', async () => {
    const tenant = await openTenant()
    const origin = tenantOrigin(tenant.slug)
    const start = await browse(`${origin}/v1/auth/oauth/google?redirect_to=/oauth-complete&session=cookie`)
    expect(start.status).toBe(302)
    const done = await browse(fake.consent(start.location!, 'google', { id: numericId(), email: newEmail() }), cookieFrom(start.setCookie))
    expect(done.status).toBe(302)
    const target = new URL(done.location!)
    expect(target.pathname).toBe('/oauth-complete')
    const fragment = new URLSearchParams(target.hash.slice(1))
    expect(fragment.get('refresh_token')).toBeNull()
    expect((await call(`${origin}/v1/me`, { token: fragment.get('access_token')! })).status).toBe(200)

    const session = done.headers.getSetCookie().find((line) => line.startsWith('atrium_session='))!
    expect(session).toMatch(/HttpOnly/)
    expect(session).toMatch(/Path=\/v1\/auth\/session/)
    const renewed = await call(`${origin}/v1/auth/session/refresh`, {
      method: 'POST',
      headers: { origin, 'x-atrium-session': 'cookie', cookie: session.split(';')[0]! },
    })
    expect(renewed.status).toBe(200)
  })

  it('refuses session=cookie without redirect_to', async () => {
    const tenant = await openTenant()
    const res = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google?session=cookie`)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
  })

  it('answers the tenant’s sign-in options: name, logo, sign-up policy and the providers it offers', async () => {
    const tenant = await openTenant()
    const res = await call(`${tenantOrigin(tenant.slug)}/v1/tenant/sign-in-options`)
    expect(res.status).toBe(200)
    // The test deployment has platform apps for Google, GitHub and Facebook (not TikTok).
    expect(res.body).toEqual({
      name: `Tenant ${tenant.slug}`, logo_url: null, signup_policy: 'open', password_min_length: 10, require_mfa: false,
      social_providers: ['google', 'github', 'facebook'],
    })
    expect((await call('http://localhost/v1/tenant/sign-in-options')).status).toBe(404)
  })
})
