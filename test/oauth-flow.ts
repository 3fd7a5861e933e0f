import { SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { tenants } from '../src/db/public-schema.ts'
import type { FakeProviders, Person, ProviderName } from './oauth-providers.ts'
import { call, database, randomClientIp, tenantOrigin } from './support.ts'

/** A browser request: redirects are not followed, cookies are passed by hand. */
export async function browse(url: string, cookie?: string) {
  const headers: Record<string, string> = { 'cf-connecting-ip': randomClientIp() }
  if (cookie) headers.cookie = cookie
  const res = await SELF.fetch(url, { redirect: 'manual', headers })
  const text = await res.text()
  let body: any = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {}
  return { status: res.status, location: res.headers.get('location'), setCookie: res.headers.get('set-cookie'), headers: res.headers, body }
}

/** The name=value part of a Set-Cookie header, as a browser would send it back. */
export const cookieFrom = (setCookie: string | null) => setCookie?.split(';')[0]

/** Start on the tenant host, consent at the provider, come back to the callback: the whole browser round trip. */
export async function signIn(fake: FakeProviders, slug: string, provider: ProviderName, person: Person) {
  const start = await browse(`${tenantOrigin(slug)}/v1/auth/oauth/${provider}`)
  if (start.status !== 302) throw new Error(`start failed: ${start.status} ${JSON.stringify(start.body)}`)
  return call(fake.consent(start.location!, provider, person))
}

export const numericId = () => String(10_000_000 + Math.floor(Math.random() * 80_000_000))

/** The tenant's settings as stored in Postgres, read directly (not through the API). */
export async function storedSettings(id: string) {
  const rows = await database().select({ settings: tenants.settings }).from(tenants).where(eq(tenants.id, id))
  return rows[0]!.settings
}
