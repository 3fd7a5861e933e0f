import { describe, expect, it } from 'vitest'
import { call, database, invite, mailedLink, newEmail, openTenant, type Owner, PASSWORD, PLATFORM, signUp, tenantOrigin, verifyEmail } from './support.ts'
import { eq } from 'drizzle-orm'
import { userIdentities, users } from '../src/db/public-schema.ts'

/**
 * Email squatting: an account whose address was never verified is only a claim. It must not
 * block the address's owner, and proving the address wins the account: everything the claimant
 * set up (sessions in every tenant, password, API keys…) ends.
 */

const OWNER_PASSWORD = 'the real owner passphrase'

/** Someone registers the victim's address on the platform and sets up a session and an API key in the workspace. */
async function squat(address: string) {
  const squatter = await signUp({ email: address })
  const key = await call(`${squatter.host}/v1/api-keys`, { body: { name: 'squatter key', roles: ['admin'] }, token: squatter.access_token })
  expect(key.status, JSON.stringify(key.body)).toBe(201)
  return { ...squatter, apiKey: key.body.secret as string }
}

/** The newest password-reset (claim) link mailed to `to`: its tenant host and token. */
async function resetLink(to: string) {
  const { url, token } = await mailedLink(to, '/reset-password')
  return { origin: tenantOrigin(url.hostname.split('.')[0]!), token }
}

/** Everything the squatter set up no longer works. */
async function expectClaimantLockedOut(squatter: Owner & { apiKey: string }) {
  expect((await call(`${squatter.host}/v1/me`, { token: squatter.access_token })).status).toBe(401)
  expect((await call(`${squatter.host}/v1/auth/refresh`, { body: { refresh_token: squatter.refresh_token } })).status).toBe(401)
  expect((await call(`${squatter.host}/v1/api-keys`, { headers: { 'x-api-key': squatter.apiKey } })).status).toBe(401)
  const login = await call(`${squatter.host}/v1/auth/login`, { body: { email: squatter.email, password: PASSWORD } })
  expect(login.status).toBe(401)
}

describe('an unverified account does not block the address’s owner', () => {
  it('registering the address again mails a takeover link; following it wins the account and ends the claimant’s sessions, password and keys', async () => {
    const address = newEmail()
    const squatter = await squat(address)

    const registered = await call(`${PLATFORM}/v1/auth/register`, { body: { email: address, password: OWNER_PASSWORD } })
    expect(registered.status, JSON.stringify(registered.body)).toBe(202)
    expect(registered.body).toMatchObject({ address_claim: true, claim_sent: true })
    expect(registered.body.access_token).toBeUndefined()
    // Nothing changed yet: the mail is the proof.
    expect((await call(`${squatter.host}/v1/me`, { token: squatter.access_token })).status).toBe(200)

    const link = await resetLink(address)
    const reset = await call(`${link.origin}/v1/auth/password/reset`, { body: { token: link.token, password: OWNER_PASSWORD } })
    expect(reset.status, JSON.stringify(reset.body)).toBe(200)
    expect(reset.body.sessions_revoked).toBeGreaterThanOrEqual(1)

    await expectClaimantLockedOut(squatter)
    const owner = await call(`${squatter.host}/v1/auth/login`, { body: { email: address, password: OWNER_PASSWORD } })
    expect(owner.status).toBe(200)
    const me = await call(`${squatter.host}/v1/me`, { token: owner.body.access_token })
    expect(me.body).toMatchObject({ email: address, email_verified: true })
    const events = await call(`${squatter.host}/v1/me/events`, { token: owner.body.access_token })
    expect(JSON.stringify(events.body)).toContain('account.claimed')
  })

  it('lets the owner accept an invitation to the address with their own password, taking the account over', async () => {
    const address = newEmail()
    const squatter = await squat(address)
    const inviter = await signUp()
    const { token } = await invite(inviter.host, inviter.access_token, address)
    const accepted = await call(`${inviter.host}/v1/invitations/accept`, { body: { token, password: OWNER_PASSWORD } })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    expect(accepted.body.user).toMatchObject({ id: squatter.user.id, email_verified: true })
    // The owner's new session works; everything of the claimant's does not.
    expect((await call(`${inviter.host}/v1/me`, { token: accepted.body.access_token })).status).toBe(200)
    await expectClaimantLockedOut(squatter)
  })

  it('still lets the claimant who does own the address accept with the account’s password, ending nothing', async () => {
    const address = newEmail()
    const account = await squat(address)
    const inviter = await signUp()
    const { token } = await invite(inviter.host, inviter.access_token, address)
    const accepted = await call(`${inviter.host}/v1/invitations/accept`, { body: { token, password: PASSWORD } })
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200)
    expect((await call(`${account.host}/v1/me`, { token: account.access_token })).status).toBe(200)
    expect((await call(`${account.host}/v1/api-keys`, { headers: { 'x-api-key': account.apiKey } })).status).toBe(200)
  })

  it('mails the owner a reset link on a tenant where the unverified account is no member, and the reset wins the account', async () => {
    const address = newEmail()
    const squatter = await squat(address)
    const elsewhere = await openTenant()
    const host = tenantOrigin(elsewhere.slug)
    expect((await call(`${host}/v1/auth/password/forgot`, { body: { email: address } })).status).toBe(202)
    let link: { origin: string; token: string } | undefined
    for (let i = 0; i < 100 && !link; i++) {
      const res = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent(address)}`)
      if (res.body.messages.length) link = await resetLink(address)
      else await new Promise((r) => setTimeout(r, 50))
    }
    expect(link?.origin).toBe(host)
    const reset = await call(`${host}/v1/auth/password/reset`, { body: { token: link!.token, password: OWNER_PASSWORD } })
    expect(reset.status, JSON.stringify(reset.body)).toBe(200)
    await expectClaimantLockedOut(squatter)
    const [row] = await database().select().from(users).where(eq(users.email, address))
    expect(row!.emailVerifiedAt).not.toBeNull()
    expect(await database().select().from(userIdentities).where(eq(userIdentities.userId, row!.id))).toEqual([])
    // The owner, now holding the account, can register into an open tenant with their password.
    expect((await call(`${host}/v1/auth/register`, { body: { email: address, password: OWNER_PASSWORD } })).status).toBe(201)
  })

  it('keeps answering 409 email_taken for an address whose account is verified', async () => {
    const address = newEmail()
    const account = await signUp({ email: address })
    await verifyEmail(account)
    const again = await call(`${PLATFORM}/v1/auth/register`, { body: { email: address, password: OWNER_PASSWORD } })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('email_taken')
    expect((await call(`${account.host}/v1/me`, { token: account.access_token })).status).toBe(200)
  })
})
