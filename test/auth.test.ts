import { describe, expect, it } from 'vitest'
import { call, createTenant, decodeJwt, join, memberOfOpenTenant, newEmail, openTenant, PASSWORD, PLATFORM, signUp, tenantOrigin, uniqueSlug } from './support.ts'

describe('registration', () => {
  it('on the platform host creates the account and a personal tenant it owns, signed in', async () => {
    const address = newEmail()
    const res = await call(`${PLATFORM}/v1/auth/register`, { body: { email: address.toUpperCase(), password: PASSWORD, name: 'Ada' } })
    expect(res.status).toBe(201)
    expect(res.body.user).toMatchObject({ email: address, name: 'Ada', email_verified: false, has_password: true })
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const { header, payload } = decodeJwt(res.body.access_token)
    expect(header).toMatchObject({ alg: 'ES512', typ: 'JWT' })
    expect(header.kid).toBeTruthy()
    expect(payload).toMatchObject({ sub: res.body.user.id, tid: res.body.tenant.id, iss: tenantOrigin(res.body.tenant.slug).replace('atrium.test', 'localhost') })
    for (const claim of ['sid', 'exp', 'iat', 'jti']) expect(payload[claim]).toBeTruthy()
    const me = await call(`http://${res.body.tenant.slug}.localhost/v1/me/tenants`, { token: res.body.access_token })
    expect(me.status).toBe(200)
    expect(me.body.data).toEqual([expect.objectContaining({ id: res.body.tenant.id, role: 'owner', current: true })])
  })

  it('refuses a second account for the same email (any case) with 409 email_taken', async () => {
    const { email: address } = await signUp()
    const res = await call(`${PLATFORM}/v1/auth/register`, { body: { email: ` ${address.toUpperCase()} `.trim(), password: PASSWORD } })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('email_taken')
  })

  it('refuses a short password and bad input with 400', async () => {
    const short = await call(`${PLATFORM}/v1/auth/register`, { body: { email: newEmail(), password: 'short' } })
    expect(short.status).toBe(400)
    expect(short.body.error.code).toBe('weak_password')
    const bad = await call(`${PLATFORM}/v1/auth/register`, { body: { email: 'not-an-email', password: PASSWORD } })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('validation_failed')
  })

  it('on a tenant host follows its sign-up policy: invite_only (default), open, domain', async () => {
    const closed = await createTenant()
    const refused = await call(`${tenantOrigin(closed.slug)}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('signup_closed')

    const open = await openTenant()
    const joined = await call(`${tenantOrigin(open.slug)}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    expect(joined.status).toBe(201)
    expect(joined.body.tenant.id).toBe(open.id)

    const domain = await createTenant({ settings: { signup_policy: 'domain', signup_domains: ['acme.test'] } })
    // An address of the domain is admitted, pending until verified (test/domain-signup.test.ts).
    expect((await call(`${tenantOrigin(domain.slug)}/v1/auth/register`, { body: { email: `${crypto.randomUUID()}@acme.test`, password: PASSWORD } })).status).toBe(202)
    const other = await call(`${tenantOrigin(domain.slug)}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    expect(other.body.error.code).toBe('signup_domain_refused')
  })

  it('on a tenant host lets an existing account join with its password, and only with it', async () => {
    const existing = await signUp()
    const open = await openTenant()
    const wrong = await call(`${tenantOrigin(open.slug)}/v1/auth/register`, { body: { email: existing.email, password: 'wrong password!!' } })
    // The account's address is unverified: a wrong password joins nothing, it mails the address a takeover link (test/account-claim.test.ts).
    expect(wrong.status).toBe(202)
    expect(wrong.body).toMatchObject({ address_claim: true })
    expect(wrong.body.access_token).toBeUndefined()
    const joined = await call(`${tenantOrigin(open.slug)}/v1/auth/register`, { body: { email: existing.email, password: PASSWORD } })
    expect(joined.status).toBe(201)
    expect(joined.body.user.id).toBe(existing.user.id)
    const tenants = await call(`${tenantOrigin(open.slug)}/v1/me/tenants`, { token: joined.body.access_token })
    expect(tenants.body.data.map((t: { id: string }) => t.id).sort()).toEqual([existing.tenant.id, open.id].sort())
  })
})

describe('login, refresh and sessions', () => {
  it('logs in on the tenant host and refuses wrong passwords, unknown emails and non-members alike', async () => {
    const u = await signUp()
    const host = `http://${u.tenant.slug}.atrium.test`
    const ok = await call(`${host}/v1/auth/login`, { body: { email: u.email, password: PASSWORD } })
    expect(ok.status).toBe(200)
    expect(ok.body.token_type).toBe('Bearer')
    const wrong = await call(`${host}/v1/auth/login`, { body: { email: u.email, password: 'nope nope nope' } })
    const unknown = await call(`${host}/v1/auth/login`, { body: { email: newEmail(), password: 'nope nope nope' } })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.body).toEqual(unknown.body)
    const other = await createTenant()
    const notMember = await call(`${tenantOrigin(other.slug)}/v1/auth/login`, { body: { email: u.email, password: PASSWORD } })
    expect(notMember.status).toBe(401)
    expect(notMember.body).toEqual(unknown.body)
  })

  it('answers an unknown email on the platform host as on a tenant host (the workspace picker is test/workspaces.test.ts)', async () => {
    const res = await call(`${PLATFORM}/v1/auth/login`, { body: { email: newEmail(), password: PASSWORD } })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('invalid_credentials')
  })

  it('rotates refresh tokens, and a reused one ends the whole session', async () => {
    const u = await signUp()
    const host = tenantOrigin(u.tenant.slug)
    const first = await call(`${host}/v1/auth/refresh`, { body: { refresh_token: u.refresh_token } })
    expect(first.status).toBe(200)
    expect(first.body.refresh_token).not.toBe(u.refresh_token)
    const second = await call(`${host}/v1/auth/refresh`, { body: { refresh_token: first.body.refresh_token } })
    expect(second.status).toBe(200)
    // Its successor was used, so this is no race within the refresh grace (test/session-continuity.test.ts): a replay.
    const reused = await call(`${host}/v1/auth/refresh`, { body: { refresh_token: u.refresh_token } })
    expect(reused.status).toBe(401)
    expect(reused.body.error.code).toBe('invalid_grant')
    // The thief's use revoked the session: the legitimate successor token is dead too, and so are its access tokens.
    expect((await call(`${host}/v1/auth/refresh`, { body: { refresh_token: second.body.refresh_token } })).status).toBe(401)
    const me = await call(`${host}/v1/me`, { token: second.body.access_token })
    expect(me.status).toBe(401)
    expect(me.body.error.code).toBe('invalid_token')
  })

  it('refuses a refresh token on another tenant host', async () => {
    const u = await signUp()
    const other = await createTenant()
    const res = await call(`${tenantOrigin(other.slug)}/v1/auth/refresh`, { body: { refresh_token: u.refresh_token } })
    expect(res.status).toBe(401)
    expect((await call(`${tenantOrigin(u.tenant.slug)}/v1/auth/refresh`, { body: { refresh_token: u.refresh_token } })).status).toBe(200)
  })

  it('accepts an access token only on its own tenant host', async () => {
    const a = await signUp()
    const b = await signUp()
    const res = await call(`${tenantOrigin(b.tenant.slug)}/v1/me`, { token: a.access_token })
    expect(res.status).toBe(401)
    expect(res.body.error.message).toBe('The access token was issued for another tenant.')
    expect((await call(`${PLATFORM}/v1/tenant`, { token: a.access_token })).status).toBe(401)
  })

  it('lists sessions with the current one flagged, and ends one by id', async () => {
    const u = await signUp()
    const host = tenantOrigin(u.tenant.slug)
    const second = await call(`${host}/v1/auth/login`, { body: { email: u.email, password: PASSWORD }, headers: { 'user-agent': 'second-device', 'cf-connecting-ip': '198.51.100.4' } })
    const list = await call(`${host}/v1/me/sessions`, { token: u.access_token })
    expect(list.status).toBe(200)
    expect(list.body.data).toHaveLength(2)
    const other = list.body.data.find((s: { current: boolean }) => !s.current)
    expect(other).toMatchObject({ user_agent: 'second-device', ip: '198.51.100.4' })
    expect((await call(`${host}/v1/me/sessions/${other.id}`, { method: 'DELETE', token: u.access_token })).status).toBe(204)
    expect((await call(`${host}/v1/me`, { token: second.body.access_token })).status).toBe(401)
    expect((await call(`${host}/v1/me/sessions/${other.id}`, { method: 'DELETE', token: u.access_token })).status).toBe(404)
    expect((await call(`${host}/v1/me/sessions/not-a-uuid`, { method: 'DELETE', token: u.access_token })).status).toBe(400)
  })

  it('logout ends the current session at once; logout-all ends them all', async () => {
    const u = await signUp()
    const host = tenantOrigin(u.tenant.slug)
    const second = await call(`${host}/v1/auth/login`, { body: { email: u.email, password: PASSWORD } })
    expect((await call(`${host}/v1/auth/logout`, { method: 'POST', token: u.access_token })).status).toBe(204)
    expect((await call(`${host}/v1/me`, { token: u.access_token })).status).toBe(401)
    expect((await call(`${host}/v1/me`, { token: second.body.access_token })).status).toBe(200)
    const all = await call(`${host}/v1/auth/logout-all`, { method: 'POST', token: second.body.access_token })
    expect(all.body).toEqual({ revoked: 1 })
    expect((await call(`${host}/v1/me`, { token: second.body.access_token })).status).toBe(401)
    expect((await call(`${host}/v1/auth/refresh`, { body: { refresh_token: second.body.refresh_token } })).status).toBe(401)
  })

  it('switches to another tenant the user belongs to, and refuses one it does not', async () => {
    const u = await signUp()
    const open = await openTenant()
    await join(open, u.email)
    const switched = await call(`${tenantOrigin(u.tenant.slug)}/v1/auth/switch`, { body: { tenant: open.slug }, token: u.access_token })
    expect(switched.status).toBe(200)
    expect(decodeJwt(switched.body.access_token).payload.tid).toBe(open.id)
    expect((await call(`${tenantOrigin(open.slug)}/v1/me`, { token: switched.body.access_token })).status).toBe(200)
    const stranger = await createTenant()
    const refused = await call(`${tenantOrigin(u.tenant.slug)}/v1/auth/switch`, { body: { tenant: stranger.id }, token: u.access_token })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('not_a_member')
    expect((await call(`${tenantOrigin(u.tenant.slug)}/v1/auth/switch`, { body: { tenant: uniqueSlug() }, token: u.access_token })).status).toBe(404)
  })

  it('reads and updates the profile; /v1/me needs a token', async () => {
    const u = await signUp()
    const host = tenantOrigin(u.tenant.slug)
    expect((await call(`${host}/v1/me`)).status).toBe(401)
    const patched = await call(`${host}/v1/me`, { method: 'PATCH', body: { name: 'Ada L.' }, token: u.access_token })
    expect(patched.body.name).toBe('Ada L.')
    expect((await call(`${host}/v1/me`, { method: 'PATCH', body: { email: 'x@y.z' }, token: u.access_token })).status).toBe(400)
  })

  it("publishes the tenant's verification key at /.well-known/jwks.json on its host", async () => {
    const u = await signUp()
    const res = await call(`${tenantOrigin(u.tenant.slug)}/.well-known/jwks.json`)
    expect(res.status).toBe(200)
    expect(res.body.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-521', alg: 'ES512', use: 'sig', kid: decodeJwt(u.access_token).header.kid })])
    expect(res.body.keys[0]).not.toHaveProperty('d')
    const platform = await call(`${PLATFORM}/.well-known/jwks.json`)
    expect(platform.status).toBe(200)
    expect(platform.body.keys.map((k: { kid: string }) => k.kid)).not.toContain(decodeJwt(u.access_token).header.kid)
    expect((await call(`http://${uniqueSlug()}.atrium.test/.well-known/jwks.json`)).status).toBe(404)
  })
})

describe('brute force', () => {
  it('locks an account after N failures with growing cool-downs; the answer ignores the password while locked', async () => {
    const { host, account: { email: address } } = await memberOfOpenTenant({ lockout: { max_attempts: 3, base_seconds: 30, max_seconds: 600 } })
    for (let i = 0; i < 2; i++) expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })).status).toBe(401)
    const locking = await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })
    expect(locking.status).toBe(429)
    expect(locking.body.error.code).toBe('account_locked')
    expect(Number(locking.headers.get('retry-after'))).toBe(30)
    const right = await call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })
    const wrong = await call(`${host}/v1/auth/login`, { body: { email: address, password: 'wrong password' } })
    expect(right.status).toBe(429)
    expect(right.body.error.code).toBe(wrong.body.error.code)
  })

  it('locks an unknown email exactly like a known one', async () => {
    const tenant = await createTenant({ settings: { lockout: { max_attempts: 2, base_seconds: 30, max_seconds: 600 } } })
    const host = tenantOrigin(tenant.slug)
    const address = newEmail()
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'x'.repeat(12) } })).status).toBe(401)
    expect((await call(`${host}/v1/auth/login`, { body: { email: address, password: 'x'.repeat(12) } })).status).toBe(429)
  })

  it('throttles credential attempts per IP across accounts', async () => {
    const tenant = await createTenant()
    const host = tenantOrigin(tenant.slug)
    const attempt = async () => (await call(`${host}/v1/auth/login`, { body: { email: newEmail(), password: 'x'.repeat(12) }, headers: { 'cf-connecting-ip': '192.0.2.55' } })).status
    const statuses: number[] = []
    for (let i = 0; i < 20; i++) statuses.push(await attempt())
    expect(statuses.every((s) => s === 401)).toBe(true)
    // The limiter is a sliding window: when the attempts straddle a window boundary the previous
    // window's count is weighted down, so the 21st may still pass; within a few more it may not.
    const more: number[] = []
    while (more.length < 5 && !more.includes(429)) more.push(await attempt())
    expect(more).toContain(429)
    expect(await attempt()).toBe(429)
  })
})
