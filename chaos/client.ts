import { send, type Reply } from '../bench/http.ts'
import type { ChaosStack } from './stack.ts'

export const PASSWORD = 'correct horse battery staple'
let ipCounter = 0
/** A distinct client address per credential request: the per-IP credential throttle is not under test. */
export const nextIp = () => `198.18.${(++ipCounter >> 8) & 255}.${ipCounter & 255}`

export interface Account {
  email: string
  userId: string
  access: string
  refresh: string
}

export interface Owner extends Account {
  tenantId: string
  slug: string
}

/** Calls of the API through one Worker or another, as a client of the deployment would make them. */
export function client(stack: ChaosStack, adminToken: string) {
  const admin = { authorization: `Bearer ${adminToken}` }
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  return {
    async createTenant(worker: number, slug: string, settings: Record<string, unknown> = {}): Promise<{ id: string }> {
      return must(await send(`${stack.origin(worker)}/v1/tenants`, { body: { slug, name: `Chaos ${slug}`, settings }, headers: admin }), 201).body
    },
    tenantAction: (worker: number, id: string, action: 'suspend' | 'resume') =>
      send(`${stack.origin(worker)}/v1/tenants/${id}/${action}`, { method: 'POST', body: {}, headers: admin }),
    patchTenant: (worker: number, id: string, patch: unknown) => send(`${stack.origin(worker)}/v1/tenants/${id}`, { method: 'PATCH', body: patch, headers: admin }),

    /** A new account on the platform host; it owns its personal tenant. */
    async signUp(worker: number): Promise<Owner> {
      const email = `chaos-${crypto.randomUUID()}@example.com`
      const r = must(await send(`${stack.origin(worker)}/v1/auth/register`, { body: { email, password: PASSWORD, name: 'Owner' }, headers: { 'cf-connecting-ip': nextIp() } }), 201).body
      return { email, userId: r.user.id, access: r.access_token, refresh: r.refresh_token, tenantId: r.tenant.id, slug: r.tenant.slug }
    },

    /** A new account that joins `owner`'s tenant with `role` through an invitation and its mailed link. */
    async join(worker: number, owner: Owner, role: 'admin' | 'member'): Promise<Account> {
      const email = `chaos-${crypto.randomUUID()}@example.com`
      must(await send(`${stack.origin(worker, owner.slug)}/v1/invitations`, { body: { email, role }, headers: bearer(owner.access) }), 201)
      const mail = must(await send(`${stack.origin(worker)}/dev/outbox?to=${encodeURIComponent(email)}`), 200).body.messages[0]
      // The link carries its token in the fragment (never sent to a server): /accept-invitation#token=…
      const token = /accept-invitation#token=([A-Za-z0-9_-]+)/.exec(mail.text)![1]
      const r = must(await send(`${stack.origin(worker, owner.slug)}/v1/invitations/accept`, { body: { token, password: PASSWORD, name: role }, headers: { 'cf-connecting-ip': nextIp() } }), 200).body
      return { email, userId: r.user.id, access: r.access_token, refresh: r.refresh_token }
    },

    async login(worker: number, slug: string, email: string): Promise<Account> {
      const r = must(await send(`${stack.origin(worker, slug)}/v1/auth/login`, { body: { email, password: PASSWORD }, headers: { 'cf-connecting-ip': nextIp() } }), 200).body
      return { email, userId: '', access: r.access_token, refresh: r.refresh_token }
    },

    get: (worker: number, slug: string | undefined, path: string, token?: string) =>
      send(`${stack.origin(worker, slug)}${path}`, { headers: token ? bearer(token) : {} }),
    post: (worker: number, slug: string | undefined, path: string, body: unknown, headers: Record<string, string> = {}) =>
      send(`${stack.origin(worker, slug)}${path}`, { body, headers: { 'cf-connecting-ip': nextIp(), ...headers } }),
    patch: (worker: number, slug: string, path: string, body: unknown, token: string) =>
      send(`${stack.origin(worker, slug)}${path}`, { method: 'PATCH', body, headers: bearer(token) }),
    bearer,
  }
}

export function must(reply: Reply, status: number): Reply {
  if (reply.status !== status) throw new Error(`expected HTTP ${status}, got ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`)
  return reply
}

/** Polls `probe` until `done` holds; the time it took in ms, or null past `timeoutMs`. */
export async function until(probe: () => Promise<Reply>, done: (r: Reply) => boolean, timeoutMs: number, intervalMs = 100): Promise<number | null> {
  const started = Date.now()
  for (;;) {
    const reply = await probe().catch(() => null)
    if (reply && done(reply)) return Date.now() - started
    if (Date.now() - started > timeoutMs) return null
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

export async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now()
  const value = await run()
  return { value, ms: Date.now() - started }
}
