import { createScheduledController, env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import worker from '../src/index.ts'
import { schemaNameFor } from '../src/db/tenant-schema.ts'
import { decryptSecret } from '../src/identity/secrets.ts'
import { call, database, decodeJwt, newEmail, type Owner, PASSWORD, patchTenantSettings, PLATFORM, signUp, webhookReceiver } from './support.ts'
import { until } from './webhook-receiver.ts'

const receiver = webhookReceiver()

/** A user who owns a fresh tenant (platform sign-up), with sign-up opened on it so others can join. */
async function owner(settings: Record<string, unknown> = {}): Promise<Owner> {
  const o = await signUp()
  await patchTenantSettings(o.tenant.id, { signup_policy: 'open', ...settings })
  return o
}

/** Sign-up on `o`'s tenant host, whatever its answer. */
async function join(o: Owner, email = newEmail()) {
  const res = await call(`${o.host}/v1/auth/register`, { body: { email, password: PASSWORD } })
  return { ...res, email }
}

async function createWebhook(o: Owner, body: Record<string, unknown>) {
  return call(`${o.host}/v1/webhooks`, { body, token: o.access_token })
}

async function deliveries(o: Owner, webhookId: string) {
  const res = await call(`${o.host}/v1/webhooks/${webhookId}/deliveries`, { token: o.access_token })
  expect(res.status).toBe(200)
  return res.body.data as Array<Record<string, any>>
}

/** The Worker's own Cron Trigger handler, run to completion (it awaits all its work). */
async function runScheduler() {
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }), env)
}

/** Time travel for the retry schedule: make a delivery due now instead of waiting for its backoff. */
async function makeDue(o: Owner, deliveryId: string) {
  await database().execute(sql`update ${sql.identifier(schemaNameFor(o.tenant.id))}.webhook_deliveries set next_attempt_at = now() where id = ${deliveryId}`)
}

// --- A receiver written from docs/api/webhooks.md ("Verifying a delivery") alone. ---------------------
async function receiverVerifies(secret: string, rawBody: string, headers: Headers): Promise<boolean> {
  const timestamp = headers.get('atrium-webhook-timestamp') ?? ''
  const signatureHeader = headers.get('atrium-webhook-signature') ?? ''
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${rawBody}`)))
  const expected = `v1=${Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')}`
  return signatureHeader.split(/[ ,]+/).some((candidate) => {
    if (candidate.length !== expected.length) return false
    let diff = 0
    for (let i = 0; i < expected.length; i++) diff |= candidate.charCodeAt(i) ^ expected.charCodeAt(i)
    return diff === 0
  })
}

describe('webhook endpoints', () => {
  it('creates a webhook whose secret is shown once and stored encrypted, then lists, reads, updates and deletes it', async () => {
    const o = await owner()
    const created = await createWebhook(o, { url: receiver.url('/crud'), events: ['member.joined', 'role.*', 'member.joined'], description: 'CRM sync' })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    expect(created.body).toMatchObject({ url: receiver.url('/crud'), events: ['member.joined', 'role.*'], description: 'CRM sync', enabled: true })
    const id = created.body.id as string

    const list = await call(`${o.host}/v1/webhooks`, { token: o.access_token })
    expect(list.status).toBe(200)
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([id])
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret)
    const one = await call(`${o.host}/v1/webhooks/${id}`, { token: o.access_token })
    expect(one.status).toBe(200)
    expect(one.body).not.toHaveProperty('secret')

    const stored = await database().execute<{ secret_enc: string }>(sql`select secret_enc from ${sql.identifier(schemaNameFor(o.tenant.id))}.webhooks where id = ${id}`)
    const secretEnc = stored.rows[0]!.secret_enc
    expect(secretEnc).toMatch(/^v1\./)
    expect(secretEnc).not.toContain(created.body.secret.slice(6))
    expect(await decryptSecret(env.DATA_ENCRYPTION_KEY as string, secretEnc, `webhook:${id}`)).toBe(created.body.secret)
    await expect(decryptSecret(env.DATA_ENCRYPTION_KEY as string, secretEnc, 'webhook:another-id')).rejects.toThrow()

    const patched = await call(`${o.host}/v1/webhooks/${id}`, { method: 'PATCH', body: { events: ['*'], enabled: false, description: null }, token: o.access_token })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ id, events: ['*'], enabled: false, description: null, url: receiver.url('/crud') })

    const audit = await call(`${o.host}/v1/audit?action=webhook.*`, { token: o.access_token })
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(['webhook.updated', 'webhook.created'])

    expect((await call(`${o.host}/v1/webhooks/${id}`, { method: 'DELETE', token: o.access_token })).status).toBe(204)
    expect((await call(`${o.host}/v1/webhooks/${id}`, { token: o.access_token })).status).toBe(404)
    expect((await call(`${o.host}/v1/webhooks/${id}`, { method: 'DELETE', token: o.access_token })).status).toBe(404)
    expect((await call(`${o.host}/v1/webhooks/${id}`, { method: 'PATCH', body: { enabled: true }, token: o.access_token })).status).toBe(404)
  })

  it('pages the list newest first and caps the number of webhooks per tenant', async () => {
    const o = await owner()
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await createWebhook(o, { url: receiver.url(`/cap/${i}`), events: ['*'] })).body.id)
    const over = await createWebhook(o, { url: receiver.url('/cap/21'), events: ['*'] })
    expect(over.status).toBe(409)
    expect(over.body.error.code).toBe('webhook_limit_reached')
    const first = await call(`${o.host}/v1/webhooks?limit=15`, { token: o.access_token })
    expect(first.body.data).toHaveLength(15)
    const second = await call(`${o.host}/v1/webhooks?limit=15&cursor=${first.body.next_cursor}`, { token: o.access_token })
    expect(second.body.next_cursor).toBeNull()
    expect([...first.body.data, ...second.body.data].map((w: { id: string }) => w.id)).toEqual([...ids].reverse())
  })

  it('refuses invalid input with a clear 400', async () => {
    const o = await owner()
    const refused = async (body: unknown, code: string) => {
      const res = await createWebhook(o, body as Record<string, unknown>)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code, JSON.stringify(body)).toBe(code)
      return res
    }
    expect((await refused({ url: 'ftp://hooks.example.com/x', events: ['*'] }, 'invalid_webhook_url')).body.error.message).toMatch(/http or https/)
    await refused({ url: 'not a url', events: ['*'] }, 'invalid_webhook_url')
    await refused({ url: 'https://user:pw@hooks.example.com/', events: ['*'] }, 'invalid_webhook_url')
    expect((await refused({ url: receiver.url('/x'), events: ['member.exploded'] }, 'validation_failed')).body.error.message).toMatch(/member\.exploded/)
    await refused({ url: receiver.url('/x'), events: [] }, 'validation_failed')
    await refused({ url: receiver.url('/x'), events: ['webhook.test'] }, 'validation_failed')
    await refused({ url: receiver.url('/x') }, 'validation_failed')
    await refused({ url: receiver.url('/x'), events: ['*'], secret: 'mine' }, 'validation_failed')
    const { body } = await createWebhook(o, { url: receiver.url('/x'), events: ['*'] })
    const patch = (b: unknown) => call(`${o.host}/v1/webhooks/${body.id}`, { method: 'PATCH', body: b, token: o.access_token })
    expect((await patch({})).status).toBe(400)
    expect((await patch({ url: 'gopher://x' })).body.error.code).toBe('invalid_webhook_url')
    expect((await patch({ enabled: 'yes' })).status).toBe(400)
    expect((await call(`${o.host}/v1/webhooks/not-a-uuid`, { token: o.access_token })).status).toBe(400)
    expect((await call(`${o.host}/v1/webhooks/${body.id}/deliveries?status=lost`, { token: o.access_token })).status).toBe(400)
  })

  it('answers 401 without a token and 403 permission_denied to a member without the webhooks permissions', async () => {
    const o = await owner()
    const { body } = await createWebhook(o, { url: receiver.url('/authz'), events: ['*'] })
    for (const [method, path] of [['GET', ''], ['POST', ''], ['GET', `/${body.id}`], ['PATCH', `/${body.id}`], ['DELETE', `/${body.id}`], ['POST', `/${body.id}/test`], ['GET', `/${body.id}/deliveries`]]) {
      const res = await call(`${o.host}/v1/webhooks${path}`, { method, body: method === 'GET' || method === 'DELETE' ? undefined : { enabled: true } })
      expect(res.status, `${method} ${path}`).toBe(401)
    }
    const member = await join(o)
    expect(member.status).toBe(201)
    const asMember = await call(`${o.host}/v1/webhooks`, { token: member.body.access_token })
    expect(asMember.status).toBe(403)
    expect(asMember.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'webhooks:read' } })
    expect((await createWebhook({ ...o, access_token: member.body.access_token }, { url: receiver.url('/m'), events: ['*'] })).status).toBe(403)
    expect((await call(`${o.host}/v1/webhooks/${body.id}/test`, { method: 'POST', token: member.body.access_token })).status).toBe(403)
  })

  it("keeps each tenant's webhooks and deliveries to itself", async () => {
    const a = await owner()
    const b = await owner()
    const hook = (await createWebhook(a, { url: receiver.url('/tenant-a'), events: ['*'] })).body
    receiver.program('/tenant-a', 500)
    const test = await call(`${a.host}/v1/webhooks/${hook.id}/test`, { method: 'POST', token: a.access_token })
    const deliveryId = test.body.delivery.id as string
    // A's token is refused on B's host…
    expect((await call(`${b.host}/v1/webhooks`, { token: a.access_token })).status).toBe(401)
    // …and B's admin on B's host cannot reach A's webhook or its deliveries by id.
    expect((await call(`${b.host}/v1/webhooks`, { token: b.access_token })).body.data).toEqual([])
    expect((await call(`${b.host}/v1/webhooks/${hook.id}`, { token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/webhooks/${hook.id}`, { method: 'PATCH', body: { url: receiver.url('/stolen') }, token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/webhooks/${hook.id}/test`, { method: 'POST', token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/webhooks/${hook.id}/deliveries`, { token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/webhooks/${hook.id}/deliveries/${deliveryId}/retry`, { method: 'POST', token: b.access_token })).status).toBe(404)
    expect((await call(`${b.host}/v1/webhooks/${hook.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
    // Nothing moved in A.
    const still = await call(`${a.host}/v1/webhooks/${hook.id}`, { token: a.access_token })
    expect(still.body.url).toBe(receiver.url('/tenant-a'))
    expect((await deliveries(a, hook.id)).map((d) => d.attempts)).toEqual([1])
  })
})

describe('webhook delivery', () => {
  it('signs each delivery so that a receiver written from the documentation verifies it', async () => {
    const o = await owner()
    const { body: hook } = await createWebhook(o, { url: receiver.url('/signed'), events: ['member.*'] })
    const test = await call(`${o.host}/v1/webhooks/${hook.id}/test`, { method: 'POST', token: o.access_token })
    expect(test.status).toBe(200)
    expect(test.body).toMatchObject({ delivered: true, status_code: 200, error: null, delivery: { status: 'delivered', attempts: 1, event_type: 'webhook.test' } })

    const joined = await join(o)
    const [testRequest, joinRequest] = await until('two deliveries', async () => {
      const got = receiver.requestsTo('/signed')
      return got.length >= 2 && got
    })
    for (const req of [testRequest!, joinRequest!]) {
      expect(req.headers.get('content-type')).toBe('application/json')
      expect(await receiverVerifies(hook.secret, req.body, req.headers)).toBe(true)
      expect(await receiverVerifies(hook.secret, req.body.replace('"data"', '"data" '), req.headers)).toBe(false)
      expect(await receiverVerifies(`${hook.secret}x`, req.body, req.headers)).toBe(false)
    }
    const envelope = JSON.parse(joinRequest!.body)
    expect(envelope).toEqual({
      id: joinRequest!.headers.get('atrium-webhook-id'),
      type: 'member.joined',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      tenant_id: o.tenant.id,
      actor: { type: 'user', id: joined.body.user.id },
      data: { user_id: joined.body.user.id, email: joined.email, role: 'member', via: 'signup' },
    })
    expect(JSON.parse(testRequest!.body)).toMatchObject({ type: 'webhook.test', data: { webhook_id: hook.id } })
  })

  it('retries a delivery that fails twice with growing delays, then records it delivered', async () => {
    const o = await owner()
    const { body: hook } = await createWebhook(o, { url: receiver.url('/flaky'), events: ['member.joined'] })
    receiver.program('/flaky', 503, 'network-error', 200)

    expect((await join(o)).status).toBe(201)
    // First attempt: right after the answer (waitUntil).
    const first = await until('the first attempt', async () => (await deliveries(o, hook.id)).find((d) => d.last_error))
    expect(first).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, last_error: 'unexpected status 503' })
    const wait1 = (Date.parse(first.next_attempt_at) - Date.now()) / 1000
    expect(wait1).toBeGreaterThan(20)
    expect(wait1).toBeLessThanOrEqual(36)

    // Not due yet: the scheduler leaves it alone.
    await runScheduler()
    expect(receiver.requestsTo('/flaky')).toHaveLength(1)

    await makeDue(o, first.id)
    await runScheduler()
    const second = (await deliveries(o, hook.id))[0]!
    expect(second).toMatchObject({ status: 'pending', attempts: 2, last_status_code: null, last_error: expect.stringMatching(/^network error/) })
    const wait2 = (Date.parse(second.next_attempt_at) - Date.now()) / 1000
    expect(wait2).toBeGreaterThan(45)
    expect(wait2).toBeLessThanOrEqual(72)

    await makeDue(o, first.id)
    await runScheduler()
    const third = (await deliveries(o, hook.id))[0]!
    expect(third).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, last_error: null, next_attempt_at: null })
    expect(third.delivered_at).toBeTruthy()

    const sent = receiver.requestsTo('/flaky')
    expect(sent).toHaveLength(3)
    expect(new Set(sent.map((r) => r.headers.get('atrium-webhook-id'))).size).toBe(1)
    expect(new Set(sent.map((r) => r.body)).size).toBe(1)
    for (const r of sent) expect(await receiverVerifies(hook.secret, r.body, r.headers)).toBe(true)

    // Delivered means done: later runs send nothing more.
    await makeDue(o, first.id)
    await runScheduler()
    expect(receiver.requestsTo('/flaky')).toHaveLength(3)
  })

  it('gives up after the 8th failed attempt, and a manual retry sends it again', async () => {
    const o = await owner()
    const { body: hook } = await createWebhook(o, { url: receiver.url('/dead'), events: ['member.joined'] })
    receiver.program('/dead', 500, 500, 200)
    await join(o)
    const first = await until('the first attempt', async () => (await deliveries(o, hook.id)).find((d) => d.attempts === 1 && d.last_status_code))
    await database().execute(sql`update ${sql.identifier(schemaNameFor(o.tenant.id))}.webhook_deliveries set attempts = 7, next_attempt_at = now() where id = ${first.id}`)
    await runScheduler()
    const failed = (await deliveries(o, hook.id))[0]!
    expect(failed).toMatchObject({ status: 'failed', attempts: 8, last_status_code: 500, next_attempt_at: null })
    expect((await call(`${o.host}/v1/webhooks/${hook.id}/deliveries?status=failed`, { token: o.access_token })).body.data).toHaveLength(1)
    expect((await call(`${o.host}/v1/webhooks/${hook.id}/deliveries?status=pending`, { token: o.access_token })).body.data).toHaveLength(0)

    await makeDue(o, first.id)
    await runScheduler()
    expect(receiver.requestsTo('/dead')).toHaveLength(2)

    const retried = await call(`${o.host}/v1/webhooks/${hook.id}/deliveries/${first.id}/retry`, { method: 'POST', token: o.access_token })
    expect(retried.status).toBe(200)
    expect(retried.body).toMatchObject({ delivered: true, status_code: 200, delivery: { id: first.id, status: 'delivered', attempts: 9 } })
    expect((await call(`${o.host}/v1/webhooks/${hook.id}/deliveries/${crypto.randomUUID()}/retry`, { method: 'POST', token: o.access_token })).status).toBe(404)
  })

  it('never lets two scheduler runs send the same attempt', async () => {
    const o = await owner()
    const { body: hook } = await createWebhook(o, { url: receiver.url('/once'), events: ['member.joined'] })
    receiver.program('/once', 500)
    await join(o)
    const first = await until('the first attempt', async () => (await deliveries(o, hook.id)).find((d) => d.last_status_code))
    await makeDue(o, first.id)
    await Promise.all([runScheduler(), runScheduler(), runScheduler()])
    expect(receiver.requestsTo('/once')).toHaveLength(2)
    expect((await deliveries(o, hook.id))[0]).toMatchObject({ status: 'delivered', attempts: 2 })
  })

  it('answers the outcome of a failed test delivery and keeps it for retry', async () => {
    const o = await owner()
    const { body: hook } = await createWebhook(o, { url: receiver.url('/test-fail'), events: ['user.login'] })
    receiver.program('/test-fail', 418)
    const res = await call(`${o.host}/v1/webhooks/${hook.id}/test`, { method: 'POST', token: o.access_token })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ delivered: false, status_code: 418, error: 'unexpected status 418', delivery: { status: 'pending', attempts: 1, event_type: 'webhook.test' } })
    expect(res.body.delivery.next_attempt_at).toBeTruthy()
    expect((await call(`${o.host}/v1/webhooks/${crypto.randomUUID()}/test`, { method: 'POST', token: o.access_token })).status).toBe(404)
  })

  it('sends nothing to a disabled webhook nor for events it does not subscribe to', async () => {
    const o = await owner()
    const { body: off } = await createWebhook(o, { url: receiver.url('/off'), events: ['*'] })
    await call(`${o.host}/v1/webhooks/${off.id}`, { method: 'PATCH', body: { enabled: false }, token: o.access_token })
    const { body: other } = await createWebhook(o, { url: receiver.url('/roles-only'), events: ['role.*', 'api_key.created'] })
    const { body: on } = await createWebhook(o, { url: receiver.url('/members'), events: ['member.*'] })
    await join(o)
    await until('the subscribed delivery', async () => receiver.requestsTo('/members').length === 1)
    expect(await deliveries(o, off.id)).toEqual([])
    expect(await deliveries(o, other.id)).toEqual([])
    expect(await deliveries(o, on.id)).toHaveLength(1)
    expect(receiver.requestsTo('/off')).toHaveLength(0)
    expect(receiver.requestsTo('/roles-only')).toHaveLength(0)
  })
})

describe('events in the outbox', () => {
  const events = async (o: Owner, type: string) =>
    (await database().execute<{ id: string; payload: Record<string, unknown> }>(sql`select id, payload from ${sql.identifier(schemaNameFor(o.tenant.id))}.webhook_events where type = ${type} order by id`)).rows

  it('writes member.joined in the same batch as the membership, with its delivery', async () => {
    const o = await owner()
    // No subscriber yet: nothing is written at all.
    const early = await join(o)
    expect(early.status).toBe(201)
    expect(await events(o, 'member.joined')).toEqual([])

    const { body: hook } = await createWebhook(o, { url: receiver.url('/outbox'), events: ['member.joined'] })
    const joined = await join(o)
    const rows = await events(o, 'member.joined')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.payload).toEqual({ user_id: joined.body.user.id, email: joined.email, role: 'member', via: 'signup' })
    const member = await database().execute(sql`select 1 from ${sql.identifier(schemaNameFor(o.tenant.id))}.members where user_id = ${joined.body.user.id}`)
    expect(member.rows).toHaveLength(1)
    const d = await database().execute<{ webhook_id: string }>(sql`select webhook_id from ${sql.identifier(schemaNameFor(o.tenant.id))}.webhook_deliveries where event_id = ${rows[0]!.id}`)
    expect(d.rows.map((r) => r.webhook_id)).toEqual([hook.id])

    // A refused sign-up (already a member) changes nothing and emits nothing.
    expect((await join(o, joined.email)).status).toBe(409)
    expect(await events(o, 'member.joined')).toHaveLength(1)
  })

  it('writes user.login with the session it opened, only on success', async () => {
    const o = await owner()
    await createWebhook(o, { url: receiver.url('/logins'), events: ['user.*'] })
    const joined = await join(o)
    const wrong = await call(`${o.host}/v1/auth/login`, { body: { email: joined.email, password: 'not the password' } })
    expect(wrong.status).toBe(401)
    expect(await events(o, 'user.login')).toEqual([])
    const ok = await call(`${o.host}/v1/auth/login`, { body: { email: joined.email, password: PASSWORD } })
    expect(ok.status).toBe(200)
    const sid = decodeJwt(ok.body.access_token).payload.sid
    const rows = await events(o, 'user.login')
    expect(rows.map((r) => r.payload)).toEqual([{ user_id: joined.body.user.id, session_id: sid, mfa: false }])
  })

  it('writes user.locked when a member is locked out, and not for an address with no membership', async () => {
    const o = await owner({ lockout: { max_attempts: 2, base_seconds: 30, max_seconds: 600 } })
    await createWebhook(o, { url: receiver.url('/locks'), events: ['user.locked'] })
    const joined = await join(o)
    const login = (email: string) => call(`${o.host}/v1/auth/login`, { body: { email, password: 'wrong wrong wrong' } })
    expect((await login(joined.email)).status).toBe(401)
    expect((await login(joined.email)).status).toBe(429)
    const stranger = `${crypto.randomUUID()}@example.com`
    expect((await login(stranger)).status).toBe(401)
    expect((await login(stranger)).status).toBe(429)
    // An account that exists on the platform but is not a member here: locked alike, not reported to this tenant.
    const outsider = `${crypto.randomUUID()}@example.com`
    expect((await call(`${PLATFORM}/v1/auth/register`, { body: { email: outsider, password: PASSWORD } })).status).toBe(201)
    expect((await login(outsider)).status).toBe(401)
    expect((await login(outsider)).status).toBe(429)
    const rows = await events(o, 'user.locked')
    expect(rows.map((r) => r.payload)).toEqual([{ user_id: joined.body.user.id, email: joined.email, lock_seconds: 30 }])
    await until('the lock delivery', async () => receiver.requestsTo('/locks').length === 1)
  })

  it('never blocks nor fails the triggering request when the receiver hangs or is unreachable', async () => {
    const o = await owner()
    const { body: hanging } = await createWebhook(o, { url: receiver.url('/hang'), events: ['member.joined'] })
    const { body: down } = await createWebhook(o, { url: receiver.url('/down'), events: ['member.joined'] })
    const release = receiver.hang('/hang')
    receiver.program('/down', 'network-error')

    const started = Date.now()
    const joined = await join(o)
    expect(joined.status).toBe(201)
    expect(Date.now() - started).toBeLessThan(3000)
    await until('the hanging request to arrive', async () => receiver.requestsTo('/hang').length === 1)
    // The user is in, whatever the receivers do.
    expect((await call(`${o.host}/v1/me`, { token: joined.body.access_token })).status).toBe(200)

    const downRow = await until('the unreachable attempt', async () => (await deliveries(o, down.id)).find((d) => d.attempts === 1 && d.last_error))
    expect(downRow).toMatchObject({ status: 'pending', last_status_code: null, last_error: expect.stringMatching(/^network error/) })
    expect((await deliveries(o, hanging.id))[0]).toMatchObject({ status: 'pending', attempts: 1, last_error: null })
    release(200)
    await until('the hanging attempt to finish', async () => (await deliveries(o, hanging.id))[0]!.status === 'delivered')
  })
})
