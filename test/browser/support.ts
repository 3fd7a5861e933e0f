import { mkdirSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { inject } from 'vitest'
import { send, type Reply } from '../../bench/http.ts'

export const stack = inject('browserStack')
/** Browser tests run only where a Chromium was found (the global setup said loudly when not). */
export const hasBrowser = stack !== null

export const PASSWORD = 'correct horse battery staple'
export const ARTIFACTS = new URL('../../test-artifacts/screenshots/', import.meta.url)

export const platformOrigin = () => `http://localhost:${stack!.port}`
export const tenantOrigin = (slug: string) => `http://${slug}.localhost:${stack!.port}`

let counter = 0
export const uniqueSlug = (prefix = 'web') => `${prefix}-${Date.now().toString(36)}-${++counter}${Math.random().toString(36).slice(2, 5)}`
export const uniqueEmail = (prefix = 'user') => `${prefix}-${Date.now().toString(36)}${++counter}${Math.random().toString(36).slice(2, 6)}@example.com`

/**
 * Chromium as INTEGRATIONS.md says to start it here: headless, no sandbox (root in a container),
 * and no background networking (it would otherwise flood the closed network with connections).
 * Playwright gives it a fresh temporary profile.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: stack!.chromium,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  })
}

export async function newPage(browser: Browser, options: { width?: number } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1000, height: 800 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  // A script error or a CSP refusal shows in the test's output.
  page.on('pageerror', (err) => console.error(`[page error] ${err.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) console.error(`[page console] ${message.text()}`)
  })
  return { context, page }
}

/** A full-page screenshot in test-artifacts/screenshots/ (gitignored; CI keeps it as an artifact). */
export async function screenshot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true })
}

/** A JSON call from Node (the test's own setup), *.localhost resolved to the loopback. */
export async function api(url: string, init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return send(url, { ...init, headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers } })
}

export async function createTenant(settings: Record<string, unknown> = {}, name?: string) {
  const slug = uniqueSlug()
  const res = await api(`${platformOrigin()}/v1/tenants`, { body: { slug, name: name ?? `Org ${slug}`, settings: { signup_policy: 'open', ...settings } }, token: stack!.adminToken })
  if (res.status !== 201) throw new Error(`createTenant: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: string; slug: string; name: string }
}

/** An account that is a member of the tenant, through the API. */
export async function registerMember(slug: string, email = uniqueEmail(), password = PASSWORD) {
  const res = await api(`${tenantOrigin(slug)}/v1/auth/register`, { body: { email, password } })
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`)
  return { email, password, tokens: res.body as { access_token: string; refresh_token: string } }
}

/** The newest mail to `to` in the development outbox, waiting for it to arrive (mail is sent after the answer). */
export async function latestMail(to: string, subjectIncludes?: RegExp): Promise<{ subject: string; text: string; html?: string }> {
  for (let i = 0; i < 60; i++) {
    const res = await api(`${platformOrigin()}/dev/outbox?to=${encodeURIComponent(to)}`)
    const found = (res.body?.messages ?? []).find((m: { subject: string }) => !subjectIncludes || subjectIncludes.test(m.subject))
    if (found) return found
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`no mail to ${to}${subjectIncludes ? ` matching ${subjectIncludes}` : ''}`)
}

/** The first link of a mail's text pointing at `path`. */
export function linkIn(mail: { text: string }, path: string): string {
  const match = mail.text.match(new RegExp(`https?://\\S+${path.replace(/[/]/g, '\\/')}\\S*`))
  if (!match) throw new Error(`no ${path} link in: ${mail.text}`)
  return match[0]
}
