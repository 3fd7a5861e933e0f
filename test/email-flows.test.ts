import { env } from 'cloudflare:test'
import { afterEach, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { hashToken } from '../src/identity/secrets.ts'
import { sendgridSender } from '../src/platform/mail/sendgrid.ts'
import { call, enableTotp, join, type Mail, mailsTo, newEmail, openTenant, PASSWORD, PLATFORM, randomClientIp, redis, signUp, tenantOrigin, waitForMail, withEnv } from './support.ts'
import { SendGridStandIn } from './sendgrid-stand-in.ts'

const NEW_PASSWORD = 'a brand new passphrase'

/** The link of a mail (text part), with its token; the HTML part carries the same link. */
function linkIn(mail: Mail): { url: URL; token: string } {
  const href = mail.text.match(/https?:\/\/\S+/)?.[0]
  if (!href) throw new Error(`no link in ${mail.text}`)
  const url = new URL(href)
  expect(mail.html).toContain(href)
  // The token travels in the fragment, which no server (nor a log, nor a Referer) ever sees.
  expect(url.search).toBe('')
  return { url, token: new URLSearchParams(url.hash.slice(1)).get('token')! }
}

const linkKey = async (purpose: string, tenantId: string, token: string) => `link:${purpose}:${tenantId}:${await hashToken(token)}`

async function forgot(slug: string, address: string) {
  return call(`${tenantOrigin(slug)}/v1/auth/password/forgot`, { body: { email: address } })
}

async function resetLink(slug: string, address: string, count = 1) {
  expect((await forgot(slug, address)).status).toBe(202)
  return linkIn(await waitForMail(address, count)).token
}

async function magicLink(slug: string, address: string, count = 1) {
  expect((await call(`${tenantOrigin(slug)}/v1/auth/magic-link`, { body: { email: address } })).status).toBe(202)
  return linkIn(await waitForMail(address, count)).token
}

const login = (slug: string, address: string, password: string) =>
  call(`${tenantOrigin(slug)}/v1/auth/login`, { body: { email: address, password } })

describe('email verification', () => {
  it('mails the signed-in user a link on the tenant URL; confirming it verifies the email and records a user event', async () => {
    const t = await openTenant()
    const u = await join(t)
    const host = tenantOrigin(t.slug)
    const res = await call(`${host}/v1/auth/verify-email/request`, { method: 'POST', token: u.access_token })
    expect(res.status).toBe(202)
    const mail = await waitForMail(u.email)
    expect(mail.subject).toContain(`Tenant ${t.slug}`)
    const { url, token } = linkIn(mail)
    expect(url.origin).toBe(host)
    expect(url.pathname).toBe('/verify-email')
    // Stored hashed with a 24 h lifetime, never as the token itself.
    expect(await redis.exists(`link:verify_email:${t.id}:${token}`)).toBe(0)
    const ttl = await redis.ttl(await linkKey('verify_email', t.id, token))
    expect(ttl).toBeGreaterThan(24 * 3600 - 30)
    expect(ttl).toBeLessThanOrEqual(24 * 3600)

    expect((await call(`${host}/v1/me`, { token: u.access_token })).body.email_verified).toBe(false)
    const confirmed = await call(`${host}/v1/auth/verify-email/confirm`, { body: { token } })
    expect(confirmed.status).toBe(200)
    expect(confirmed.body).toEqual({ email_verified: true, membership_activated: false })
    expect((await call(`${host}/v1/me`, { token: u.access_token })).body.email_verified).toBe(true)
    const events = await call(`${host}/v1/me/events`, { token: u.access_token })
    expect(events.body.data[0]).toMatchObject({ action: 'email.verified', details: { via: 'verification_link', tenant: t.id } })

    const again = await call(`${host}/v1/auth/verify-email/request`, { method: 'POST', token: u.access_token })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('email_already_verified')
  })

  it('refuses a verification link used twice', async () => {
    const t = await openTenant()
    const u = await join(t)
    await call(`${tenantOrigin(t.slug)}/v1/auth/verify-email/request`, { method: 'POST', token: u.access_token })
    const { token } = linkIn(await waitForMail(u.email))
    const uses = await Promise.all([1, 2].map(() => call(`${tenantOrigin(t.slug)}/v1/auth/verify-email/confirm`, { body: { token } })))
    expect(uses.map((r) => r.status).sort()).toEqual([200, 400])
    expect(uses.find((r) => r.status === 400)!.body.error.code).toBe('invalid_link')
  })

  it('answers 401 to an unauthenticated request, and to a token of another tenant', async () => {
    const a = await openTenant()
    const b = await openTenant()
    const u = await join(a)
    const anonymous = await call(`${tenantOrigin(a.slug)}/v1/auth/verify-email/request`, { method: 'POST' })
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.error.code).toBe('unauthenticated')
    const elsewhere = await call(`${tenantOrigin(b.slug)}/v1/auth/verify-email/request`, { method: 'POST', token: u.access_token })
    expect(elsewhere.status).toBe(401)
    expect(elsewhere.body.error.code).toBe('invalid_token')
    expect(await mailsTo(u.email)).toHaveLength(0)
  })

  it('refuses a verification link on another tenant’s host, even for a member of both', async () => {
    const a = await openTenant()
    const b = await openTenant()
    const u = await join(a)
    await join(b, u.email)
    await call(`${tenantOrigin(a.slug)}/v1/auth/verify-email/request`, { method: 'POST', token: u.access_token })
    const { token } = linkIn(await waitForMail(u.email))
    const wrong = await call(`${tenantOrigin(b.slug)}/v1/auth/verify-email/confirm`, { body: { token } })
    expect(wrong.status).toBe(400)
    expect(wrong.body.error.code).toBe('invalid_link')
    expect((await call(`${tenantOrigin(a.slug)}/v1/auth/verify-email/confirm`, { body: { token } })).status).toBe(200)
  })

  it('answers 400 validation_failed to a missing, malformed or extra field', async () => {
    const t = await openTenant()
    const url = `${tenantOrigin(t.slug)}/v1/auth/verify-email/confirm`
    for (const body of [{}, { token: 42 }, { token: 'short' }, { token: 'x'.repeat(43) + '!' }, { token: 'a'.repeat(43), extra: 1 }]) {
      const res = await call(url, { body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const unknown = await call(url, { body: { token: 'a'.repeat(43) } })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.code).toBe('invalid_link')
  })
})

describe('password reset', () => {
  it('resets the password: the old one stops working, every session ends, events are recorded and the link points at the tenant', async () => {
    const o = await signUp({ name: 'Ada' })
    const slug = o.tenant.slug
    const host = tenantOrigin(slug)
    const second = (await login(slug, o.email, PASSWORD)).body

    const res = await forgot(slug, o.email)
    expect(res.status).toBe(202)
    const mail = await waitForMail(o.email)
    expect(mail.subject).toMatch(/Reset your .* password/)
    expect(mail.text).toContain('expires in 30 minutes')
    const { url, token } = linkIn(mail)
    expect(url.origin).toBe(host)
    expect(url.pathname).toBe('/reset-password')
    const ttl = await redis.ttl(await linkKey('password_reset', o.tenant.id, token))
    expect(ttl).toBeGreaterThan(30 * 60 - 30)
    expect(ttl).toBeLessThanOrEqual(30 * 60)

    const reset = await call(`${host}/v1/auth/password/reset`, { body: { token, password: NEW_PASSWORD } })
    expect(reset.status).toBe(200)
    expect(reset.body).toEqual({ password_changed: true, sessions_revoked: 2 })

    for (const session of [o, second]) {
      const me = await call(`${host}/v1/me`, { token: session.access_token })
      expect(me.status).toBe(401)
      expect(me.body.error.code).toBe('invalid_token')
      expect((await call(`${host}/v1/auth/refresh`, { body: { refresh_token: session.refresh_token } })).status).toBe(401)
    }
    expect((await login(slug, o.email, PASSWORD)).status).toBe(401)
    const fresh = await login(slug, o.email, NEW_PASSWORD)
    expect(fresh.status).toBe(200)

    const me = await call(`${host}/v1/me`, { token: fresh.body.access_token })
    expect(me.body.email_verified).toBe(true) // the link proved the mailbox
    const events = await call(`${host}/v1/me/events`, { token: fresh.body.access_token })
    expect(events.body.data.map((e: { action: string }) => e.action)).toContain('password.changed')
    expect(events.body.data.find((e: { action: string }) => e.action === 'password.changed').details).toEqual({ via: 'password_reset', tenant: o.tenant.id })
    const audit = await call(`${host}/v1/audit?action=user.password_reset`, { token: fresh.body.access_token })
    expect(audit.body.data).toEqual([expect.objectContaining({ action: 'user.password_reset', actor_id: o.user.id, target_id: o.user.id, outcome: 'success' })])
    const revoked = await call(`${host}/v1/audit?action=session.revoked`, { token: fresh.body.access_token })
    expect(revoked.status).toBe(200)
  })

  it('answers an unknown address and a member of another tenant exactly like a member, and mails only the member', async () => {
    const t = await openTenant()
    const member = await join(t)
    const outsider = await signUp({ name: 'Ada' }) // has an account, but not in this tenant
    // …with a verified address: an unverified one would get a claim link (test/account-claim.test.ts).
    await call(`${tenantOrigin(outsider.tenant.slug)}/v1/auth/verify-email/request`, { method: 'POST', token: outsider.access_token })
    const verification = linkIn((await mailsTo(outsider.email))[0]!).token
    expect((await call(`${tenantOrigin(outsider.tenant.slug)}/v1/auth/verify-email/confirm`, { body: { token: verification } })).status).toBe(200)
    const nobody = newEmail()
    const answers = await Promise.all([member.email, outsider.email, nobody].map((address) => forgot(t.slug, address)))
    for (const res of answers) {
      expect(res.status).toBe(202)
      expect(res.body).toEqual(answers[0]!.body)
    }
    expect(Object.keys(answers[0]!.body)).toEqual(['message'])
    await waitForMail(member.email)
    // The others' work ran in the same way, after the answer: give it time to have sent anything.
    await new Promise((r) => setTimeout(r, 300))
    expect((await mailsTo(outsider.email)).filter((m) => m.text.includes('/reset-password'))).toHaveLength(0)
    expect(await mailsTo(nobody)).toHaveLength(0)
  })

  it('refuses a reset link used twice, and a second link once the password has changed', async () => {
    const t = await openTenant()
    const u = await join(t)
    const first = await resetLink(t.slug, u.email)
    const second = await resetLink(t.slug, u.email, 2)
    const url = `${tenantOrigin(t.slug)}/v1/auth/password/reset`
    const uses = await Promise.all([1, 2].map(() => call(url, { body: { token: first, password: NEW_PASSWORD } })))
    expect(uses.map((r) => r.status).sort()).toEqual([200, 400])
    const stale = await call(url, { body: { token: second, password: 'yet another passphrase' } })
    expect(stale.status).toBe(400)
    expect(stale.body.error.code).toBe('invalid_link')
    expect((await login(t.slug, u.email, NEW_PASSWORD)).status).toBe(200)
  })

  it('refuses a reset link of tenant A on tenant B’s host, even for a member of both', async () => {
    const o = await signUp({ name: 'Ada' })
    const b = await openTenant()
    await join(b, o.email)
    const token = await resetLink(o.tenant.slug, o.email)
    const wrong = await call(`${tenantOrigin(b.slug)}/v1/auth/password/reset`, { body: { token, password: NEW_PASSWORD } })
    expect(wrong.status).toBe(400)
    expect(wrong.body.error.code).toBe('invalid_link')
    expect((await login(b.slug, o.email, PASSWORD)).status).toBe(200)
    // The attempt on B did not use the link up.
    expect((await call(`${tenantOrigin(o.tenant.slug)}/v1/auth/password/reset`, { body: { token, password: NEW_PASSWORD } })).status).toBe(200)
  })

  it('applies the tenant’s password policy without using the link up', async () => {
    const t = await openTenant({ password_policy: { min_length: 16 } })
    const u = await join(t, undefined)
    const token = await resetLink(t.slug, u.email)
    const url = `${tenantOrigin(t.slug)}/v1/auth/password/reset`
    const weak = await call(url, { body: { token, password: 'fifteen chars!!' } })
    expect(weak.status).toBe(400)
    expect(weak.body.error).toMatchObject({ code: 'weak_password', details: { min_length: 16 } })
    expect((await call(url, { body: { token, password: 'sixteen chars!!!' } })).status).toBe(200)
  })

  it('clears the failed-login count, so earlier failures do not count towards a lock', async () => {
    const t = await openTenant({ lockout: { max_attempts: 3 } })
    const u = await join(t)
    for (let i = 0; i < 2; i++) expect((await login(t.slug, u.email, 'wrong password!')).status).toBe(401)
    const token = await resetLink(t.slug, u.email)
    expect((await call(`${tenantOrigin(t.slug)}/v1/auth/password/reset`, { body: { token, password: NEW_PASSWORD } })).status).toBe(200)
    for (let i = 0; i < 2; i++) expect((await login(t.slug, u.email, 'wrong password!')).status).toBe(401)
    expect((await login(t.slug, u.email, NEW_PASSWORD)).status).toBe(200)
  })

  it('refuses an expired link', async () => {
    const t = await openTenant()
    const u = await join(t)
    const sent = await withEnv({ PASSWORD_RESET_TTL_SECONDS: '1' }, `${tenantOrigin(t.slug)}/v1/auth/password/forgot`, { body: { email: u.email } })
    expect(sent.status).toBe(202)
    const mail = await waitForMail(u.email)
    expect(mail.text).toContain('expires in 1 second')
    const { token } = linkIn(mail)
    expect(await redis.pttl(await linkKey('password_reset', t.id, token))).toBeLessThanOrEqual(1000)
    await new Promise((r) => setTimeout(r, 1500))
    const res = await call(`${tenantOrigin(t.slug)}/v1/auth/password/reset`, { body: { token, password: NEW_PASSWORD } })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_link')
    expect((await login(t.slug, u.email, PASSWORD)).status).toBe(200)
  })

  it('sends at most 5 mails an hour to one address, answering 202 all the same', async () => {
    const t = await openTenant()
    const u = await join(t)
    for (let i = 0; i < 7; i++) {
      const res = i % 2 ? await forgot(t.slug, u.email) : await call(`${tenantOrigin(t.slug)}/v1/auth/magic-link`, { body: { email: u.email } })
      expect(res.status).toBe(202)
    }
    await waitForMail(u.email, 5)
    await new Promise((r) => setTimeout(r, 300))
    expect(await mailsTo(u.email)).toHaveLength(5)
    // The limit is per tenant: another tenant still mails the same person.
    const other = await openTenant()
    await join(other, u.email)
    await forgot(other.slug, u.email)
    await waitForMail(u.email, 6)
  })

  it('answers 400 to invalid input, and 404 tenant_required on the platform host', async () => {
    const t = await openTenant()
    const host = tenantOrigin(t.slug)
    for (const [path, body] of [
      ['/v1/auth/password/forgot', { email: 'not-an-email' }],
      ['/v1/auth/password/forgot', {}],
      ['/v1/auth/password/forgot', { email: 'a@example.com', extra: true }],
      ['/v1/auth/password/reset', { token: 'a'.repeat(43) }],
      ['/v1/auth/password/reset', { token: 'a'.repeat(43), password: '' }],
      ['/v1/auth/password/reset', { token: '../etc', password: NEW_PASSWORD }],
    ] as const) {
      const res = await call(`${host}${path}`, { body })
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const notJson = await call(`${host}/v1/auth/password/forgot`, { body: 'email=a@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(notJson.status).toBe(415)
    const platform = await call(`${PLATFORM}/v1/auth/password/forgot`, { body: { email: 'a@example.com' } })
    expect(platform.status).toBe(404)
    expect(platform.body.error.code).toBe('tenant_required')
  })
})

describe('magic link', () => {
  it('signs a member in once, verifying the email, with a 15-minute link on the tenant URL', async () => {
    const t = await openTenant()
    const u = await join(t)
    const host = tenantOrigin(t.slug)
    const res = await call(`${host}/v1/auth/magic-link`, { body: { email: u.email.toUpperCase() } })
    expect(res.status).toBe(202)
    const mail = await waitForMail(u.email)
    expect(mail.subject).toContain('sign-in link')
    expect(mail.text).toContain('expires in 15 minutes')
    const { url, token } = linkIn(mail)
    expect(url.origin).toBe(host)
    expect(url.pathname).toBe('/magic-link')
    const ttl = await redis.ttl(await linkKey('magic_link', t.id, token))
    expect(ttl).toBeGreaterThan(15 * 60 - 30)
    expect(ttl).toBeLessThanOrEqual(15 * 60)

    const signedIn = await call(`${host}/v1/auth/magic-link/verify`, { body: { token } })
    expect(signedIn.status).toBe(200)
    expect(signedIn.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const me = await call(`${host}/v1/me`, { token: signedIn.body.access_token })
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ id: u.user.id, email_verified: true })
    expect((await call(`${host}/v1/auth/refresh`, { body: { refresh_token: signedIn.body.refresh_token } })).status).toBe(200)

    const again = await call(`${host}/v1/auth/magic-link/verify`, { body: { token } })
    expect(again.status).toBe(400)
    expect(again.body.error.code).toBe('invalid_link')
  })

  it('answers the MFA challenge when the member has two-factor authentication on', async () => {
    const o = await signUp({ name: 'Ada' })
    const host = tenantOrigin(o.tenant.slug)
    const { backupCodes } = await enableTotp(o)

    const token = await magicLink(o.tenant.slug, o.email)
    const res = await call(`${host}/v1/auth/magic-link/verify`, { body: { token } })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) })
    const second = await call(`${host}/v1/auth/mfa/verify`, { body: { mfa_token: res.body.mfa_token, code: backupCodes[0] } })
    expect(second.status).toBe(200)
    expect((await call(`${host}/v1/me`, { token: second.body.access_token })).body.email_verified).toBe(true)
  })

  it('works exactly once under concurrent use', async () => {
    const t = await openTenant()
    const u = await join(t)
    const token = await magicLink(t.slug, u.email)
    const uses = await Promise.all([1, 2, 3].map(() => call(`${tenantOrigin(t.slug)}/v1/auth/magic-link/verify`, { body: { token } })))
    expect(uses.map((r) => r.status).sort()).toEqual([200, 400, 400])
  })

  it('answers unknown addresses and non-members exactly like members, mailing only members', async () => {
    const t = await openTenant()
    const member = await join(t)
    const outsider = await signUp({ name: 'Ada' })
    const nobody = newEmail()
    const answers = await Promise.all([member.email, outsider.email, nobody].map((address) => call(`${tenantOrigin(t.slug)}/v1/auth/magic-link`, { body: { email: address } })))
    for (const res of answers) {
      expect(res.status).toBe(202)
      expect(res.body).toEqual(answers[0]!.body)
    }
    await waitForMail(member.email)
    await new Promise((r) => setTimeout(r, 300))
    expect(await mailsTo(outsider.email)).toHaveLength(0)
    expect(await mailsTo(nobody)).toHaveLength(0)
  })

  it('is bound to its tenant and purpose: refused on another host, and reset and magic tokens do not stand in for each other', async () => {
    const o = await signUp({ name: 'Ada' })
    const b = await openTenant()
    await join(b, o.email)
    const a = o.tenant.slug
    const magic = await magicLink(a, o.email)
    const reset = await resetLink(a, o.email, 2)

    const onB = await call(`${tenantOrigin(b.slug)}/v1/auth/magic-link/verify`, { body: { token: magic } })
    expect(onB.status).toBe(400)
    expect(onB.body.error.code).toBe('invalid_link')
    expect((await call(`${tenantOrigin(a)}/v1/auth/magic-link/verify`, { body: { token: reset } })).status).toBe(400)
    expect((await call(`${tenantOrigin(a)}/v1/auth/password/reset`, { body: { token: magic, password: NEW_PASSWORD } })).status).toBe(400)
    expect((await call(`${tenantOrigin(a)}/v1/auth/verify-email/confirm`, { body: { token: magic } })).status).toBe(400)
    // None of those attempts used the links up.
    expect((await call(`${tenantOrigin(a)}/v1/auth/magic-link/verify`, { body: { token: magic } })).status).toBe(200)
    expect((await call(`${tenantOrigin(a)}/v1/auth/password/reset`, { body: { token: reset, password: NEW_PASSWORD } })).status).toBe(200)
  })

  it('refuses an expired link', async () => {
    const t = await openTenant()
    const u = await join(t)
    expect((await withEnv({ MAGIC_LINK_TTL_SECONDS: '1' }, `${tenantOrigin(t.slug)}/v1/auth/magic-link`, { body: { email: u.email } })).status).toBe(202)
    const { token } = linkIn(await waitForMail(u.email))
    await new Promise((r) => setTimeout(r, 1500))
    const res = await call(`${tenantOrigin(t.slug)}/v1/auth/magic-link/verify`, { body: { token } })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('invalid_link')
  })

  it('answers 400 to invalid input', async () => {
    const t = await openTenant()
    const host = tenantOrigin(t.slug)
    for (const [path, body] of [
      ['/v1/auth/magic-link', { email: 'nope' }],
      ['/v1/auth/magic-link', { email: ['a@example.com'] }],
      ['/v1/auth/magic-link/verify', {}],
      ['/v1/auth/magic-link/verify', { token: null }],
    ] as const) {
      const res = await call(`${host}${path}`, { body })
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })
})

describe('throttling', () => {
  it('throttles every email-flow endpoint per IP (the credential limit, 20 a minute)', async () => {
    const t = await openTenant()
    const host = tenantOrigin(t.slug)
    const ip = randomClientIp()
    const paths = ['/v1/auth/password/forgot', '/v1/auth/password/reset', '/v1/auth/magic-link', '/v1/auth/magic-link/verify', '/v1/auth/verify-email/confirm']
    for (let i = 0; i < 20; i++) {
      const res = await call(`${host}${paths[i % paths.length]}`, { body: {}, headers: { 'cf-connecting-ip': ip } })
      expect(res.status).toBe(400)
    }
    // The limiter is a sliding window: when the attempts straddle a window boundary the previous
    // window's count is weighted down, so the 21st may still pass; within a few more it may not.
    const more: number[] = []
    while (more.length < 5 && !more.includes(429)) more.push((await call(`${host}${paths[0]}`, { body: {}, headers: { 'cf-connecting-ip': ip } })).status)
    expect(more).toContain(429)
    for (const path of paths) {
      const res = await call(`${host}${path}`, { body: { email: 'a@example.com' }, headers: { 'cf-connecting-ip': ip } })
      expect(res.status, path).toBe(429)
      expect(res.body.error.code).toBe('rate_limited')
    }
    // Another address is not affected.
    expect((await call(`${host}/v1/auth/password/forgot`, { body: { email: 'a@example.com' } })).status).toBe(202)
  })
})

describe('SendGrid adapter', () => {
  const stand = new SendGridStandIn('SG.test-key')
  afterEach(() => stand.stop())

  it('sends the reset mail through SendGrid’s v3 Mail Send API with its real request shape', async () => {
    stand.start()
    const t = await openTenant()
    const u = await join(t)
    const res = await withEnv({ MAIL_TRANSPORT: 'sendgrid', SENDGRID_API_KEY: 'SG.test-key', MAIL_FROM: 'Atrium <no-reply@atrium.test>' }, `${tenantOrigin(t.slug)}/v1/auth/password/forgot`, { body: { email: u.email } })
    expect(res.status).toBe(202)
    expect(stand.accepted).toHaveLength(1)
    const sent = stand.accepted[0]!
    expect(sent).toMatchObject({
      personalizations: [{ to: [{ email: u.email }] }],
      from: { email: 'no-reply@atrium.test', name: 'Atrium' },
      subject: `Reset your Tenant ${t.slug} password`,
    })
    expect(sent.content.map((c) => c.type)).toEqual(['text/plain', 'text/html'])
    expect(sent.content[0]!.value).toMatch(new RegExp(`${tenantOrigin(t.slug).replaceAll('.', '\\.')}/reset-password#token=[A-Za-z0-9_-]{43}`))
    expect(await mailsTo(u.email)).toHaveLength(0)
  })

  it('posts exactly SendGrid’s message shape, and rejects with SendGrid’s error when a message is refused', async () => {
    stand.start()
    const message = { to: 'ada@example.com', subject: 'Hello <Ada>', text: 'Plain words', html: '<p>Rich words</p>' }
    await sendgridSender({ apiKey: 'SG.test-key', apiUrl: 'https://api.sendgrid.com/v3/mail/send', from: 'no-reply@atrium.test' }).send(message)
    expect(stand.accepted).toEqual([{
      personalizations: [{ to: [{ email: 'ada@example.com' }] }],
      from: { email: 'no-reply@atrium.test' },
      subject: 'Hello <Ada>',
      content: [{ type: 'text/plain', value: 'Plain words' }, { type: 'text/html', value: '<p>Rich words</p>' }],
    }])

    const badFrom = sendgridSender({ apiKey: 'SG.test-key', apiUrl: 'https://api.sendgrid.com/v3/mail/send', from: 'Atrium <not an address>' })
    await expect(badFrom.send(message)).rejects.toThrow(/HTTP 400 .*The from email does not contain a valid address/)
    const badKey = sendgridSender({ apiKey: 'SG.revoked', apiUrl: 'https://api.sendgrid.com/v3/mail/send', from: 'no-reply@atrium.test' })
    await expect(badKey.send(message)).rejects.toThrow(/HTTP 401/)
    expect(stand.refused).toEqual([400, 401])
    expect(stand.accepted).toHaveLength(1)
  })

  it('surfaces a refusal (4xx) as an error: 503 mail_unavailable where the caller waits for the mail', async () => {
    stand.start()
    const t = await openTenant()
    const u = await join(t)
    const url = `${tenantOrigin(t.slug)}/v1/auth/verify-email/request`
    const send = (key: string) =>
      createApp().fetch(
        new Request(url, { method: 'POST', headers: { authorization: `Bearer ${u.access_token}`, 'cf-connecting-ip': randomClientIp() } }),
        { ...env, MAIL_TRANSPORT: 'sendgrid', SENDGRID_API_KEY: key },
        { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext,
      )
    const refused = await send('SG.wrong-key')
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as any).error.code).toBe('mail_unavailable')
    expect(stand.refused).toEqual([401])
    expect((await send('SG.test-key')).status).toBe(202)
    expect(stand.accepted).toHaveLength(1)
  })
})

describe('password reset reaches every tenant of the account', () => {
  it('lifts an active lock, and ends the account’s sessions in its other tenants too', async () => {
    const tenant = await openTenant({ lockout: { max_attempts: 2, base_seconds: 300, max_seconds: 600 } })
    const other = await openTenant()
    const account = await join(tenant)
    const elsewhere = await join(other, account.email)
    for (let i = 0; i < 2; i++) await call(`${tenantOrigin(tenant.slug)}/v1/auth/login`, { body: { email: account.email, password: 'wrong password' } })
    expect((await call(`${tenantOrigin(tenant.slug)}/v1/auth/login`, { body: { email: account.email, password: PASSWORD } })).status).toBe(429)

    const token = await resetLink(tenant.slug, account.email)
    const reset = await call(`${tenantOrigin(tenant.slug)}/v1/auth/password/reset`, { body: { token, password: NEW_PASSWORD } })
    expect(reset.body).toMatchObject({ password_changed: true })
    expect((await call(`${tenantOrigin(tenant.slug)}/v1/auth/login`, { body: { email: account.email, password: NEW_PASSWORD } })).status).toBe(200)
    expect((await call(`${tenantOrigin(other.slug)}/v1/me`, { token: elsewhere.access_token })).status).toBe(401)
  })
})
