import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, createTenant, hasBrowser, launchBrowser, newPage, PASSWORD, platformOrigin, screenshot, tenantOrigin, uniqueEmail } from './support.ts'

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).waitFor()
const TENANT_ACCOUNT = /^http:\/\/[a-z0-9-]+\.localhost:\d+\/account$/

/** Nothing wider than the window (no sideways scrolling at 360 px). */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)

/** An account in two organizations: its own (platform sign-up) and an open one it joined. */
async function memberOfTwo(otherName: string) {
  const email = uniqueEmail('picker')
  const home = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD } })
  expect(home.status).toBe(201)
  const other = await createTenant({}, otherName)
  expect((await api(`${tenantOrigin(other.slug)}/v1/auth/register`, { body: { email, password: PASSWORD } })).status).toBe(201)
  return { email, home: home.body.tenant as { slug: string }, other, token: home.body.access_token as string }
}

async function platformSignIn(page: Page, email: string, password = PASSWORD) {
  await page.goto(`${platformOrigin()}/`)
  await heading(page, 'Sign in')
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

describe.skipIf(!hasBrowser)('platform sign-in and new organizations', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('signs in on the platform host, picks an organization and lands signed in on its host (360 px wide)', async () => {
    const u = await memberOfTwo('Picked Org')
    const { page, context } = await newPage(browser, { width: 360 })
    await platformSignIn(page, u.email, 'not the password')
    const passwordError = page.getByLabel('Password')
    await page.getByRole('alert').first().waitFor()
    expect(await passwordError.getAttribute('aria-invalid')).toBe('true')

    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await heading(page, 'Choose an organization')
    const list = page.getByRole('list', { name: 'Your organizations' })
    expect(await list.getByRole('button').count()).toBe(2)
    expect(await fitsWidth(page)).toBe(true)
    await screenshot(page, 'workspace-picker')
    await list.getByRole('button', { name: /Picked Org/ }).click()
    await page.waitForURL(`${tenantOrigin(u.other.slug)}/account`)
    await heading(page, 'Your account')
    await page.getByText(u.email).first().waitFor()
    // That host's own cookie; none on the platform host.
    expect((await context.cookies(`${tenantOrigin(u.other.slug)}/v1/auth/session/refresh`)).some((c) => c.name === 'atrium_session')).toBe(true)
    expect((await context.cookies(`${platformOrigin()}/v1/auth/session/refresh`)).length).toBe(0)
    await context.close()
  })

  it('creates a new organization from the workspace picker and opens it', async () => {
    const u = await memberOfTwo('Another Org')
    const { page, context } = await newPage(browser)
    await platformSignIn(page, u.email)
    await heading(page, 'Choose an organization')
    await page.getByRole('button', { name: 'Create and open' }).click()
    const name = page.getByLabel('Organization name')
    await page.getByRole('alert').first().waitFor()
    expect(await name.getAttribute('aria-invalid')).toBe('true')
    await name.fill('Picker Made Co')
    await page.getByRole('button', { name: 'Create and open' }).click()
    await page.waitForURL(TENANT_ACCOUNT)
    await heading(page, 'Your account')
    await page.locator('.brand', { hasText: 'Picker Made Co' }).waitFor()
    await context.close()
  })

  it('creates a new organization from the org switcher and switches to it through a handoff', async () => {
    const u = await memberOfTwo('Switcher Org')
    const { page, context } = await newPage(browser)
    await page.goto(`${tenantOrigin(u.home.slug)}/sign-in`)
    await page.getByLabel('Email').fill(u.email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await heading(page, 'Your account')

    await page.getByRole('button', { name: 'Switch organization' }).click()
    await page.getByRole('button', { name: 'Create a new organization' }).click()
    const form = page.getByRole('form', { name: 'New organization' })
    await form.getByLabel('Organization name').fill('Fresh Venture')
    await screenshot(page, 'create-organization')
    await form.getByRole('button', { name: 'Create and switch' }).click()
    await page.waitForURL(TENANT_ACCOUNT)
    await heading(page, 'Your account')
    await page.locator('.brand', { hasText: 'Fresh Venture' }).waitFor()
    const host = new URL(page.url()).hostname
    expect(host).not.toBe(`${u.home.slug}.localhost`)
    // Owner of the new one, and the switcher lists it as current.
    await page.getByRole('button', { name: 'Switch organization' }).click()
    const list = page.getByRole('list', { name: 'Your organizations' })
    await list.waitFor()
    expect(await list.textContent()).toMatch(/Fresh Venture \(owner\) — current/)
    await context.close()
  })
})
