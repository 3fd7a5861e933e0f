import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { numericId, signIn } from './oauth-flow.ts'
import { FakeProviders } from './oauth-providers.ts'
import { call, decodeJwt, enableTotp, mfaToken, newEmail, outboxEvents, type Owner, patchTenantSettings, received, signUp, subscribe } from './support.ts'
import { WebhookReceiver } from './webhook-receiver.ts'

/**
 * Webhook events of identity and API key changes, as a tenant's receiver gets them: api_key.created
 * and api_key.revoked, user.login after an MFA sign-in and after a social sign-in, user.locked
 * when wrong MFA codes lock the account.
 */

const receiver = new WebhookReceiver()
const fake = new FakeProviders()

/**
 * The provider stand-ins and the receiver both answer the Worker's outbound fetch through a spy
 * on the global fetch, and vitest gives a second spyOn the same spy: route each request to the
 * one that owns its host.
 */
beforeAll(() => {
  fake.install()
  const spy = vi.mocked(globalThis.fetch)
  const providers = spy.getMockImplementation()!
  receiver.start()
  const hooks = spy.getMockImplementation()!
  spy.mockImplementation((input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    return url.startsWith(receiver.origin) ? hooks(input, init) : providers(input, init)
  })
})
afterAll(() => receiver.stop())

const sessionOf = (accessToken: string) => decodeJwt(accessToken).payload.sid as string

/** TOTP turned on for the owner; answers its backup codes (usable whatever the clock's step). */
const enableMfa = async (o: Owner): Promise<string[]> => (await enableTotp(o)).backupCodes

describe('API key events', () => {
  it('sends api_key.created with the key’s fields and api_key.revoked once, with the caller as actor', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/keys', ['api_key.*'])
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const created = await call(`${o.host}/v1/api-keys`, { body: { name: 'deploy', roles: ['member', 'admin'], expires_at: expiresAt }, token: o.access_token })
    expect(created.status).toBe(201)
    const [event] = await received(got, 'api_key.created')
    expect(event).toMatchObject({ tenant_id: o.tenant.id, actor: { type: 'user', id: o.user.id } })
    expect(event!.data).toEqual({ api_key_id: created.body.id, name: 'deploy', prefix: created.body.prefix, roles: ['member', 'admin'], expires_at: expiresAt, created_by: o.user.id })
    expect(JSON.stringify(event)).not.toContain(created.body.secret)

    // Revoked by a key holding api_keys:revoke: the key is the actor.
    const admin = await call(`${o.host}/v1/api-keys`, { body: { name: 'ops', roles: ['admin'] }, token: o.access_token })
    const revoke = () => call(`${o.host}/v1/api-keys/${created.body.id}`, { method: 'DELETE', headers: { 'x-api-key': admin.body.secret } })
    expect((await revoke()).status).toBe(200)
    const [revoked] = await received(got, 'api_key.revoked')
    expect(revoked).toMatchObject({ actor: { type: 'api_key', id: admin.body.id }, data: { api_key_id: created.body.id, revoked_by: admin.body.id } })
    // Revoking it again changes nothing and records no event (the outbox is written with the change, or not at all).
    expect((await revoke()).status).toBe(200)
    expect(await outboxEvents(o, 'api_key.revoked')).toHaveLength(1)
  })

  it('sends nothing for a key that was refused', async () => {
    const o = await signUp()
    const got = await subscribe(receiver, o, '/refused-keys', ['*'])
    expect((await call(`${o.host}/v1/api-keys`, { body: { name: 'x', roles: ['ghost'] }, token: o.access_token })).status).toBe(400)
    expect((await call(`${o.host}/v1/api-keys`, { body: { name: 'y', roles: ['member'] }, token: o.access_token })).status).toBe(201)
    const [only] = await received(got, 'api_key.created')
    expect(only!.data.name).toBe('y')
    expect(await outboxEvents(o, 'api_key.created')).toHaveLength(1)
  })
})

describe('sign-in events', () => {
  it('sends user.login with mfa: true and the session after a sign-in completed with a second factor, and none for the password step', async () => {
    const o = await signUp()
    const backupCodes = await enableMfa(o)
    const got = await subscribe(receiver, o, '/mfa-logins', ['user.*'])
    const token = await mfaToken(o)
    const verified = await call(`${o.host}/v1/auth/mfa/verify`, { body: { mfa_token: token, code: backupCodes[0] } })
    expect(verified.status, JSON.stringify(verified.body)).toBe(200)
    const [login] = await received(got, 'user.login')
    expect(login).toMatchObject({ tenant_id: o.tenant.id, actor: { type: 'user', id: o.user.id } })
    expect(login!.data).toEqual({ user_id: o.user.id, session_id: sessionOf(verified.body.access_token), mfa: true })
    expect(await outboxEvents(o, 'user.login')).toHaveLength(1)
  })

  it('sends user.locked when wrong MFA codes lock the account', async () => {
    const o = await signUp()
    await patchTenantSettings(o.tenant.id, { lockout: { max_attempts: 2, base_seconds: 30, max_seconds: 600 } })
    await enableMfa(o)
    const got = await subscribe(receiver, o, '/mfa-locks', ['user.locked'])
    const token = await mfaToken(o)
    const verify = (code: string) => call(`${o.host}/v1/auth/mfa/verify`, { body: { mfa_token: token, code } })
    expect((await verify('aaaa-aaaa')).status).toBe(401)
    expect(got()).toEqual([])
    const locked = await verify('bbbb-bbbb')
    expect(locked.status).toBe(429)
    expect(locked.body.error.code).toBe('account_locked')
    const [event] = await received(got, 'user.locked')
    expect(event).toMatchObject({ actor: { type: 'system', id: null }, data: { user_id: o.user.id, email: o.email, lock_seconds: 30 } })
  })

  it('sends member.joined (via oauth) and user.login for a social sign-up, and user.login alone when the person signs in again', async () => {
    const o = await signUp()
    await patchTenantSettings(o.tenant.id, { signup_policy: 'open' })
    const got = await subscribe(receiver, o, '/social', ['user.login', 'member.joined'])
    const address = newEmail()
    const person = { id: numericId(), email: address, name: 'Grace' }
    const first = await signIn(fake, o.tenant.slug, 'google', person)
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    const [joined] = await received(got, 'member.joined')
    const userId = joined!.data.user_id as string
    expect(joined!.data).toEqual({ user_id: userId, email: address, role: 'member', via: 'oauth' })
    const [login] = await received(got, 'user.login')
    expect(login).toMatchObject({ actor: { type: 'user', id: userId }, data: { user_id: userId, session_id: sessionOf(first.body.access_token), mfa: false } })

    const again = await signIn(fake, o.tenant.slug, 'google', person)
    expect(again.status).toBe(200)
    const logins = await received(got, 'user.login', 2)
    expect(logins[1]!.data).toEqual({ user_id: userId, session_id: sessionOf(again.body.access_token), mfa: false })
    expect(await outboxEvents(o, 'member.joined')).toHaveLength(1)
  })
})
