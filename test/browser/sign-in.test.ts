import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, hasBrowser, launchBrowser, newPage, PASSWORD, registerMember, screenshot, tenantOrigin } from './support.ts'

describe.skipIf(!hasBrowser)('signing in on a tenant host', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('shows the tenant’s name, signs in with a password into an HttpOnly cookie session that survives a reload, and signs out', async () => {
    const tenant = await createTenant({}, 'Acme Browser Co')
    const { email } = await registerMember(tenant.slug)
    const { context, page } = await newPage(browser)

    const home = await page.goto(`${tenantOrigin(tenant.slug)}/`)
    expect(home!.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
    expect(home!.headers()['x-frame-options']).toBe('DENY')
    await page.waitForURL('**/sign-in')
    await page.getByRole('heading', { name: 'Sign in to Acme Browser Co' }).waitFor()
    await screenshot(page, 'sign-in')

    // A wrong password: the message sits next to the password field.
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill('not the password at all')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 }).toMatch(/email or password/i)
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true')

    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL('**/account')
    await page.getByRole('heading', { name: 'Your account' }).waitFor()

    const cookies = await context.cookies(tenantOrigin(tenant.slug) + '/v1/auth/session/refresh')
    const session = cookies.find((c) => c.name === 'atrium_session')
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/v1/auth/session', secure: false, domain: `${tenant.slug}.localhost` })
    // Nothing of the session is readable by scripts or kept in storage.
    expect(await page.evaluate(() => document.cookie)).toBe('')
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).toBe('{}{}')

    // A reload keeps the session (a new access token from the cookie).
    await page.reload()
    await page.getByRole('heading', { name: 'Your account' }).waitFor()
    await screenshot(page, 'account')

    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.waitForURL('**/sign-in')
    expect((await context.cookies(tenantOrigin(tenant.slug) + '/v1/auth/session/refresh')).find((c) => c.name === 'atrium_session')).toBeUndefined()
    await page.reload()
    await page.waitForURL('**/sign-in')
    await context.close()
  })

  it('follows the tenant’s sign-up policy and shows its logo', async () => {
    const tenant = await createTenant({ signup_policy: 'invite_only', branding: { logo_url: 'https://cdn.example.com/logo.svg' } }, 'Closed Club')
    const { context, page } = await newPage(browser)
    await page.goto(`${tenantOrigin(tenant.slug)}/sign-in`)
    await page.getByRole('heading', { name: 'Sign in to Closed Club' }).waitFor()
    expect(await page.locator('header img').getAttribute('src')).toBe('https://cdn.example.com/logo.svg')
    expect(await page.getByRole('link', { name: 'Create an account' }).count()).toBe(0)
    await page.goto(`${tenantOrigin(tenant.slug)}/sign-up`)
    await page.getByText('Closed Club is open by invitation only').waitFor()
    expect(await page.getByLabel('Password').count()).toBe(0)
    await screenshot(page, 'sign-up-invite-only')
    await context.close()
  })
})
