import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api, hasBrowser, latestMail, launchBrowser, linkIn, newPage, PASSWORD, platformOrigin, screenshot, tenantOrigin, uniqueEmail } from './support.ts'

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name }).waitFor()
/** The Members table's cell holding `email` (the caller's own row says "(you)" after it). */
const emailCell = (page: Page, email: string) =>
  page.getByRole('table', { name: 'Members' }).getByRole('cell', { name: new RegExp(`^${email.replace(/[.+]/g, '\\$&')}( \\(you\\))?$`) })

async function signIn(page: Page, slug: string, email: string) {
  await page.goto(`${tenantOrigin(slug)}/sign-in`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await heading(page, 'Your account')
}

/** An owner with their own organization (platform sign-up). */
async function newOwner() {
  const email = uniqueEmail('owner')
  const res = await api(`${platformOrigin()}/v1/auth/register`, { body: { email, password: PASSWORD, name: 'Olive Owner' } })
  expect(res.status).toBe(201)
  return { email, slug: res.body.tenant.slug as string, token: res.body.access_token as string, id: res.body.user.id as string }
}

/** Accept the invitation mailed to `email` through the API, as a new account. */
async function acceptMailed(slug: string, email: string, name: string) {
  const link = new URL(linkIn(await latestMail(email, /invited/), '/accept-invitation'))
  const token = new URLSearchParams(link.hash.slice(1)).get('token') ?? link.searchParams.get('token')
  const res = await api(`${tenantOrigin(slug)}/v1/invitations/accept`, { body: { token, password: PASSWORD, name } })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return { email, id: res.body.user.id as string, token: res.body.access_token as string }
}

describe.skipIf(!hasBrowser)('the admin console', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('lets an owner invite several people, revoke one, change a role, and explains the last-owner rule', async () => {
    const owner = await newOwner()
    const [ada, bob] = [uniqueEmail('ada'), uniqueEmail('bob')]
    const { page, context } = await newPage(browser)
    await signIn(page, owner.slug, owner.email)
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Console' }).click()
    await heading(page, 'Console')
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Members' }).click()
    await heading(page, 'Members')
    await emailCell(page, owner.email).waitFor()

    // Two addresses at once, and one that is not an address: two sent, one explained.
    await page.getByLabel('Email addresses').fill(`${ada}, ${bob}\nnot-an-address`)
    await page.getByLabel('Role', { exact: true }).selectOption('member')
    await page.getByRole('button', { name: 'Send invitations' }).click()
    await page.getByText(`Invitation sent to ${ada}, ${bob}.`).waitFor()
    expect(await page.getByRole('alert').filter({ hasText: 'Not sent' }).textContent()).toMatch(/not-an-address: This is not a valid email address/)
    const pending = page.getByRole('list', { name: 'Pending invitations' })
    await pending.getByText(ada).waitFor()
    await pending.getByText(bob).waitFor()
    await screenshot(page, 'console-members-invited')

    await page.getByRole('button', { name: `Revoke the invitation to ${bob}` }).click()
    await page.getByText(`The invitation to ${bob} was revoked`).waitFor()
    expect(await pending.textContent()).not.toContain(bob)
    const revoked = await api(`${tenantOrigin(owner.slug)}/v1/invitations`, { token: owner.token })
    expect(revoked.body.data.map((i: { email: string }) => i.email)).toEqual([ada])

    // Ada joins; the owner finds her by searching and makes her admin.
    const joined = await acceptMailed(owner.slug, ada, 'Ada Lovelace')
    await page.getByLabel('Search members').fill('lovelace')
    await page.getByRole('button', { name: 'Search' }).click()
    const table = page.getByRole('table', { name: 'Members' })
    await emailCell(page, ada).waitFor()
    expect(await table.getByRole('row').count()).toBe(2)
    await page.getByLabel(`Role of ${ada}`).selectOption('admin')
    await page.getByRole('button', { name: `Save the role of ${ada}` }).click()
    await page.getByText(`${ada} is now admin.`).waitFor()
    const members = await api(`${tenantOrigin(owner.slug)}/v1/members?q=lovelace`, { token: owner.token })
    expect(members.body.data).toMatchObject([{ user_id: joined.id, role: 'admin' }])

    // The only owner cannot step down: the refusal is explained, not shown as a code.
    await page.getByLabel('Search members').fill('')
    await page.getByRole('button', { name: 'Search' }).click()
    await emailCell(page, owner.email).waitFor()
    await page.getByLabel(`Role of ${owner.email}`).selectOption('member')
    await page.getByRole('button', { name: `Save the role of ${owner.email}` }).click()
    const refusal = page.getByRole('alert').filter({ hasText: 'at least one owner' })
    await refusal.waitFor()
    expect(await refusal.textContent()).not.toContain('last_owner')
    await screenshot(page, 'console-members-last-owner')
    await context.close()
  })

  it('shows a member with a custom read-only role the member list and no actions; the API refuses the rest', async () => {
    const owner = await newOwner()
    const host = tenantOrigin(owner.slug)
    const email = uniqueEmail('reader')
    expect((await api(`${host}/v1/invitations`, { body: { email, role: 'member' }, token: owner.token })).status).toBe(201)
    const reader = await acceptMailed(owner.slug, email, 'Rita Reader')
    // The member role loses its permissions; the reader's only grant is a custom role holding members:read.
    expect((await api(`${host}/v1/roles/member`, { method: 'PATCH', body: { permissions: [] }, token: owner.token })).status).toBe(200)
    expect((await api(`${host}/v1/roles`, { body: { name: 'member-reader', permissions: ['members:read'] }, token: owner.token })).status).toBe(201)
    const bound = await api(`${host}/v1/role-bindings`, { body: { subject: { type: 'user', id: reader.id }, role: 'member-reader' }, token: owner.token })
    expect(bound.status, JSON.stringify(bound.body)).toBe(201)
    expect((await api(`${host}/v1/invitations`, { body: { email: uniqueEmail('pending'), role: 'member' }, token: owner.token })).status).toBe(201)

    const { page, context } = await newPage(browser)
    await signIn(page, owner.slug, email)
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Console' }).click()
    const nav = page.getByRole('navigation', { name: 'Console' })
    await nav.getByRole('link', { name: 'Members' }).click()
    await heading(page, 'Members')
    const table = page.getByRole('table', { name: 'Members' })
    await emailCell(page, owner.email).waitFor()
    await emailCell(page, email).waitFor()
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Overview', 'Members'])
    expect(await page.getByRole('combobox').count()).toBe(0)
    expect(await page.getByRole('button', { name: /Save the role|Remove|Revoke/ }).count()).toBe(0)
    expect(await page.getByRole('heading', { name: /Invite people|Pending invitations/ }).count()).toBe(0)
    expect(await table.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0)
    await screenshot(page, 'console-members-read-only')

    // Bypassing the page: the browser's own session, straight at the API.
    const forced = await page.evaluate(async (target) => {
      const session = { 'x-atrium-session': 'cookie' }
      const refreshed = await fetch('/v1/auth/session/refresh', { method: 'POST', headers: session })
      const { access_token } = (await refreshed.json()) as { access_token: string }
      const headers = { ...session, authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }
      const invite = await fetch('/v1/invitations', { method: 'POST', headers, body: JSON.stringify({ email: 'forced@example.com', role: 'member' }) })
      const patch = await fetch(`/v1/members/${target}`, { method: 'PATCH', headers, body: JSON.stringify({ role: 'member' }) })
      return { invite: invite.status, inviteCode: ((await invite.json()) as { error: { code: string } }).error.code, patch: patch.status }
    }, owner.id)
    expect(forced).toEqual({ invite: 403, inviteCode: 'permission_denied', patch: 403 })
    expect((await api(`${host}/v1/invitations`, { token: reader.token })).status).toBe(403)
    await context.close()
  })

  it('creates an API key whose secret is shown once, lists it with its last use, and revokes it', async () => {
    const owner = await newOwner()
    const host = tenantOrigin(owner.slug)
    const { page, context } = await newPage(browser)
    await signIn(page, owner.slug, owner.email)
    await page.goto(`${host}/console/api-keys`)
    await heading(page, 'API keys')
    await page.getByText('No active API keys.').waitFor()
    await page.getByLabel('Key name').fill('billing service')
    // The roles come from the tenant's roles (the owner holds roles:read); owner is never offered.
    expect(await page.getByRole('checkbox').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value))).toEqual(['admin', 'member'])
    await page.getByRole('checkbox', { name: 'member' }).check()
    await page.getByRole('button', { name: 'Create key' }).click()
    const secret = (await page.getByLabel('Secret').textContent())!
    expect(secret.length).toBeGreaterThan(20)
    await page.getByRole('list', { name: 'API keys' }).getByText('billing service').waitFor()
    await screenshot(page, 'console-api-key-created')

    // The secret works, once copied; the list (and a reload) never shows it again.
    expect((await api(`${host}/v1/members`, { headers: { 'x-api-key': secret } })).status).toBe(200)
    await page.getByRole('button', { name: 'Done, hide it' }).click()
    expect(await page.content()).not.toContain(secret)
    await page.reload()
    const list = page.getByRole('list', { name: 'API keys' })
    await list.getByText('billing service').waitFor()
    expect(await list.textContent()).toMatch(/last used (?!never)/)
    expect(await page.content()).not.toContain(secret)

    await page.getByRole('button', { name: 'Revoke billing service' }).click()
    await page.getByText('“billing service” was revoked').waitFor()
    await page.getByText('No active API keys.').waitFor()
    expect((await api(`${host}/v1/members`, { headers: { 'x-api-key': secret } })).status).toBe(401)
    await context.close()
  })

  it('links the console to the interactive API reference, which renders this host’s /openapi.json from its own origin', async () => {
    const owner = await newOwner()
    const { page, context } = await newPage(browser)
    const foreign: string[] = []
    page.on('request', (request) => {
      if (!request.url().startsWith(tenantOrigin(owner.slug))) foreign.push(request.url())
    })
    await signIn(page, owner.slug, owner.email)
    await page.goto(`${tenantOrigin(owner.slug)}/console`)
    await page.getByRole('link', { name: 'interactive API reference' }).click()
    await page.waitForURL(`${tenantOrigin(owner.slug)}/docs`)
    await page.getByText('/v1/me/permissions').first().waitFor()
    await page.getByText('Atrium API').first().waitFor()
    await screenshot(page, 'api-docs')
    expect(foreign).toEqual([])
    await context.close()
  })

  it('shows no console link, and no screen, to a member whose roles grant none of them', async () => {
    const owner = await newOwner()
    const host = tenantOrigin(owner.slug)
    const email = uniqueEmail('nobody')
    expect((await api(`${host}/v1/invitations`, { body: { email, role: 'member' }, token: owner.token })).status).toBe(201)
    await acceptMailed(owner.slug, email, 'No Body')
    expect((await api(`${host}/v1/roles/member`, { method: 'PATCH', body: { permissions: ['tenant:read'] }, token: owner.token })).status).toBe(200)
    const { page, context } = await newPage(browser)
    await signIn(page, owner.slug, email)
    await page.getByRole('link', { name: 'Account', exact: true }).waitFor()
    expect(await page.getByRole('link', { name: 'Console' }).count()).toBe(0)
    await page.goto(`${host}/console/members`)
    await page.getByText('give you no access to its console').waitFor()
    expect(await page.getByRole('table').count()).toBe(0)
    await context.close()
  })
})
