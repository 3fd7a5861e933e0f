import { describe, expect, it } from 'vitest'
import { auditEntries, call, join, newEmail, openTenant, PASSWORD, PLATFORM, received, signUp, subscribe, tenantOrigin, webhookReceiver } from './support.ts'

const NEW_PASSWORD = 'a brand new passphrase'
const receiver = webhookReceiver()

const change = (host: string, token: string | undefined, body: unknown) => call(`${host}/v1/me/password`, { body, token })
const login = (host: string, email: string, password: string) => call(`${host}/v1/auth/login`, { body: { email, password } })

describe('POST /v1/me/password', () => {
  it('changes the password with the current one; other sessions end in every tenant, this one stays; audited, with its event', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/pw', ['user.password_changed'])
    const second = await login(o.host, o.email, PASSWORD)
    expect(second.status).toBe(200)
    // The same account in another tenant (open sign-up: an existing account joins with its password).
    const other = await openTenant()
    const elsewhere = await join(other, o.email)

    const res = await change(o.host, o.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body).toEqual({ password_changed: true, sessions_revoked: 2 })

    expect((await call(`${o.host}/v1/me`, { token: o.access_token })).status).toBe(200)
    expect((await call(`${o.host}/v1/me`, { token: second.body.access_token })).body.error.code).toBe('invalid_token')
    expect((await call(`${tenantOrigin(other.slug)}/v1/me`, { token: elsewhere.access_token })).body.error.code).toBe('invalid_token')
    expect((await login(o.host, o.email, PASSWORD)).status).toBe(401)
    expect((await login(o.host, o.email, NEW_PASSWORD)).status).toBe(200)

    const events = await call(`${o.host}/v1/me/events`, { token: o.access_token })
    expect(events.body.data[0]).toMatchObject({ action: 'password.changed', details: { via: 'change', tenant: o.tenant.id, other_sessions_ended: true } })
    const audit = (await auditEntries(o.tenant.id)).filter((e) => e.action === 'user.password_changed')
    expect(audit).toEqual([expect.objectContaining({ actorType: 'user', actorId: o.user.id, targetId: o.user.id })])
    const [event] = await received(got, 'user.password_changed')
    expect(event).toMatchObject({ type: 'user.password_changed', tenant_id: o.tenant.id, actor: { type: 'user', id: o.user.id }, data: { user_id: o.user.id, via: 'change', other_sessions_ended: true } })
  })

  it('keeps other sessions with end_other_sessions: false', async () => {
    const o = await signUp()
    const second = await login(o.host, o.email, PASSWORD)
    const res = await change(o.host, o.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD, end_other_sessions: false })
    expect(res.body).toEqual({ password_changed: true, sessions_revoked: 0 })
    expect((await call(`${o.host}/v1/me`, { token: second.body.access_token })).status).toBe(200)
    expect((await call(`${o.host}/v1/auth/refresh`, { body: { refresh_token: second.body.refresh_token } })).status).toBe(200)
  })

  it('refuses a new password below the tenant’s policy', async () => {
    const t = await openTenant({ password_policy: { min_length: 16 } })
    const host = tenantOrigin(t.slug)
    const u = (await call(`${host}/v1/auth/register`, { body: { email: newEmail(), password: 'sixteen chars long' } })).body
    const weak = await change(host, u.access_token, { current_password: 'sixteen chars long', new_password: 'too short' })
    expect(weak.status).toBe(400)
    expect(weak.body.error).toMatchObject({ code: 'weak_password', details: { min_length: 16 } })
  })

  it('refuses a wrong current password, counted towards the account’s lockout like a wrong sign-in', async () => {
    const t = await openTenant({ lockout: { max_attempts: 2 } })
    const host = tenantOrigin(t.slug)
    const email = newEmail()
    const u = (await call(`${host}/v1/auth/register`, { body: { email, password: PASSWORD } })).body
    const wrong = await change(host, u.access_token, { current_password: 'not the password', new_password: NEW_PASSWORD })
    expect(wrong.status).toBe(400)
    expect(wrong.body.error).toMatchObject({ code: 'invalid_current_password', details: { field: 'current_password' } })
    const locking = await change(host, u.access_token, { current_password: 'not the password', new_password: NEW_PASSWORD })
    expect(locking.status).toBe(429)
    expect(locking.body.error.code).toBe('account_locked')
    // While locked, even the right password changes nothing, and sign-in is locked too.
    expect((await change(host, u.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(429)
    expect((await login(host, email, PASSWORD)).status).toBe(429)
    const failures = (await auditEntries(t.id)).filter((e) => e.action === 'user.password_change')
    expect(failures).toHaveLength(2)
  })

  it('refuses malformed bodies', async () => {
    const o = await signUp()
    for (const body of [{}, { current_password: PASSWORD }, { current_password: PASSWORD, new_password: NEW_PASSWORD, extra: 1 }, { current_password: PASSWORD, new_password: NEW_PASSWORD, end_other_sessions: 'yes' }]) {
      const res = await change(o.host, o.access_token, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })

  it('answers 401 without a token, and to another tenant’s token; 404 on the platform host', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await change(a.host, undefined, { current_password: PASSWORD, new_password: NEW_PASSWORD })).body.error.code).toBe('unauthenticated')
    const crossed = await change(b.host, a.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD })
    expect(crossed.status).toBe(401)
    expect(crossed.body.error.code).toBe('invalid_token')
    expect((await change(PLATFORM, a.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD })).status).toBe(401)
    // Nothing changed for either account.
    expect((await login(a.host, a.email, PASSWORD)).status).toBe(200)
    expect((await login(b.host, b.email, PASSWORD)).status).toBe(200)
  })
})
