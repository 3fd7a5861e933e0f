import { env, SELF } from 'cloudflare:test'
import { Redis } from '@upstash/redis/cloudflare'
import { eq } from 'drizzle-orm'
import { sign } from 'hono/jwt'
import { Secret, TOTP } from 'otpauth'
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest'
import { memberships } from '../src/db/public-schema.ts'
import { schemaNameFor, tenantTables } from '../src/db/tenant-schema.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { signingKeys } from '../src/platform/signing-keys.ts'
import { loadTenantKeys, tenantAudience } from '../src/tenancy/signing-keys.ts'
import { FakeProviders } from './oauth-providers.ts'
import { until, WebhookReceiver, type Envelope } from './webhook-receiver.ts'

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

function requestFor(url: string, options: CallOptions): Request {
  const headers = new Headers(options.headers)
  // Each call comes from its own client address unless a test names one: per-IP limits (credential
  // throttling) are tested explicitly, and must not couple unrelated tests through a shared address.
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', randomClientIp())
  if (options.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json')
  if (options.token) headers.set('authorization', `Bearer ${options.token}`)
  return new Request(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  })
}

/** An answer's body: its JSON, or its text when it is not JSON, or undefined when empty. */
export async function readBody(res: Response): Promise<any> {
  const text = await res.text()
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return text
  }
}

/** A request through the real Worker (SELF), JSON in and out. */
export async function call(url: string, options: CallOptions = {}) {
  const res = await SELF.fetch(requestFor(url, options))
  return { status: res.status, headers: res.headers, body: await readBody(res) }
}

/**
 * The same request through a Worker built with some bindings overridden (each env object gets its
 * own parsed configuration): short deadlines, another mail transport, APP_URL… Work left for after
 * the answer (waitUntil, e.g. the mail) is awaited before this returns.
 */
export async function withEnv(overrides: Record<string, string>, url: string, options: CallOptions = {}) {
  const { createApp } = await import('../src/app.ts')
  const pending: Promise<unknown>[] = []
  const ctx = { waitUntil: (work: Promise<unknown>) => void pending.push(work), passThroughOnException() {}, props: {} } as unknown as ExecutionContext
  const res = await createApp().fetch(requestFor(url, options), { ...env, ...overrides }, ctx)
  const body = await readBody(res)
  await Promise.allSettled(pending)
  return { status: res.status, headers: res.headers, body }
}

/*
 * Accounts, built through the public API as a client would: an owner (a new account owns its
 * personal tenant), members with a role (through an invitation), custom roles and API keys.
 */

export const PASSWORD = 'correct horse battery'
/** An address no other test uses. */
export const newEmail = (domain = 'example.com') => `${crypto.randomUUID()}@${domain}`

export interface Account {
  email: string
  user: { id: string }
  access_token: string
  refresh_token: string
}

export interface Owner extends Account {
  tenant: { id: string; slug: string }
  host: string
}

/** A new account on the platform host, signed in: it owns its personal tenant (named after `name`, "Owner's workspace"). */
export async function signUp({ email = newEmail(), name = 'Owner' }: { email?: string; name?: string } = {}): Promise<Owner> {
  const res = await call(`${PLATFORM}/v1/auth/register`, { body: { email, password: PASSWORD, name } })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { ...res.body, email, host: tenantOrigin(res.body.tenant.slug) }
}

/** A tenant anyone may sign up to (`signup_policy: open`), with more settings if given. */
export const openTenant = (settings: Record<string, unknown> = {}) => createTenant({ settings: { signup_policy: 'open', ...settings } })

/** A new account signed up on `tenant`'s host (open sign-up), or an existing one (`email`) that joins it with its password. */
export async function join(tenant: { slug: string }, email = newEmail()): Promise<Account> {
  const res = await call(`${tenantOrigin(tenant.slug)}/v1/auth/register`, { body: { email, password: PASSWORD } })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { ...res.body, email }
}

/** A new open tenant with `settings`, its host, and a new account that signed up there. */
export async function memberOfOpenTenant(settings: Record<string, unknown> = {}) {
  const tenant = await openTenant(settings)
  const account = await join(tenant)
  return { tenant, host: tenantOrigin(tenant.slug), account }
}

export async function invite(host: string, token: string, email: string, role = 'member') {
  const res = await call(`${host}/v1/invitations`, { body: { email, role }, token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { invitation: res.body as { id: string; email: string; role: string }, ...(await mailedLink(email, '/accept-invitation')) }
}

/** A new account that joins `owner`'s tenant with `role`, through an invitation. */
export async function addMember(owner: Owner, role = 'member'): Promise<Account> {
  const email = newEmail()
  const { token } = await invite(owner.host, owner.access_token, email, role)
  const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD, name: `A ${role}` } })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return { ...res.body, email }
}

export const tablesOf = (tenantId: string) => tenantTables(schemaNameFor(tenantId))

/** The tenant's audit actions, oldest first. */
export async function auditActions(tenantId: string): Promise<{ action: string; actorId: string | null; targetId: string | null; details: Record<string, unknown> }[]> {
  const log = tablesOf(tenantId).auditLog
  return database().select({ action: log.action, actorId: log.actorId, targetId: log.targetId, details: log.details }).from(log).orderBy(log.id)
}

export async function publicRole(tenantId: string, userId: string): Promise<string | undefined> {
  const rows = await database().select({ role: memberships.role, tenantId: memberships.tenantId }).from(memberships).where(eq(memberships.userId, userId))
  return rows.find((r) => r.tenantId === tenantId)?.role
}

/** The tenant's audit entries with the actor's type (user or api_key), oldest first. */
export async function auditEntries(tenantId: string) {
  const log = tablesOf(tenantId).auditLog
  return database().select({ action: log.action, actorType: log.actorType, actorId: log.actorId, targetId: log.targetId, details: log.details }).from(log).orderBy(log.id)
}

/** A custom role, through POST /v1/roles. */
export async function customRole(o: Owner, name: string, permissions: string[]) {
  const res = await call(`${o.host}/v1/roles`, { body: { name, permissions }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

export interface ApiKeyAccount {
  id: string
  secret: string
  /** Headers that authenticate as the key. */
  headers: Record<string, string>
}

/** An API key of `o`'s tenant holding `roles`, created by its owner through POST /v1/api-keys. */
export async function apiKey(o: Owner, roles: string[]): Promise<ApiKeyAccount> {
  const res = await call(`${o.host}/v1/api-keys`, { body: { name: `key ${roles.join(' ')}`, roles }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { id: res.body.id, secret: res.body.secret, headers: { 'x-api-key': res.body.secret } }
}

/*
 * Two-factor authentication: the codes an authenticator app shows, TOTP turned on through the API,
 * and a clock moved a step at a time for the tests that need to know which step a code is for.
 */

export const TOTP_STEP_MS = 30_000

/** The code an authenticator app shows for `secret` at `at` (ms since the epoch; now by default). */
export const totpCode = (secret: string, at = Date.now()) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at })

/** TOTP turned on for `a`: enrolled, and confirmed with the code of `at` (now by default). Answers its secret and backup codes. */
export async function enableTotp(a: { host: string; access_token: string }, at = Date.now()) {
  const started = await call(`${a.host}/v1/me/mfa/totp`, { method: 'POST', token: a.access_token })
  expect(started.status, JSON.stringify(started.body)).toBe(201)
  const secret = started.body.secret as string
  const confirmed = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: totpCode(secret, at) }, token: a.access_token })
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200)
  return { secret, backupCodes: confirmed.body.backup_codes as string[] }
}

/** The MFA challenge a password sign-in of `a` on its host answers when TOTP is on. */
export async function mfaToken(a: { host: string; email: string }): Promise<string> {
  const res = await call(`${a.host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  expect(res.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) })
  return res.body.mfa_token
}

/**
 * A fixed clock for every test of the enclosing file or describe block: only Date is faked (the
 * Worker runs in this isolate, so it reads the same clock), set in the middle of a 30-second step
 * and moved a whole step at a time, so codes are computed for known steps and no test depends on
 * when it happens to run.
 */
export function totpClock() {
  let now = 0
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    now = Math.floor(Date.now() / TOTP_STEP_MS) * TOTP_STEP_MS + TOTP_STEP_MS / 2
    vi.setSystemTime(now)
  })
  afterEach(() => {
    vi.useRealTimers()
  })
  const step = () => Math.floor(now / TOTP_STEP_MS)
  /** The code an authenticator app shows for a step. */
  const codeAt = (secret: string, at: number) => totpCode(secret, at * TOTP_STEP_MS)
  return {
    step,
    codeAt,
    advanceSteps(n: number) {
      now += n * TOTP_STEP_MS
      vi.setSystemTime(now)
    },
    /** Whether a code is accepted in the current window (the step before, this step, the step after). */
    inWindow: (secret: string, code: string) => [step() - 1, step(), step() + 1].some((s) => codeAt(secret, s) === code),
  }
}

export const adminToken = () => env.PLATFORM_ADMIN_TOKEN as string

export async function createTenant(input: { slug?: string; name?: string; plan?: string; settings?: Record<string, unknown> } = {}) {
  const slug = input.slug ?? uniqueSlug()
  const res = await call(`${PLATFORM}/v1/tenants`, { body: { name: `Tenant ${slug}`, ...input, slug }, token: adminToken() })
  if (res.status !== 201) throw new Error(`createTenant failed: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: string; slug: string; schema_name: string; status: string; settings: Record<string, unknown> }
}

/** Change a tenant's settings as the platform admin (PATCH /v1/tenants/{id}). */
export async function patchTenantSettings(id: string, settings: Record<string, unknown>) {
  const res = await call(`${PLATFORM}/v1/tenants/${id}`, { method: 'PATCH', body: { settings }, token: adminToken() })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

export async function tenantAction(id: string, action: 'suspend' | 'resume' | 'purge') {
  return call(`${PLATFORM}/v1/tenants/${id}/${action}`, { method: 'POST', token: adminToken() })
}

/** The database the Worker uses (the local SQL endpoint), for what the API does not show. */
export const database = () => connectDatabase(env.DATABASE_URL as string, env.NEON_FETCH_ENDPOINT as string)

/** The header and claims of a JWT, unverified (what a client could read of it). */
export function decodeJwt(token: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))))
  return { header, payload }
}

/** The Redis the Worker uses (the local Redis endpoint), for what the API does not show. */
export const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL as string, token: env.UPSTASH_REDIS_REST_TOKEN as string, enableTelemetry: false })

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
  const keys = await loadTenantKeys({ db: database(), dataKey: env.DATA_ENCRYPTION_KEY as string }, { id: tenant.id, schemaName: schemaNameFor(tenant.id) })
  const now = Math.floor(Date.now() / 1000)
  const standard = { iss: tenantOrigin(tenant.slug), aud: tenantAudience(tenant.id), tid: tenant.id, iat: now, exp: now + 300, jti: crypto.randomUUID() }
  return sign({ ...standard, ...claims }, keys.signer, 'ES512')
}

/*
 * Webhook events: a tenant's receiver (test/webhook-receiver.ts) subscribed through the API, and
 * the tenant's outbox, where each event is written in the same batch as its change.
 */

/** A webhook receiver for the tests of the enclosing file or describe block: started before them, stopped after. */
export function webhookReceiver(): WebhookReceiver {
  const receiver = new WebhookReceiver()
  beforeAll(() => receiver.start())
  afterAll(() => receiver.stop())
  return receiver
}

/** The OAuth providers' stand-ins (test/oauth-providers.ts) for the tests of the enclosing file or describe block. */
export function fakeProviders(): FakeProviders {
  const fake = new FakeProviders()
  beforeAll(() => fake.install())
  afterAll(() => fake.uninstall())
  return fake
}

/** Subscribe `receiver`'s `path` to `events` on `o`'s tenant; answers a function giving the envelopes received there so far. */
export async function subscribe(receiver: WebhookReceiver, o: Owner, path: string, events: string[]) {
  const res = await call(`${o.host}/v1/webhooks`, { body: { url: receiver.url(path), events }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return () => receiver.envelopes(path)
}

/** Wait until `count` envelopes of `type` have arrived (deliveries run after the answer); answers them. */
export const received = (got: () => Envelope[], type: string, count = 1) =>
  until(`${count} ${type}`, () => {
    const matching = got().filter((e) => e.type === type)
    return matching.length >= count && matching
  })

/** The events of `type` in the tenant's outbox. */
export async function outboxEvents(o: { tenant: { id: string } }, type: string) {
  const events = tablesOf(o.tenant.id).webhookEvents
  return database().select().from(events).where(eq(events.type, type))
}

type Endpoint = 'sql' | 'redis'
const controlBase = (which: Endpoint) =>
  which === 'sql' ? new URL(env.NEON_FETCH_ENDPOINT as string).origin : (env.UPSTASH_REDIS_REST_URL as string)

/** Make a local endpoint fail or slow down (see local/*: POST /__atrium/faults). */
export async function faults(which: Endpoint, body: { mode: 'off' | 'fail' | 'delay' | 'drop'; status?: number; delayMs?: number; count?: number; after?: number }) {
  const res = await fetch(`${controlBase(which)}/__atrium/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`fault control failed: ${res.status}`)
}

/** Every test of the file (or describe block) ends with both endpoints healthy again, whatever it injected. */
export function healEndpointsAfterEach() {
  afterEach(async () => {
    await faults('sql', { mode: 'off' })
    await faults('redis', { mode: 'off' })
  })
}

/** An outage answered as one: 503 with its stable code (database_unavailable, cache_unavailable), and Retry-After when given. */
export function expectOutage(res: { status: number; headers: Headers; body: any }, code: 'database_unavailable' | 'cache_unavailable', retryAfter?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(503)
  expect(res.body.error.code).toBe(code)
  if (retryAfter !== undefined) expect(res.headers.get('retry-after')).toBe(retryAfter)
}

type Check = 'up' | 'slow' | 'down'

/** A GET /health answer: its status code, its overall status, and the checks named (each dependency's up, slow or down). */
export function expectHealth(res: { status: number; body: any }, expected: { status: number; overall: 'ok' | 'degraded'; database?: Check; redis?: Check }) {
  expect(res.status, JSON.stringify(res.body)).toBe(expected.status)
  expect(res.body.status).toBe(expected.overall)
  if (expected.database) expect(res.body.checks.database.status).toBe(expected.database)
  if (expected.redis) expect(res.body.checks.redis.status).toBe(expected.redis)
}

export async function endpointRequests(which: Endpoint): Promise<number> {
  const res = await fetch(`${controlBase(which)}/__atrium/stats`)
  return ((await res.json()) as { requests: number }).requests
}

export async function resetEndpointStats(which: Endpoint) {
  await fetch(`${controlBase(which)}/__atrium/stats/reset`, { method: 'POST' })
}

/** `a`'s address verified, through the link mailed by POST /v1/auth/verify-email/request. */
export async function verifyEmail(a: { host: string; email: string; access_token: string }) {
  expect((await call(`${a.host}/v1/auth/verify-email/request`, { method: 'POST', token: a.access_token })).status).toBe(202)
  const { token } = await mailedLink(a.email, '/verify-email')
  expect((await call(`${a.host}/v1/auth/verify-email/confirm`, { body: { token } })).status).toBe(200)
}

/** A mail in the development outbox (MAIL_TRANSPORT=outbox). */
export interface Mail {
  to: string
  subject: string
  text: string
  html: string
}

/** The mail sent to `to`, newest first (GET /dev/outbox). */
export async function mailsTo(to: string): Promise<Mail[]> {
  const res = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent(to)}`)
  expect(res.status).toBe(200)
  return res.body.messages
}

/** Mail sent after the answer (waitUntil) arrives a little later: wait for the `count`-th message to `to`, and answer the newest. */
export async function waitForMail(to: string, count = 1): Promise<Mail> {
  for (let i = 0; i < 100; i++) {
    const messages = await mailsTo(to)
    if (messages.length >= count) return messages[0]!
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no mail #${count} for ${to}`)
}

/** The newest link to `path` (e.g. `/reset-password`) mailed to `to`, and the token in its fragment. */
export async function mailedLink(to: string, path: string): Promise<{ url: URL; token: string }> {
  const [mail] = await mailsTo(to)
  if (!mail) throw new Error(`no mail to ${to}`)
  const href = mail.text.match(new RegExp(`https?://\\S+${path}#token=[A-Za-z0-9_-]+`))?.[0]
  if (!href) throw new Error(`no ${path} link in the mail to ${to}: ${mail.text}`)
  const url = new URL(href)
  return { url, token: new URLSearchParams(url.hash.slice(1)).get('token')! }
}
