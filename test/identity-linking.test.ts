import { describe, expect, it } from 'vitest'
import { browse, cookieFrom, numericId, signIn } from './oauth-flow.ts'
import { type Person, type ProviderName } from './oauth-providers.ts'
import { auditActions, call, fakeProviders, newEmail, openTenant, PLATFORM, signUp, tenantOrigin } from './support.ts'

const fake = fakeProviders()

const start = (host: string, provider: string, token: string | undefined, body: unknown = {}) => call(`${host}/v1/me/identities/${provider}`, { body, token })
const fragmentOf = (location: string) => Object.fromEntries(new URLSearchParams(new URL(location).hash.slice(1)))

/** Start linking as the signed-in user, consent at the provider as `person`, come back in the same browser. */
async function link(host: string, token: string, provider: ProviderName, person: Person) {
  const started = await start(host, provider, token)
  expect(started.status, JSON.stringify(started.body)).toBe(201)
  const binding = cookieFrom(started.headers.getSetCookie().find((l: string) => l.startsWith('atrium_oauth_browser='))!)
  return browse(fake.consent(started.body.authorization_url, provider, person), binding)
}

describe('POST /v1/me/identities/:provider (link while signed in)', () => {
  it('links a provider account with another email to a password account; it then signs in to that account; audited', async () => {
    const o = await signUp()
    const person = { id: numericId(), email: newEmail(), name: 'Other Address' }
    const back = await link(o.host, o.access_token, 'github', person)
    expect(back.status).toBe(302)
    const location = new URL(back.location!)
    expect(`${location.origin}${location.pathname}`).toBe(`${o.host}/account`)
    expect(fragmentOf(back.location!)).toEqual({ linked: 'github' })

    const identities = await call(`${o.host}/v1/me/identities`, { token: o.access_token })
    expect(identities.body.data).toEqual([{ provider: 'github', email: person.email, created_at: expect.any(String) }])
    expect((await auditActions(o.tenant.id)).some((e) => e.action === 'user.identity_linked' && e.details.provider === 'github' && e.details.via === 'account')).toBe(true)
    const events = await call(`${o.host}/v1/me/events`, { token: o.access_token })
    expect(events.body.data.some((e: { action: string; details: { via?: string } }) => e.action === 'identity.linked' && e.details.via === 'account')).toBe(true)

    // Signing in with it is signing in to this account (no new account for its address).
    const signedIn = await signIn(fake, o.tenant.slug, 'github', person)
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200)
    expect((await call(`${o.host}/v1/me`, { token: signedIn.body.access_token })).body.id).toBe(o.user.id)
  })

  it('refuses a provider account that is someone else’s, and a second one of a provider already linked', async () => {
    const tenant = await openTenant()
    const taken = { id: numericId(), email: newEmail() }
    expect((await signIn(fake, tenant.slug, 'google', taken)).status).toBe(200)
    const o = await signUp()
    const back = await link(o.host, o.access_token, 'google', taken)
    expect(back.status).toBe(302)
    expect(fragmentOf(back.location!)).toMatchObject({ error: 'identity_in_use' })
    expect((await call(`${o.host}/v1/me/identities`, { token: o.access_token })).body.data).toEqual([])

    expect(fragmentOf((await link(o.host, o.access_token, 'google', { id: numericId(), email: newEmail() })).location!)).toEqual({ linked: 'google' })
    const second = await start(o.host, 'google', o.access_token)
    expect(second.status).toBe(409)
    expect(second.body.error.code).toBe('provider_already_linked')
  })

  it('links nothing when the callback arrives in another browser', async () => {
    const o = await signUp()
    const started = await start(o.host, 'github', o.access_token)
    const back = await browse(fake.consent(started.body.authorization_url, 'github', { id: numericId(), email: newEmail() }))
    expect(back.status).toBe(400)
    expect(back.body.error.code).toBe('browser_mismatch')
    expect((await call(`${o.host}/v1/me/identities`, { token: o.access_token })).body.data).toEqual([])
  })

  it('refuses bad input, an unknown or unconfigured provider, a foreign redirect, no session, another tenant’s token and the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await start(a.host, 'myspace', a.access_token)).status).toBe(404)
    // The test deployment has no TikTok app.
    expect((await start(a.host, 'tiktok', a.access_token)).body.error.code).toBe('provider_not_configured')
    expect((await start(a.host, 'google', a.access_token, { redirect_to: 'https://evil.example/' })).body.error.code).toBe('invalid_redirect')
    const extra = await start(a.host, 'google', a.access_token, { redirect_to: '/account', extra: 1 })
    expect(extra.status).toBe(400)
    expect(extra.body.error.code).toBe('validation_failed')
    expect((await start(a.host, 'google', undefined)).status).toBe(401)
    expect((await start(b.host, 'google', a.access_token)).body.error.code).toBe('invalid_token')
    expect((await start(PLATFORM, 'google', undefined)).status).toBe(404)
  })

  it('never unlinks the last way to sign in: a social-only account links a second provider, unlinks the first, not the second', async () => {
    const tenant = await openTenant()
    const host = tenantOrigin(tenant.slug)
    const signedIn = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: newEmail() })
    const token = signedIn.body.access_token
    expect(fragmentOf((await link(host, token, 'github', { id: numericId(), email: newEmail() })).location!)).toEqual({ linked: 'github' })
    expect((await call(`${host}/v1/me/identities/google`, { method: 'DELETE', token })).status).toBe(204)
    const last = await call(`${host}/v1/me/identities/github`, { method: 'DELETE', token })
    expect(last.status).toBe(409)
    expect(last.body.error.code).toBe('last_sign_in_method')
  })
})
