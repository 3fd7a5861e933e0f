import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  api, createTenant, hasBrowser, latestMail, launchBrowser, linkIn, newPage, PASSWORD, platformOrigin, registerMember, screenshot,
  stack, tenantOrigin, uniqueEmail,
} from './support.ts'

async function signInWithPassword(page: Page, email: string, password = PASSWORD) {
  await page.getByRole('heading', { name: /^Sign in to/ }).waitFor()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).waitFor()

describe.skipIf(!hasBrowser)('the pages of a tenant host', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('sign up → verify the email through the outbox → sign out → sign in', async () => {
    const tenant = await createTenant()
    const email = uniqueEmail('signup')
    const { page, context } = await newPage(browser)
    await page.goto(`${tenantOrigin(tenant.slug)}/sign-up`)
    await heading(page, `Create your ${tenant.name} account`)
    await page.getByLabel('Name').fill('Ada Lovelace')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill('short')
    await page.getByRole('button', { name: 'Create account' }).click()
    // The policy's minimum, next to the password field.
    await expect.poll(() => page.getByLabel('Password').getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true')
    await screenshot(page, 'sign-up')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Create account' }).click()
    await heading(page, 'Your account')
    await page.getByText('not verified').waitFor()

    await page.getByRole('button', { name: 'Send a verification email' }).click()
    await page.getByText('A verification link is on its way').waitFor()
    const link = linkIn(await latestMail(email, /Confirm your email/), '/verify-email')
    await page.goto(link)
    await page.getByText('Your email address is verified.').waitFor()
    // The token is gone from the address bar.
    expect(page.url()).toBe(`${tenantOrigin(tenant.slug)}/verify-email`)
    await screenshot(page, 'verify-email')
    await page.getByRole('link', { name: 'Go to your account' }).click()
    await page.getByText('verified', { exact: true }).waitFor()

    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await heading(page, `Sign in to ${tenant.name}`)
    await signInWithPassword(page, email)
    await heading(page, 'Your account')
    await context.close()
  })

  it('signs in with a magic link', async () => {
    const tenant = await createTenant()
    const { email } = await registerMember(tenant.slug)
    const { page, context } = await newPage(browser)
    await page.goto(`${tenantOrigin(tenant.slug)}/sign-in`)
    await page.getByRole('button', { name: 'Email me a sign-in link instead' }).click()
    await page.getByLabel('Email').fill(email)
    await page.getByRole('button', { name: 'Email me a link' }).click()
    await page.getByText('a sign-in link is on its way').waitFor()
    await screenshot(page, 'magic-link-request')
    const link = linkIn(await latestMail(email, /sign-in link/), '/magic-link')
    await page.goto(link)
    await heading(page, 'Your account')
    // Used once: the same link does not sign in again.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await heading(page, `Sign in to ${tenant.name}`)
    await page.goto(link)
    await page.getByRole('alert').waitFor()
    expect(await page.getByRole('alert').textContent()).toMatch(/link/i)
    await screenshot(page, 'magic-link-used')
    await context.close()
  })

  it('resets a forgotten password', async () => {
    const tenant = await createTenant()
    const { email } = await registerMember(tenant.slug)
    const { page, context } = await newPage(browser)
    await page.goto(`${tenantOrigin(tenant.slug)}/sign-in`)
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await heading(page, 'Forgot your password?')
    await page.getByLabel('Email').fill(email)
    await page.getByRole('button', { name: 'Send the link' }).click()
    await page.getByText('an email is on its way').waitFor()
    await screenshot(page, 'forgot-password')
    const link = linkIn(await latestMail(email, /Reset your/), '/reset-password')
    await page.goto(link)
    await heading(page, 'Choose a new password')
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase')
    await page.getByLabel('Repeat the new password').fill('a different passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('The two passwords are not the same.').waitFor()
    await screenshot(page, 'reset-password')
    await page.getByLabel('Repeat the new password').fill('a brand new passphrase')
    await page.getByRole('button', { name: 'Change password' }).click()
    await page.getByText('Your password was changed').waitFor()
    await page.getByRole('link', { name: 'Sign in with your new password' }).click()
    await signInWithPassword(page, email, PASSWORD)
    await page.getByText('The email or password is not correct.').waitFor()
    await signInWithPassword(page, email, 'a brand new passphrase')
    await heading(page, 'Your account')
    await context.close()
  })

  it('accepts an invitation in a second browser, as a new account', async () => {
    // The inviter owns a tenant (platform sign-up) and invites by email through the API.
    const owner = await api(`${platformOrigin()}/v1/auth/register`, { body: { email: uniqueEmail('owner'), password: PASSWORD, name: 'Owner' } })
    expect(owner.status).toBe(201)
    const slug = owner.body.tenant.slug as string
    const invitee = uniqueEmail('invitee')
    const invited = await api(`${tenantOrigin(slug)}/v1/invitations`, { body: { email: invitee, role: 'member' }, token: owner.body.access_token })
    expect(invited.status).toBe(201)
    const mail = await latestMail(invitee, /invited/)
    const link = linkIn(mail, mail.text.includes('/accept-invitation') ? '/accept-invitation' : '/invitations/accept')

    const second = await newPage(browser)
    await second.page.goto(link)
    await heading(second.page, /^Join /)
    await screenshot(second.page, 'accept-invitation')
    await second.page.getByLabel('Name').fill('Grace Hopper')
    await second.page.getByLabel('Password').fill(PASSWORD)
    await second.page.getByRole('button', { name: 'Accept invitation' }).click()
    await heading(second.page, 'Your account')
    await second.page.getByText(invitee).first().waitFor()
    await second.context.close()
  })

  it('keeps each tenant’s session to its own host, refuses a cross-site POST, and fits a 360 px screen', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const { email } = await registerMember(a.slug)
    const { page, context } = await newPage(browser, { width: 360 })
    await page.goto(`${tenantOrigin(a.slug)}/sign-in`)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
    await screenshot(page, 'sign-in-360px')
    await signInWithPassword(page, email)
    await heading(page, 'Your account')
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
    await screenshot(page, 'account-360px')

    // B's host has no session: A's cookie is host-only.
    await page.goto(`${tenantOrigin(b.slug)}/`)
    await heading(page, `Sign in to ${b.name}`)
    // Our own pages may not even connect elsewhere (CSP connect-src 'self').
    const fromOurPage = await page.evaluate(async (target) => fetch(`${target}/v1/auth/session/refresh`, { method: 'POST', credentials: 'include' }).then(() => 'sent', () => 'blocked'), tenantOrigin(a.slug))
    expect(fromOurPage).toBe('blocked')

    // An attacker's page on a sibling host (same site as A, so A's Lax cookie goes along): a form
    // POST to A's sign-out is refused, and a fetch with the session header never leaves the browser (CORS).
    const evil = `http://evil.localhost:${stack!.port}`
    await page.route(`${evil}/**`, (route) => route.fulfill({
      contentType: 'text/html',
      body: `<form method="post" action="${tenantOrigin(a.slug)}/v1/auth/session/logout"><button>Win a prize</button></form>`,
    }))
    await page.goto(`${evil}/`)
    const withHeader = await page.evaluate(async (target) => fetch(`${target}/v1/auth/session/logout`, {
      method: 'POST', credentials: 'include', headers: { 'x-atrium-session': 'cookie' },
    }).then(() => 'sent', () => 'blocked'), tenantOrigin(a.slug))
    expect(withHeader).toBe('blocked')
    const [formAnswer] = await Promise.all([page.waitForResponse(`${tenantOrigin(a.slug)}/v1/auth/session/logout`), page.getByRole('button', { name: 'Win a prize' }).click()])
    expect(formAnswer.status()).toBeGreaterThanOrEqual(400)
    expect(formAnswer.status()).toBeLessThan(500)
    await screenshot(page, 'cross-site-post-refused')
    // A's session survived both (the logout was refused): A still shows the account.
    await page.goto(`${tenantOrigin(a.slug)}/account`)
    await heading(page, 'Your account')
    await context.close()
  })
})
