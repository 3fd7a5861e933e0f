import * as OTPAuth from 'otpauth'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, hasBrowser, launchBrowser, newPage, PASSWORD, registerMember, screenshot, tenantOrigin } from './support.ts'

async function signIn(page: Page, email: string) {
  await page.getByRole('heading', { name: /^Sign in to/ }).waitFor()
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).waitFor()

/** A TOTP code `steps` periods from now (the server accepts one step of drift either side). */
const totp = (secret: string, steps = 0) =>
  new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + steps * 30_000 })

describe.skipIf(!hasBrowser)('account pages', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('enrols TOTP (QR code), signs in with a code, regenerates backup codes and signs in with one', async () => {
    const tenant = await createTenant()
    const { email } = await registerMember(tenant.slug)
    const { page, context } = await newPage(browser)
    await page.goto(`${tenantOrigin(tenant.slug)}/sign-in`)
    await signIn(page, email)
    await heading(page, 'Your account')

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
    await page.getByRole('img', { name: /QR code/ }).waitFor()
    const secret = (await page.getByLabel('Setup key').textContent())!.trim()
    await screenshot(page, 'mfa-enrol')
    await page.getByLabel('Code from the app').fill('000000')
    await page.getByRole('button', { name: 'Turn on' }).click()
    await expect.poll(() => page.getByLabel('Code from the app').getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true')
    await page.getByLabel('Code from the app').fill(totp(secret))
    await page.getByRole('button', { name: 'Turn on' }).click()
    await page.getByText('Two-step verification is on.').waitFor()
    const firstCodes = await page.getByRole('list', { name: 'Backup codes' }).getByRole('listitem').allTextContents()
    expect(firstCodes).toHaveLength(10)
    await screenshot(page, 'mfa-backup-codes')

    // Sign out, sign in again: password, then a code (the next step: the confirming one is spent).
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await signIn(page, email)
    await heading(page, 'Two-step verification')
    await screenshot(page, 'mfa-step')
    await page.getByLabel(/Code from your authenticator app/).fill(totp(secret, 1))
    await page.getByRole('button', { name: 'Verify' }).click()
    await heading(page, 'Your account')

    // New backup codes, proven with one of the old ones: the old set stops working.
    await page.getByLabel(/for new backup codes/).fill(firstCodes[0]!)
    await page.getByRole('button', { name: 'Make new backup codes' }).click()
    await page.getByText('New backup codes').first().waitFor()
    await page.getByText('the old ones no longer work').waitFor()
    const newCodes = await page.getByRole('list', { name: 'Backup codes' }).getByRole('listitem').allTextContents()
    expect(newCodes).toHaveLength(10)
    expect(newCodes.some((code) => firstCodes.includes(code))).toBe(false)

    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await signIn(page, email)
    await heading(page, 'Two-step verification')
    await page.getByLabel(/Code from your authenticator app/).fill(firstCodes[1]!)
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.getByText(/not correct|invalid/i).first().waitFor()
    await page.getByLabel(/Code from your authenticator app/).fill(newCodes[0]!)
    await page.getByRole('button', { name: 'Verify' }).click()
    await heading(page, 'Your account')
    await page.getByText('Backup codes left: 9.').waitFor()
    await context.close()
  })

  it('lists sessions with their device and signs another one out, which then lands on the sign-in page', async () => {
    const tenant = await createTenant()
    const { email } = await registerMember(tenant.slug)
    const laptop = await newPage(browser)
    const phone = await newPage(browser)
    for (const { page } of [laptop, phone]) {
      await page.goto(`${tenantOrigin(tenant.slug)}/sign-in`)
      await signIn(page, email)
      await heading(page, 'Your account')
    }
    const sessions = laptop.page.getByRole('list', { name: 'Sessions' })
    await laptop.page.reload()
    await expect.poll(() => sessions.getByRole('listitem').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3)
    await laptop.page.getByText('this device').waitFor()
    expect(await sessions.textContent()).toContain('Headless Chrome on Linux')
    await screenshot(laptop.page, 'sessions')

    // Newest first: the phone's session is the first one that is not this device's.
    const before = await sessions.getByRole('listitem').count()
    await laptop.page.getByRole('button', { name: /^Sign out .*, last used / }).first().click()
    await laptop.page.getByText('The session was signed out.').waitFor()
    await expect.poll(() => sessions.getByRole('listitem').count(), { timeout: 15_000 }).toBe(before - 1)
    // The phone's page finds out on its next call (here: saving the profile), without a reload.
    await phone.page.getByRole('button', { name: 'Save profile' }).click()
    await heading(phone.page, `Sign in to ${tenant.name}`)

    // Every other session (the API registration's own).
    await laptop.page.getByRole('button', { name: 'Sign out all other sessions' }).click()
    await laptop.page.getByText(/other sessions? signed out/).waitFor()
    await expect.poll(() => sessions.getByRole('listitem').count(), { timeout: 15_000 }).toBe(1)
    await laptop.context.close()
    await phone.context.close()
  })
})
