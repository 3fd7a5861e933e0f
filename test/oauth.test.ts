import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { browse, cookieFrom, numericId, signIn, storedSettings } from './oauth-flow.ts'
import { call, createTenant, decodeJwt, fakeProviders, newEmail, openTenant, PASSWORD, patchTenantSettings, PLATFORM, signUp, tenantOrigin } from './support.ts'

const fake = fakeProviders()

const s256 = async (verifier: string) =>
  btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

describe('GET /v1/auth/oauth/:provider', () => {
  it('redirects to Google with the platform app, the tenant callback, a state and an S256 PKCE challenge', async () => {
    const tenant = await openTenant()
    const res = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google`)
    expect(res.status).toBe(302)
    const url = new URL(res.location!)
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth')
    expect(url.searchParams.get('client_id')).toBe(env.GOOGLE_CLIENT_ID)
    expect(url.searchParams.get('redirect_uri')).toBe(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google/callback`)
    expect(url.searchParams.get('response_type')).toBe('code')
    expect(url.searchParams.get('scope')).toBe('openid email profile')
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(res.headers.get('cache-control')).toBe('no-store')
    // Two starts, two states.
    const again = new URL((await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google`)).location!)
    expect(again.searchParams.get('state')).not.toBe(url.searchParams.get('state'))
  })

  it('uses a state without PKCE for GitHub and Facebook, as arctic’s clients do', async () => {
    const tenant = await openTenant()
    for (const provider of ['github', 'facebook']) {
      const url = new URL((await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/${provider}`)).location!)
      expect(url.searchParams.get('state')).toBeTruthy()
      expect(url.searchParams.get('code_challenge')).toBeNull()
    }
  })

  it('answers 404 for an unknown provider, an unconfigured one, and off a tenant host', async () => {
    const tenant = await openTenant()
    const unknown = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/myspace`)
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('unknown_provider')
    // No platform TikTok app in the test env, and the tenant has none of its own.
    const tiktok = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/tiktok`)
    expect(tiktok.status).toBe(404)
    expect(tiktok.body.error.code).toBe('provider_not_configured')
    const platform = await browse(`${PLATFORM}/v1/auth/oauth/google`)
    expect(platform.status).toBe(404)
    expect(platform.body.error.code).toBe('tenant_required')
  })

  it('refuses a redirect_to outside the tenant’s own origin (no open redirect)', async () => {
    const tenant = await openTenant()
    const other = await openTenant()
    const base = `${tenantOrigin(tenant.slug)}/v1/auth/oauth/google?redirect_to=`
    for (const target of ['https://evil.example/x', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', `${tenantOrigin(other.slug)}/app`, `http://user:pw@${tenant.slug}.atrium.test/`]) {
      const res = await browse(base + encodeURIComponent(target))
      expect(res.status, target).toBe(400)
      expect(res.body.error.code).toBe('invalid_redirect')
    }
    const ok = await browse(base + encodeURIComponent('/app?tab=1'))
    expect(ok.status).toBe(302)
  })
})

describe('GET /v1/auth/oauth/:provider/callback', () => {
  it('creates a verified, password-less account with a Google identity, joins the open tenant and signs in', async () => {
    const tenant = await openTenant()
    const address = newEmail()
    const res = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: address.toUpperCase(), name: 'Ada Lovelace' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const token = res.body.access_token
    const me = await call(`${tenantOrigin(tenant.slug)}/v1/me`, { token })
    expect(me.body).toMatchObject({ email: address, name: 'Ada Lovelace', email_verified: true, has_password: false })
    const tenants = await call(`${tenantOrigin(tenant.slug)}/v1/me/tenants`, { token })
    expect(tenants.body.data).toEqual([expect.objectContaining({ id: tenant.id, role: 'member' })])
    const identities = await call(`${tenantOrigin(tenant.slug)}/v1/me/identities`, { token })
    expect(identities.body.data).toEqual([{ provider: 'google', email: address, created_at: expect.any(String) }])
    // The token request carried the PKCE verifier of the challenge (the stand-in checks it).
    expect(fake.requests.some((r) => r.url === 'https://oauth2.googleapis.com/token')).toBe(true)
  })

  it('signs the same identity in again as the same user, and joins a second open tenant', async () => {
    const [a, b] = [await openTenant(), await openTenant()]
    const person = { id: numericId(), email: newEmail(), name: 'Grace' }
    const first = await signIn(fake, a.slug, 'github', person)
    const again = await signIn(fake, a.slug, 'github', person)
    const elsewhere = await signIn(fake, b.slug, 'github', person)
    const sub = (token: string) => decodeJwt(token).payload.sub
    expect(sub(again.body.access_token)).toBe(sub(first.body.access_token))
    expect(sub(elsewhere.body.access_token)).toBe(sub(first.body.access_token))
    const tenants = await call(`${tenantOrigin(b.slug)}/v1/me/tenants`, { token: elsewhere.body.access_token })
    expect(tenants.body.data.map((t: { id: string }) => t.id).sort()).toEqual([a.id, b.id].sort())
  })

  it('refuses an unknown state, and a state used once already', async () => {
    const tenant = await openTenant()
    const bogus = await call(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google/callback?code=abc&state=not-a-state`)
    expect(bogus.status).toBe(400)
    expect(bogus.body.error.code).toBe('invalid_state')

    const start = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google`)
    const callback = fake.consent(start.location!, 'google', { id: numericId(), email: newEmail() })
    expect((await call(callback)).status).toBe(200)
    const reused = await call(callback)
    expect(reused.status).toBe(400)
    expect(reused.body.error.code).toBe('invalid_state')
  })

  it('refuses a state from tenant A on tenant B’s callback (and A’s sign-in still works), and on another provider', async () => {
    const [a, b] = [await openTenant(), await openTenant()]
    const start = await browse(`${tenantOrigin(a.slug)}/v1/auth/oauth/google`)
    const callback = new URL(fake.consent(start.location!, 'google', { id: numericId(), email: newEmail() }))
    const onB = await call(`${tenantOrigin(b.slug)}${callback.pathname}${callback.search}`)
    expect(onB.status).toBe(400)
    expect(onB.body.error.code).toBe('invalid_state')
    const onGithub = await call(`${tenantOrigin(a.slug)}/v1/auth/oauth/github/callback${callback.search}`)
    expect(onGithub.status).toBe(400)
    expect(onGithub.body.error.code).toBe('invalid_state')
    expect((await call(callback.toString())).status).toBe(200)
  })

  it('answers 400 without code or state, and 401 oauth_denied when the user refuses at the provider (state spent)', async () => {
    const tenant = await openTenant()
    const missing = await call(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google/callback?state=x`)
    expect(missing.status).toBe(400)
    expect(missing.body.error.code).toBe('validation_failed')
    const noState = await call(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google/callback?code=x`)
    expect(noState.status).toBe(400)
    expect(noState.body.error.code).toBe('validation_failed')

    const start = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google`)
    const denied = await call(fake.deny(start.location!))
    expect(denied.status).toBe(401)
    expect(denied.body.error).toMatchObject({ code: 'oauth_denied', details: { provider_error: 'access_denied' } })
  })

  it('links a verified email to the existing account that has it verified', async () => {
    const tenant = await openTenant()
    const address = newEmail()
    const google = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: address })
    const github = await signIn(fake, tenant.slug, 'github', { id: numericId(), email: address, emailVerified: true })
    expect(github.status).toBe(200)
    const identities = await call(`${tenantOrigin(tenant.slug)}/v1/me/identities`, { token: google.body.access_token })
    expect(identities.body.data.map((i: { provider: string }) => i.provider)).toEqual(['google', 'github'])
  })

  it('never links an unverified email to an existing account: GitHub unverified, Facebook, or an account that never verified it', async () => {
    const tenant = await openTenant()
    const address = newEmail()
    const google = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: address })

    const unverified = await signIn(fake, tenant.slug, 'github', { id: numericId(), email: address, emailVerified: false })
    expect(unverified.status).toBe(409)
    expect(unverified.body.error.code).toBe('oauth_email_in_use')
    // Facebook's Graph API says nothing about verification: never linked.
    const facebook = await signIn(fake, tenant.slug, 'facebook', { id: numericId(), email: address })
    expect(facebook.status).toBe(409)
    expect(facebook.body.error.code).toBe('oauth_email_in_use')
    const identities = await call(`${tenantOrigin(tenant.slug)}/v1/me/identities`, { token: google.body.access_token })
    expect(identities.body.data.map((i: { provider: string }) => i.provider)).toEqual(['google'])

    // A password account whose email nobody verified: Google's verified claim does not take it over.
    const registered = await call(`${tenantOrigin(tenant.slug)}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    const takeover = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: registered.body.user.email })
    expect(takeover.status).toBe(409)
    expect(takeover.body.error.code).toBe('oauth_email_in_use')
  })

  it('creates an account with an unverified email from Facebook, and one with a placeholder email from TikTok', async () => {
    const owner = await signUp()
    await patchTenantSettings(owner.tenant.id, { signup_policy: 'open' })
    const slug = owner.tenant.slug
    const fb = await signIn(fake, slug, 'facebook', { id: numericId(), email: newEmail(), name: 'Fb User' })
    expect(fb.status).toBe(200)
    expect((await call(`${tenantOrigin(slug)}/v1/me`, { token: fb.body.access_token })).body).toMatchObject({ email_verified: false, name: 'Fb User' })

    fake.registerClient('tiktok', 'awtiktokkey', 'tiktok-secret-1')
    const put = await call(`${tenantOrigin(slug)}/v1/oauth-providers/tiktok`, { method: 'PUT', body: { client_id: 'awtiktokkey', client_secret: 'tiktok-secret-1' }, token: owner.access_token })
    expect(put.status).toBe(200)
    const start = await browse(`${tenantOrigin(slug)}/v1/auth/oauth/tiktok`)
    const url = new URL(start.location!)
    expect(url.searchParams.get('client_key')).toBe('awtiktokkey')
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    const person = { id: `-000${crypto.randomUUID()}`, name: 'tiktoker' }
    const res = await call(fake.consent(start.location!, 'tiktok', person))
    expect(res.status).toBe(200)
    const me = (await call(`${tenantOrigin(slug)}/v1/me`, { token: res.body.access_token })).body
    expect(me).toMatchObject({ name: 'tiktoker', email_verified: false, has_password: false })
    expect(me.email).toMatch(/^[0-9a-f]{40}@tiktok\.invalid$/)
    const identities = await call(`${tenantOrigin(slug)}/v1/me/identities`, { token: res.body.access_token })
    expect(identities.body.data).toEqual([{ provider: 'tiktok', email: null, created_at: expect.any(String) }])
  })

  it('follows the sign-up policy: invite_only refuses a stranger (nothing created), domain admits its own domain only', async () => {
    const closed = await createTenant()
    const address = newEmail()
    const refused = await signIn(fake, closed.slug, 'google', { id: numericId(), email: address })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('signup_closed')
    // No account was left behind: the address is still free.
    expect((await call(`${PLATFORM}/v1/auth/register`, { body: { email: address, password: PASSWORD } })).status).toBe(201)

    const domain = await createTenant({ settings: { signup_policy: 'domain', signup_domains: ['example.org'] } })
    const outsider = await signIn(fake, domain.slug, 'google', { id: numericId(), email: newEmail('example.com') })
    expect(outsider.status).toBe(403)
    expect(outsider.body.error.code).toBe('signup_domain_refused')
    expect((await signIn(fake, domain.slug, 'google', { id: numericId(), email: newEmail('example.org') })).status).toBe(200)
  })

  it('answers 401 when the provider refuses the code, 502 when it fails or its ID token is for another app', async () => {
    const tenant = await openTenant()
    const start = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/github`)
    const callback = new URL(fake.consent(start.location!, 'github', { id: numericId(), email: newEmail() }))
    callback.searchParams.set('code', 'wrong-code')
    const rejected = await call(callback.toString())
    expect(rejected.status).toBe(401)
    expect(rejected.body.error).toMatchObject({ code: 'oauth_code_rejected', details: { provider_error: 'bad_verification_code' } })

    fake.outage.add('google')
    try {
      const down = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: newEmail() })
      expect(down.status).toBe(502)
      expect(down.body.error.code).toBe('provider_unavailable')
    } finally {
      fake.outage.delete('google')
    }
    const foreign = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: newEmail(), idTokenClaims: { aud: 'another-app.apps.googleusercontent.com' } })
    expect(foreign.status).toBe(502)
    expect(foreign.body.error.code).toBe('provider_profile_invalid')
  })

  it('with redirect_to: redirects there with the tokens in the fragment, only in the browser that started', async () => {
    const tenant = await openTenant()
    const start = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google?redirect_to=${encodeURIComponent('/app?x=1')}`)
    expect(start.setCookie).toMatch(/HttpOnly/i)
    expect(start.setCookie).toMatch(/SameSite=Lax/i)
    const cookie = cookieFrom(start.setCookie)
    const callback = fake.consent(start.location!, 'google', { id: numericId(), email: newEmail() })
    const done = await browse(callback, cookie)
    expect(done.status).toBe(302)
    const target = new URL(done.location!)
    expect(`${target.origin}${target.pathname}${target.search}`).toBe(`${tenantOrigin(tenant.slug)}/app?x=1`)
    const fragment = new URLSearchParams(target.hash.slice(1))
    expect(fragment.get('token_type')).toBe('Bearer')
    expect((await call(`${tenantOrigin(tenant.slug)}/v1/me`, { token: fragment.get('access_token')! })).status).toBe(200)

    // Someone else's browser (no cookie) with a valid code and state: refused.
    const other = await browse(`${tenantOrigin(tenant.slug)}/v1/auth/oauth/google?redirect_to=/app`)
    const stolen = await browse(fake.consent(other.location!, 'google', { id: numericId(), email: newEmail() }))
    expect(stolen.status).toBe(400)
    expect(stolen.body.error.code).toBe('browser_mismatch')

    // An error after the state check goes back to the app too.
    const closed = await createTenant()
    const s = await browse(`${tenantOrigin(closed.slug)}/v1/auth/oauth/google?redirect_to=/welcome`)
    const refused = await browse(fake.consent(s.location!, 'google', { id: numericId(), email: newEmail() }), cookieFrom(s.setCookie))
    expect(refused.status).toBe(302)
    expect(new URLSearchParams(new URL(refused.location!).hash.slice(1)).get('error')).toBe('signup_closed')
  })
})

describe('/v1/me/identities', () => {
  it('unlinks a provider while another way to sign in remains, and refuses the last one (409)', async () => {
    const tenant = await openTenant()
    const address = newEmail()
    const google = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: address })
    await signIn(fake, tenant.slug, 'github', { id: numericId(), email: address })
    const token = google.body.access_token
    const url = `${tenantOrigin(tenant.slug)}/v1/me/identities`

    expect((await call(`${url}/github`, { method: 'DELETE', token })).status).toBe(204)
    const notLinked = await call(`${url}/github`, { method: 'DELETE', token })
    expect(notLinked.status).toBe(404)
    expect(notLinked.body.error.code).toBe('identity_not_found')
    const last = await call(`${url}/google`, { method: 'DELETE', token })
    expect(last.status).toBe(409)
    expect(last.body.error.code).toBe('last_sign_in_method')
    expect((await call(url, { token })).body.data.map((i: { provider: string }) => i.provider)).toEqual(['google'])
    const unknown = await call(`${url}/myspace`, { method: 'DELETE', token })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('unknown_provider')
  })

  it('is refused without a token, and with a token of another tenant', async () => {
    const [a, b] = [await openTenant(), await openTenant()]
    const res = await signIn(fake, a.slug, 'google', { id: numericId(), email: newEmail() })
    expect((await call(`${tenantOrigin(a.slug)}/v1/me/identities`)).status).toBe(401)
    const wrong = await call(`${tenantOrigin(b.slug)}/v1/me/identities`, { token: res.body.access_token })
    expect(wrong.status).toBe(401)
    const wrongDelete = await call(`${tenantOrigin(b.slug)}/v1/me/identities/google`, { method: 'DELETE', token: res.body.access_token })
    expect(wrongDelete.status).toBe(401)
  })
})

describe('/v1/oauth-providers', () => {
  it('stores the client secret encrypted, never returns it, and signs in with it', async () => {
    const owner = await signUp()
    await patchTenantSettings(owner.tenant.id, { signup_policy: 'open' })
    const slug = owner.tenant.slug
    const secret = `gh-secret-${crypto.randomUUID()}`
    fake.registerClient('github', 'Iv1.tenantapp', secret)
    const put = await call(`${tenantOrigin(slug)}/v1/oauth-providers/github`, { method: 'PUT', body: { client_id: 'Iv1.tenantapp', client_secret: secret }, token: owner.access_token })
    expect(put.status).toBe(200)
    expect(put.body).toMatchObject({ provider: 'github', source: 'tenant', enabled: true, available: true, client_id: 'Iv1.tenantapp', has_client_secret: true, redirect_uri: `${tenantOrigin(slug)}/v1/auth/oauth/github/callback` })

    const stored = await storedSettings(owner.tenant.id)
    expect(JSON.stringify(stored)).not.toContain(secret)
    const github = (stored.oauth as Record<string, Record<string, unknown>>).github!
    expect(github.client_secret_enc).toMatch(/^v1\./)
    expect(github).not.toHaveProperty('client_secret')

    const list = await call(`${tenantOrigin(slug)}/v1/oauth-providers`, { token: owner.access_token })
    expect(list.status).toBe(200)
    expect(JSON.stringify(list.body)).not.toContain(secret)
    expect(JSON.stringify(list.body)).not.toContain(github.client_secret_enc as string)
    expect(JSON.stringify(put.body)).not.toContain(github.client_secret_enc as string)
    expect(list.body.data.map((p: { provider: string; source: string | null }) => [p.provider, p.source])).toEqual([['google', 'platform'], ['github', 'tenant'], ['facebook', 'platform'], ['tiktok', null]])

    // The stand-in GitHub accepts only the tenant's secret: the stored one decrypts to it.
    const start = await browse(`${tenantOrigin(slug)}/v1/auth/oauth/github`)
    expect(new URL(start.location!).searchParams.get('client_id')).toBe('Iv1.tenantapp')
    expect((await call(fake.consent(start.location!, 'github', { id: numericId(), email: newEmail() }))).status).toBe(200)
  })

  it('binds the ciphertext to its tenant: copied into another tenant’s settings it does not decrypt', async () => {
    const owner = await signUp()
    await call(`${tenantOrigin(owner.tenant.slug)}/v1/oauth-providers/github`, { method: 'PUT', body: { client_id: 'Iv1.copied', client_secret: 'copied-secret' }, token: owner.access_token })
    const copy = await openTenant()
    await patchTenantSettings(copy.id, { oauth: (await storedSettings(owner.tenant.id)).oauth })
    const res = await browse(`${tenantOrigin(copy.slug)}/v1/auth/oauth/github`)
    expect(res.status).toBe(503)
    expect(res.body.error.code).toBe('provider_credentials_unreadable')
  })

  it('keeps the stored secret when only enabled changes, turns the provider off, and falls back to the platform app on DELETE', async () => {
    const owner = await signUp()
    const slug = owner.tenant.slug
    const url = `${tenantOrigin(slug)}/v1/oauth-providers/google`
    const token = owner.access_token
    expect((await call(url, { method: 'PUT', body: { client_id: 'tenant.apps.googleusercontent.com', client_secret: 's3cret' }, token })).status).toBe(200)
    const off = await call(url, { method: 'PUT', body: { client_id: 'tenant.apps.googleusercontent.com', enabled: false }, token })
    expect(off.body).toMatchObject({ enabled: false, available: false, has_client_secret: true })
    const disabled = await browse(`${tenantOrigin(slug)}/v1/auth/oauth/google`)
    expect(disabled.status).toBe(404)
    expect(disabled.body.error.code).toBe('provider_disabled')

    const newClient = await call(url, { method: 'PUT', body: { client_id: 'other.apps.googleusercontent.com' }, token })
    expect(newClient.status).toBe(400)
    expect(newClient.body.error.code).toBe('client_secret_required')

    expect((await call(url, { method: 'DELETE', token })).status).toBe(204)
    const fallback = await browse(`${tenantOrigin(slug)}/v1/auth/oauth/google`)
    expect(new URL(fallback.location!).searchParams.get('client_id')).toBe(env.GOOGLE_CLIENT_ID)
    const again = await call(url, { method: 'DELETE', token })
    expect(again.status).toBe(404)
    expect(again.body.error.code).toBe('provider_settings_not_found')
  })

  it('refuses invalid input and unknown providers', async () => {
    const owner = await signUp()
    const base = `${tenantOrigin(owner.tenant.slug)}/v1/oauth-providers`
    const token = owner.access_token
    const missing = await call(`${base}/google`, { method: 'PUT', body: { client_secret: 'x' }, token })
    expect(missing.status).toBe(400)
    expect(missing.body.error.code).toBe('validation_failed')
    const extra = await call(`${base}/google`, { method: 'PUT', body: { client_id: 'a', client_secret: 'b', scope: 'x' }, token })
    expect(extra.status).toBe(400)
    const unknown = await call(`${base}/myspace`, { method: 'PUT', body: { client_id: 'a', client_secret: 'b' }, token })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('unknown_provider')
  })

  it('is for the tenant’s admins only: not anonymous, not members, not admins of another tenant', async () => {
    const [a, b] = [await signUp(), await signUp()]
    const body = { client_id: 'Iv1.hijack', client_secret: 'hijack' }
    const anonymous = await call(`${tenantOrigin(b.tenant.slug)}/v1/oauth-providers/github`, { method: 'PUT', body })
    expect(anonymous.status).toBe(401)
    // A's owner token on B's host is refused, and B's settings stay untouched.
    for (const method of ['PUT', 'DELETE', 'GET']) {
      const res = await call(`${tenantOrigin(b.tenant.slug)}/v1/oauth-providers${method === 'GET' ? '' : '/github'}`, { method, body: method === 'PUT' ? body : undefined, token: a.access_token })
      expect(res.status, method).toBe(401)
    }
    expect((await storedSettings(b.tenant.id)).oauth).toBeUndefined()

    await patchTenantSettings(b.tenant.id, { signup_policy: 'open' })
    const member = await signIn(fake, b.tenant.slug, 'google', { id: numericId(), email: newEmail() })
    const forbidden = await call(`${tenantOrigin(b.tenant.slug)}/v1/oauth-providers/github`, { method: 'PUT', body, token: member.body.access_token })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body.error.code).toBe('permission_denied')
    expect(forbidden.body.error.details).toMatchObject({ permission: 'oauth_providers:update', reason: expect.any(String) })
    expect((await call(`${tenantOrigin(b.tenant.slug)}/v1/oauth-providers`, { token: member.body.access_token })).status).toBe(403)
  })

  it('documents the section in /openapi.json', async () => {
    const doc = await call(`${PLATFORM}/openapi.json`)
    for (const path of ['/v1/auth/oauth/{provider}', '/v1/auth/oauth/{provider}/callback', '/v1/me/identities', '/v1/me/identities/{provider}', '/v1/oauth-providers', '/v1/oauth-providers/{provider}']) {
      expect(doc.body.paths[path], path).toBeDefined()
    }
  })
})
