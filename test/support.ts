import { env, SELF } from 'cloudflare:test'
import { sign } from 'hono/jwt'
import { schemaNameFor } from '../src/db/tenant-schema.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { signingKeys } from '../src/platform/signing-keys.ts'
import { loadTenantKeys, tenantAudience } from '../src/tenancy/signing-keys.ts'

export const PLATFORM = 'http://localhost'
export const tenantOrigin = (slug: string) => `http://${slug}.atrium.test`

let counter = 0
/** A slug no other test uses (tests share one database). */
export function uniqueSlug(prefix = 't'): string {
  counter += 1
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 6)}`
}

export interface CallOptions {
  method?: string
  body?: unknown
  token?: string | null
  headers?: Record<string, string>
}

/** An address in 198.18.0.0/15, the range reserved for benchmarking (RFC 2544). */
export function randomClientIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3))
  return `198.${18 + (a! & 1)}.${b}.${c}`
}

/** A request through the real Worker (SELF), JSON in and out. */
export async function call(url: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers)
  // Each call comes from its own client address unless a test names one: per-IP limits (credential
  // throttling) are tested explicitly, and must not couple unrelated tests through a shared address.
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', randomClientIp())
  if (options.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json')
  if (options.token) headers.set('authorization', `Bearer ${options.token}`)
  const res = await SELF.fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  })
  const text = await res.text()
  let json: any = undefined
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = text
  }
  return { status: res.status, headers: res.headers, body: json }
}

export const adminToken = () => env.PLATFORM_ADMIN_TOKEN as string

export async function createTenant(input: { slug?: string; name?: string; plan?: string; settings?: Record<string, unknown> } = {}) {
  const slug = input.slug ?? uniqueSlug()
  const res = await call(`${PLATFORM}/v1/tenants`, { body: { name: `Tenant ${slug}`, ...input, slug }, token: adminToken() })
  if (res.status !== 201) throw new Error(`createTenant failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: string; slug: string; schema_name: string; status: string; settings: Record<string, unknown> }
}

export async function tenantAction(id: string, action: 'suspend' | 'resume' | 'purge') {
  return call(`${PLATFORM}/v1/tenants/${id}/${action}`, { method: 'POST', token: adminToken() })
}

/** An access token signed with the deployment's (platform) key, as tokens were before tenants had their own keys. */
export async function platformAccessToken(claims: Record<string, unknown>) {
  const keys = await signingKeys(env.JWT_PRIVATE_KEY as string)
  const now = Math.floor(Date.now() / 1000)
  return sign({ iat: now, exp: now + 300, jti: crypto.randomUUID(), ...claims }, keys.privateJwk, 'ES512')
}

/**
 * An access token for `tenant` signed with the tenant's own current key, with its `iss` and
 * `aud` (the identity section issues the real ones; this stands in for a signed-in user).
 */
export async function accessToken(tenant: { id: string; slug: string }, claims: Record<string, unknown>) {
  const db = connectDatabase(env.DATABASE_URL as string, env.NEON_FETCH_ENDPOINT as string)
  const keys = await loadTenantKeys({ db, dataKey: env.DATA_ENCRYPTION_KEY as string }, { id: tenant.id, schemaName: schemaNameFor(tenant.id) })
  const now = Math.floor(Date.now() / 1000)
  const standard = { iss: tenantOrigin(tenant.slug), aud: tenantAudience(tenant.id), tid: tenant.id, iat: now, exp: now + 300, jti: crypto.randomUUID() }
  return sign({ ...standard, ...claims }, keys.signer, 'ES512')
}

type Endpoint = 'sql' | 'redis'
const controlBase = (which: Endpoint) =>
  which === 'sql' ? new URL(env.NEON_FETCH_ENDPOINT as string).origin : (env.UPSTASH_REDIS_REST_URL as string)

/** Make a local endpoint fail or slow down (see local/*: POST /__atrium/faults). */
export async function faults(which: Endpoint, body: { mode: 'off' | 'fail' | 'delay' | 'drop'; status?: number; delayMs?: number; count?: number; after?: number }) {
  const res = await fetch(`${controlBase(which)}/__atrium/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`fault control failed: ${res.status}`)
}

export async function endpointRequests(which: Endpoint): Promise<number> {
  const res = await fetch(`${controlBase(which)}/__atrium/stats`)
  return ((await res.json()) as { requests: number }).requests
}

export async function resetEndpointStats(which: Endpoint) {
  await fetch(`${controlBase(which)}/__atrium/stats/reset`, { method: 'POST' })
}

/** The newest link to `path` (e.g. `/reset-password`) mailed to `to`, and the token in its fragment. */
export async function mailedLink(to: string, path: string): Promise<{ url: URL; token: string }> {
  const res = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent(to)}`)
  const mail = res.body.messages?.[0]
  if (!mail) throw new Error(`no mail to ${to}`)
  const href = mail.text.match(new RegExp(`https?://\\S+${path}#token=[A-Za-z0-9_-]+`))?.[0]
  if (!href) throw new Error(`no ${path} link in the mail to ${to}: ${mail.text}`)
  const url = new URL(href)
  return { url, token: new URLSearchParams(url.hash.slice(1)).get('token')! }
}
