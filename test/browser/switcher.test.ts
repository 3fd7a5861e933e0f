import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, createTenant, hasBrowser, launchBrowser, newPage, PASSWORD, platformOrigin, screenshot, tenantOrigin, uniqueEmail } from './support.ts'

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).waitFor()

describe.skipIf(!hasBrowser)('org switcher', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('switches to another organization through a handoff code, which cannot be replayed', async () => {
    // One account in two organizations: its own (platform sign-up) and an open one it joined.
    const email = uniqueEmail('switch')
    const home = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD } })
    expect(home.status).toBe(201)
    const other = await createTenant({}, 'Second Org')
    expect((await api(`${tenantOrigin(other.slug)}/v1/auth/register`, { body: { email, password: PASSWORD } })).status).toBe(201)

    const { page, context } = await newPage(browser)
    await page.goto(`${tenantOrigin(home.body.tenant.slug)}/sign-in`)
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await heading(page, 'Your account')

    await page.getByRole('button', { name: 'Switch organization' }).click()
    const list = page.getByRole('list', { name: 'Your organizations' })
    await list.waitFor()
    expect(await list.textContent()).toMatch(/\(owner\) — current/)
    await screenshot(page, 'org-switcher')
    // Catch the handoff URL on its way (the code is in its fragment) to replay it afterwards.
    await list.getByRole('button', { name: 'Second Org (member)' }).click()
    await page.waitForURL(`${tenantOrigin(other.slug)}/account`)
    await page.getByText('Second Org').first().waitFor()
    // Signed in there with that host's own cookie; the address bar holds no code.
    const cookies = await context.cookies(`${tenantOrigin(other.slug)}/v1/auth/session/refresh`)
    expect(cookies.some((c) => c.name === 'atrium_session' && c.domain === `${other.slug}.localhost`)).toBe(true)

    // A handoff link works once: the first browser gets in, the same link in another is refused.
    const handoff = await api(`${tenantOrigin(home.body.tenant.slug)}/v1/auth/handoff`, { body: { tenant: other.slug }, token: home.body.access_token })
    expect(handoff.status).toBe(201)
    const first = await newPage(browser)
    await first.page.goto(handoff.body.url)
    await heading(first.page, 'Your account')
    expect(first.page.url()).toBe(`${tenantOrigin(other.slug)}/account`)
    await first.context.close()
    const replay = await newPage(browser)
    await replay.page.goto(handoff.body.url)
    await replay.page.getByRole('alert').waitFor()
    expect(await replay.page.getByRole('alert').textContent()).toMatch(/expired or already used/)
    await screenshot(replay.page, 'handoff-refused')
    await replay.context.close()
    await context.close()
  })

  it('signs up on the platform host and lands signed in on the new organization’s host', async () => {
    const email = uniqueEmail('platform')
    const { page, context } = await newPage(browser)
    await page.goto(`${platformOrigin()}/`)
    await page.getByRole('button', { name: 'New here? Create an account' }).click()
    await heading(page, 'Create your account')
    await page.getByLabel('Email').fill(email)
    await page.getByLabel('Password').fill(PASSWORD)
    await screenshot(page, 'platform-sign-up')
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.waitForURL(/^http:\/\/[a-z0-9-]+\.localhost:\d+\/account$/)
    await heading(page, 'Your account')
    await page.getByText(email).first().waitFor()
    // The platform host holds no session cookie.
    expect((await context.cookies(`${platformOrigin()}/v1/auth/session/refresh`)).length).toBe(0)
    await context.close()
  })
})
