import * as OTPAuth from 'otpauth'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, createTenant, hasBrowser, launchBrowser, newPage, PASSWORD, platformOrigin, registerMember, screenshot, stack, tenantOrigin, uniqueEmail } from './support.ts'

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).waitFor()
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)

async function signIn(page: Page, origin: string, email: string, password = PASSWORD) {
  await page.goto(`${origin}/sign-in`)
  await page.getByRole('heading', { name: /^Sign in to/ }).waitFor()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** The error shown next to a field: its input is marked invalid and described by the message. */
async function fieldError(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label, { exact: true })
  await page.waitForFunction((el) => el?.getAttribute('aria-invalid') === 'true', await input.elementHandle())
  const ids = (await input.getAttribute('aria-describedby'))!.split(' ')
  return (await page.locator(`[id="${ids.at(-1)}"]`).textContent())!
}

describe.skipIf(!hasBrowser)('account settings pages', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('changes the password (errors next to their fields, 360 px wide) and signs the other sessions out', async () => {
    const tenant = await createTenant()
    const origin = tenantOrigin(tenant.slug)
    const { email } = await registerMember(tenant.slug)
    const other = await newPage(browser)
    await signIn(other.page, origin, email)
    await heading(other.page, 'Your account')

    const { page, context } = await newPage(browser, { width: 360 })
    await signIn(page, origin, email)
    await heading(page, 'Your account')
    await page.getByRole('link', { name: 'Change your password' }).click()
    await heading(page, 'Change your password')
    expect(page.url()).toBe(`${origin}/account/password`)

    const fill = async (current: string, next: string, again = next) => {
      await page.getByLabel('Current password').fill(current)
      await page.getByLabel('New password', { exact: true }).fill(next)
      await page.getByLabel('Repeat the new password').fill(again)
      await page.getByRole('button', { name: 'Change password' }).click()
    }
    await fill(PASSWORD, 'a new passphrase here', 'something else entirely')
    expect(await fieldError(page, 'Repeat the new password')).toMatch(/not the same/)
    await fill('not my password', 'a new passphrase here')
    expect(await fieldError(page, 'Current password')).toMatch(/current password is not correct/)
    await fill(PASSWORD, 'short')
    expect(await fieldError(page, 'New password')).toMatch(/at least 10 characters/)
    expect(await fitsWidth(page)).toBe(true)
    await screenshot(page, 'change-password')

    await fill(PASSWORD, 'a new passphrase here')
    // The other browser's and the API sign-up's sessions.
    await page.getByRole('status').filter({ hasText: 'Your password was changed. 2 other sessions were signed out.' }).waitFor()
    // The other browser's session ended: its next request sends it back to sign-in.
    await other.page.reload()
    await other.page.getByRole('heading', { name: /^Sign in to/ }).waitFor()
    await other.context.close()

    const fresh = await newPage(browser)
    await signIn(fresh.page, origin, email, 'a new passphrase here')
    await heading(fresh.page, 'Your account')
    await fresh.context.close()
    await context.close()
  })

  it('deletes the account after stating what happens to each organization', async () => {
    // Its own organization (no one else in it) and an open one it joined.
    const email = uniqueEmail('leaving')
    const home = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD } })
    expect(home.status).toBe(201)
    const tenant = await createTenant({}, 'Staying Org')
    expect((await api(`${tenantOrigin(tenant.slug)}/v1/auth/register`, { body: { email, password: PASSWORD } })).status).toBe(201)
    const origin = tenantOrigin(tenant.slug)

    const { page, context } = await newPage(browser, { width: 360 })
    await signIn(page, origin, email)
    await heading(page, 'Your account')
    await page.getByRole('link', { name: 'Delete your account…' }).click()
    await heading(page, 'Delete your account')
    const orgs = page.getByRole('list', { name: 'What happens to your organizations' })
    await orgs.waitFor()
    expect(await orgs.getByRole('listitem').filter({ hasText: 'Staying Org' }).textContent()).toMatch(/You leave it; it stays/)
    expect(await orgs.getByRole('listitem').filter({ hasText: home.body.tenant.slug.split('-')[0] }).textContent()).toMatch(/Deleted with your account/)

    await page.getByLabel(/to confirm/).fill('delete it')
    await page.getByLabel('Your password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Delete my account' }).click()
    expect(await fieldError(page, 'Type “delete my account” to confirm')).toMatch(/Type the words exactly/)
    await page.getByLabel(/to confirm/).fill('delete my account')
    await page.getByLabel('Your password').fill('not my password')
    await page.getByRole('button', { name: 'Delete my account' }).click()
    expect(await fieldError(page, 'Your password')).toMatch(/password is not correct/)
    expect(await fitsWidth(page)).toBe(true)
    await screenshot(page, 'delete-account')

    await page.getByLabel('Your password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Delete my account' }).click()
    await heading(page, 'Your account was deleted')
    // Signed out, and the account is gone.
    expect((await context.cookies(`${origin}/v1/auth/session/refresh`)).some((c) => c.name === 'atrium_session')).toBe(false)
    expect((await api(`${origin}/v1/auth/login`, { body: { email, password: PASSWORD } })).status).toBe(401)
    expect((await api(`${tenantOrigin(home.body.tenant.slug)}/v1/tenant/sign-in-options`)).status).toBe(404)
    await context.close()
  })

  it('offers no deletion while the account is the only owner of an organization with other members', async () => {
    const email = uniqueEmail('owner')
    const home = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD } })
    expect(home.status).toBe(201)
    const slug = home.body.tenant.slug as string
    expect((await api(`${platformOrigin()}/v1/tenants/${home.body.tenant.id}`, { method: 'PATCH', body: { settings: { signup_policy: 'open' } }, token: stack!.adminToken })).status).toBe(200)
    await registerMember(slug)

    const { page, context } = await newPage(browser)
    await signIn(page, tenantOrigin(slug), email)
    await heading(page, 'Your account')
    await page.goto(`${tenantOrigin(slug)}/account/delete`)
    await heading(page, 'Delete your account')
    const orgs = page.getByRole('list', { name: 'What happens to your organizations' })
    expect(await orgs.textContent()).toMatch(/you are its only owner and it has 1 other member/)
    await page.getByRole('alert').filter({ hasText: 'cannot be deleted yet' }).waitFor()
    expect(await page.getByRole('button', { name: 'Delete my account' }).count()).toBe(0)
    await screenshot(page, 'delete-account-blocked')
    await context.close()
  })

  it('starts linking a social account from the account page and shows the provider’s refusal there', async () => {
    const email = uniqueEmail('linker')
    const home = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD } })
    expect(home.status).toBe(201)
    const slug = home.body.tenant.slug as string
    const origin = tenantOrigin(slug)
    // The organization's own GitHub app (the browser stack has no platform apps).
    const put = await api(`${origin}/v1/oauth-providers/github`, { method: 'PUT', body: { client_id: 'Iv1.browserlink', client_secret: 'browser-link-secret' }, token: home.body.access_token })
    expect(put.status, JSON.stringify(put.body)).toBe(200)

    const { page, context } = await newPage(browser)
    // GitHub is not reachable here: its authorization page answers as a person who said no would.
    let authorize: URL | undefined
    await page.route('https://github.com/**', (route) => {
      authorize = new URL(route.request().url())
      const back = new URL(authorize.searchParams.get('redirect_uri')!)
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('state', authorize.searchParams.get('state')!)
      return route.fulfill({ status: 302, headers: { location: back.toString() } })
    })
    await signIn(page, origin, email)
    await heading(page, 'Your account')
    const section = page.getByRole('region', { name: 'Linked accounts' })
    await section.getByText('No social account is linked yet.').waitFor()
    await screenshot(page, 'link-account')
    await section.getByRole('button', { name: 'Link GitHub' }).click()

    await page.waitForURL(`${origin}/account`)
    await section.getByRole('alert').filter({ hasText: 'cancelled or refused at the provider' }).waitFor()
    expect(authorize!.searchParams.get('client_id')).toBe('Iv1.browserlink')
    expect(authorize!.searchParams.get('redirect_uri')).toBe(`${origin}/v1/auth/oauth/github/callback`)
    // The result was read from the fragment and wiped from the address bar; nothing was linked.
    expect(new URL(page.url()).hash).toBe('')
    expect((await api(`${origin}/v1/me/identities`, { token: home.body.access_token })).body.data).toEqual([])
    await context.close()
  })

  it('asks an account with two-step verification for its code when it signs up on another organization', async () => {
    const totp = (secret: string, steps = 0) =>
      new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + steps * 30_000 })
    const email = uniqueEmail('twostep')
    const home = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD } })
    const homeOrigin = tenantOrigin(home.body.tenant.slug)
    const enrolment = await api(`${homeOrigin}/v1/me/mfa/totp`, { method: 'POST', token: home.body.access_token })
    expect((await api(`${homeOrigin}/v1/me/mfa/totp/confirm`, { body: { code: totp(enrolment.body.secret) }, token: home.body.access_token })).status).toBe(200)
    const other = await createTenant({}, 'Open Door Org')
    const origin = tenantOrigin(other.slug)

    const { page, context } = await newPage(browser)
    await page.goto(`${origin}/sign-up`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    // The password alone opens no session: the second factor first, as at sign-in.
    await heading(page, 'Two-step verification')
    expect((await context.cookies(`${origin}/v1/auth/session/refresh`)).some((c) => c.name === 'atrium_session')).toBe(false)
    await page.getByLabel(/Code from your authenticator app/).fill(totp(enrolment.body.secret, 1))
    await page.getByRole('button', { name: 'Verify' }).click()
    await heading(page, 'Your account')
    await page.locator('.brand', { hasText: 'Open Door Org' }).waitFor()
    await context.close()
  })
})
