import { describe, expect, it } from 'vitest'
import { auditEntries, call, createTenant, enableTotp, join, newEmail, openTenant, type Owner, PASSWORD, PLATFORM, signUp, tenantOrigin, uniqueSlug } from './support.ts'

const platformLogin = (email: string, password = PASSWORD) => call(`${PLATFORM}/v1/auth/login`, { body: { email, password } })
const select = (host: string, selection_token: string) => call(`${host}/v1/auth/select`, { body: { selection_token } })

/** An owner (personal tenant) who also joined an open tenant: two workspaces. */
async function memberOfTwo(): Promise<{ o: Owner; other: { id: string; slug: string } }> {
  const o = await signUp()
  const other = await createTenant({ name: 'Zeta Corp', settings: { signup_policy: 'open' } })
  await join(other, o.email)
  return { o, other }
}

describe('sign-in on the platform host (workspace picker)', () => {
  it('answers the user’s organizations and a selection credential, exchanged once for a session on the chosen tenant', async () => {
    const { o, other } = await memberOfTwo()
    const res = await platformLogin(o.email.toUpperCase())
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.expires_in).toBe(300)
    expect(res.body.selection_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(res.body.access_token).toBeUndefined()
    const bySlug = Object.fromEntries(res.body.workspaces.map((w: { slug: string }) => [w.slug, w]))
    expect(Object.keys(bySlug).sort()).toEqual([o.tenant.slug, other.slug].sort())
    expect(bySlug[o.tenant.slug]).toMatchObject({ id: o.tenant.id, role: 'owner' })
    expect(bySlug[other.slug]).toMatchObject({ id: other.id, name: 'Zeta Corp', role: 'member' })
    expect(new URL(bySlug[other.slug].url).hostname.startsWith(`${other.slug}.`)).toBe(true)

    const chosen = await select(tenantOrigin(other.slug), res.body.selection_token)
    expect(chosen.status, JSON.stringify(chosen.body)).toBe(200)
    const me = await call(`${tenantOrigin(other.slug)}/v1/tenant`, { token: chosen.body.access_token })
    expect(me.body).toMatchObject({ id: other.id, role: 'member' })
    expect((await call(`${tenantOrigin(other.slug)}/v1/auth/refresh`, { body: { refresh_token: chosen.body.refresh_token } })).status).toBe(200)
    expect((await auditEntries(other.id)).some((e) => e.action === 'user.login_platform' && e.actorId === o.user.id)).toBe(true)

    // Single use: neither this tenant nor the other takes it again.
    for (const host of [tenantOrigin(other.slug), o.host]) {
      const again = await select(host, res.body.selection_token)
      expect(again.status).toBe(401)
      expect(again.body.error.code).toBe('invalid_selection')
    }
  })

  it('gives the same 401 for a wrong password and an unknown email, and locks after repeated failures', async () => {
    const o = await signUp()
    const wrong = await platformLogin(o.email, 'not the password')
    const unknown = await platformLogin(newEmail(), 'not the password')
    expect(wrong.status).toBe(401)
    expect(wrong.body).toEqual(unknown.body)
    for (let i = 0; i < 3; i++) expect((await platformLogin(o.email, 'not the password')).status).toBe(401)
    const locking = await platformLogin(o.email, 'not the password')
    expect(locking.status).toBe(429)
    expect(locking.body.error.code).toBe('account_locked')
    expect(Number(locking.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await platformLogin(o.email)).status).toBe(429)
  })

  it('refuses a tenant the user does not belong to, and leaves the credential usable for one they do', async () => {
    const { o } = await memberOfTwo()
    const stranger = await createTenant()
    const { selection_token } = (await platformLogin(o.email)).body
    const refused = await select(tenantOrigin(stranger.slug), selection_token)
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('not_a_member')
    expect((await select(o.host, selection_token)).status).toBe(200)
  })

  it('refuses malformed and unknown credentials, and is served on tenant hosts only', async () => {
    const o = await signUp()
    expect((await call(`${o.host}/v1/auth/select`, { body: { selection_token: 'short' } })).body.error.code).toBe('validation_failed')
    expect((await call(`${o.host}/v1/auth/select`, { body: {} })).status).toBe(400)
    expect((await select(o.host, 'A'.repeat(43))).body.error.code).toBe('invalid_selection')
    const { selection_token } = (await platformLogin(o.email)).body
    const onPlatform = await select(PLATFORM, selection_token)
    expect(onPlatform.status).toBe(404)
    expect(onPlatform.body.error.code).toBe('tenant_required')
    expect((await select(o.host, selection_token)).status).toBe(200)
  })

  it('keeps the chosen tenant’s lock: an account locked there is not signed in through the picker', async () => {
    const o = await signUp()
    const strict = await openTenant({ lockout: { max_attempts: 1 } })
    const host = tenantOrigin(strict.slug)
    await join(strict, o.email)
    expect((await call(`${host}/v1/auth/login`, { body: { email: o.email, password: 'not the password' } })).status).toBe(429)
    const { selection_token } = (await platformLogin(o.email)).body
    const locked = await select(host, selection_token)
    expect(locked.status).toBe(429)
    expect(locked.body.error.code).toBe('account_locked')
  })

  it('asks for the second factor when the account has MFA on', async () => {
    const o = await signUp()
    const { backupCodes } = await enableTotp(o)
    const { selection_token } = (await platformLogin(o.email)).body
    const chosen = await select(o.host, selection_token)
    expect(chosen.status).toBe(200)
    expect(chosen.body).toMatchObject({ mfa_required: true })
    expect(chosen.body.access_token).toBeUndefined()
    const verified = await call(`${o.host}/v1/auth/mfa/verify`, { body: { mfa_token: chosen.body.mfa_token, code: backupCodes[0] } })
    expect(verified.status, JSON.stringify(verified.body)).toBe(200)
    expect(verified.body.access_token).toBeTypeOf('string')
  })

  it('voids the credential when the password changes before it is used', async () => {
    const o = await signUp()
    const { selection_token } = (await platformLogin(o.email)).body
    expect((await call(`${o.host}/v1/me/password`, { body: { current_password: PASSWORD, new_password: 'a brand new passphrase' }, token: o.access_token })).status).toBe(200)
    expect((await select(o.host, selection_token)).body.error.code).toBe('invalid_selection')
  })
})

describe('another organization for an existing account', () => {
  it('creates one from the platform sign-in (POST /v1/auth/workspaces): owned, signed in there, and the credential is spent', async () => {
    const o = await signUp()
    expect((await call(`${PLATFORM}/v1/auth/register`, { body: { email: o.email, password: PASSWORD } })).body.error.code).toBe('email_taken')
    const { selection_token } = (await platformLogin(o.email)).body
    const slug = uniqueSlug('own')
    const res = await call(`${PLATFORM}/v1/auth/workspaces`, { body: { selection_token, name: 'Second Co', slug } })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.tenant).toMatchObject({ slug, name: 'Second Co' })
    const here = await call(`${tenantOrigin(slug)}/v1/tenant`, { token: res.body.access_token })
    expect(here.body).toMatchObject({ id: res.body.tenant.id, role: 'owner' })
    expect((await call(`${PLATFORM}/v1/auth/workspaces`, { body: { selection_token, name: 'Third Co' } })).body.error.code).toBe('invalid_selection')
    const picker = (await platformLogin(o.email)).body.workspaces.map((w: { slug: string }) => w.slug)
    expect(picker).toContain(slug)
  })

  it('creates one while signed in on a tenant host (POST /v1/me/tenants), with a generated slug when none is given', async () => {
    const o = await signUp()
    const res = await call(`${o.host}/v1/me/tenants`, { body: { name: 'Side Project' }, token: o.access_token })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.tenant.name).toBe('Side Project')
    expect(res.body.tenant.slug).not.toBe(o.tenant.slug)
    const here = await call(`${tenantOrigin(res.body.tenant.slug)}/v1/tenant`, { token: res.body.access_token })
    expect(here.body).toMatchObject({ role: 'owner', permissions: expect.arrayContaining(['tenant:update']) })
    const audit = await auditEntries(res.body.tenant.id)
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['tenant.created', 'member.joined']))
  })

  it('refuses invalid input: a bad or taken slug, a missing name', async () => {
    const o = await signUp()
    const other = await signUp()
    for (const body of [{}, { name: '' }, { name: 'X', slug: 'Not A Slug' }, { name: 'X', slug: 'admin' }, { name: 'X', extra: true }]) {
      const res = await call(`${o.host}/v1/me/tenants`, { body, token: o.access_token })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const taken = await call(`${o.host}/v1/me/tenants`, { body: { name: 'X', slug: other.tenant.slug }, token: o.access_token })
    expect(taken.status).toBe(409)
    expect(taken.body.error.code).toBe('slug_taken')
  })

  it('needs the user’s own session: 401 without one or with another tenant’s token, 404 on the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await call(`${a.host}/v1/me/tenants`, { body: { name: 'X' } })).status).toBe(401)
    expect((await call(`${b.host}/v1/me/tenants`, { body: { name: 'X' }, token: a.access_token })).body.error.code).toBe('invalid_token')
    expect((await call(`${PLATFORM}/v1/me/tenants`, { body: { name: 'X' } })).status).toBe(404)
    expect((await call(`${a.host}/v1/auth/workspaces`, { body: { selection_token: 'A'.repeat(43), name: 'X' } })).body.error.code).toBe('platform_host_required')
    expect((await call(`${PLATFORM}/v1/auth/workspaces`, { body: { selection_token: 'A'.repeat(43), name: 'X' } })).body.error.code).toBe('invalid_selection')
  })
})
