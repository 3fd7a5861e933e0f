import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.ts'
import { call, join, newEmail, openTenant, PLATFORM, signUp, tenantOrigin, withEnv } from './support.ts'

async function lastLink(to: string): Promise<URL> {
  for (let i = 0; i < 50; i++) {
    const res = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent(to)}`)
    const text: string | undefined = res.body.messages[0]?.text
    const href = text?.match(/https?:\/\/\S+/)?.[0]
    if (href) return new URL(href)
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no mail to ${to}`)
}

describe('links in mail (APP_URL)', () => {
  it('points every link at the web app’s page on the tenant’s own origin by default, with the token in the fragment', async () => {
    const t = await openTenant()
    const host = tenantOrigin(t.slug)
    const u = await join(t)
    const pages: [string, () => Promise<unknown>][] = [
      ['/verify-email', () => call(`${host}/v1/auth/verify-email/request`, { method: 'POST', token: u.access_token })],
      ['/reset-password', () => withEnv({}, `${host}/v1/auth/password/forgot`, { body: { email: u.email } })],
      ['/magic-link', () => withEnv({}, `${host}/v1/auth/magic-link`, { body: { email: u.email } })],
    ]
    for (const [page, send] of pages) {
      await send()
      const url = await lastLink(u.email)
      expect(url.origin).toBe(host)
      expect(url.pathname).toBe(page)
      expect(url.search).toBe('')
      expect(url.hash).toMatch(/^#token=[A-Za-z0-9_-]{43}$/)
    }
    const invitee = newEmail()
    const owner = await signUp()
    const invited = await call(`${owner.host}/v1/invitations`, { body: { email: invitee, role: 'member' }, token: owner.access_token })
    expect(invited.status).toBe(201)
    const link = await lastLink(invitee)
    expect(`${link.origin}${link.pathname}`).toBe(`${owner.host}/accept-invitation`)
    expect(link.hash).toMatch(/^#token=[A-Za-z0-9_-]{43}$/)
  })

  it('fills {slug} and {host} of an APP_URL pattern, and the page’s token still redeems on the tenant’s API', async () => {
    const t = await openTenant()
    const host = tenantOrigin(t.slug)
    const u = await join(t)
    await withEnv({ APP_URL: 'https://{slug}.app.example.com/' }, `${host}/v1/auth/magic-link`, { body: { email: u.email } })
    const bySlug = await lastLink(u.email)
    expect(`${bySlug.origin}${bySlug.pathname}`).toBe(`https://${t.slug}.app.example.com/magic-link`)
    const token = new URLSearchParams(bySlug.hash.slice(1)).get('token')!
    const signedIn = await call(`${host}/v1/auth/magic-link/verify`, { body: { token } })
    expect(signedIn.status).toBe(200)
    expect(signedIn.body.access_token).toBeTypeOf('string')

    const invitee = newEmail()
    const owner = await signUp()
    const ownerHost = owner.host
    const res = await withEnv({ APP_URL: 'https://web.example.com/{host}' }, `${ownerHost}/v1/invitations`, { body: { email: invitee, role: 'member' }, token: owner.access_token })
    expect(res.status).toBe(201)
    const byHost = await lastLink(invitee)
    expect(`${byHost.origin}${byHost.pathname}`).toBe(`https://web.example.com/${new URL(ownerHost).host}/accept-invitation`)
  })

  it('refuses an APP_URL that names no tenant, or is not an http(s) URL without query and fragment', () => {
    const base = env as unknown as Record<string, unknown>
    expect(parseConfig({ ...base, APP_URL: 'https://{slug}.app.example.com' }).APP_URL).toBe('https://{slug}.app.example.com')
    for (const bad of ['https://app.example.com', 'ftp://{slug}.example.com', 'https://{slug}.example.com/?x=1', 'https://{slug}.example.com/#a', 'not a url {slug}']) {
      expect(() => parseConfig({ ...base, APP_URL: bad }), bad).toThrow(/APP_URL/)
    }
  })
})
