import { SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { decodeUrlComponent, jsonIssue, textProblem } from '../src/middleware/text-input/index.ts'
import { adminToken, call, createTenant, type Owner, PLATFORM, signUp } from './support.ts'

const NUL = '\u0000'
const LONE_HIGH = '\ud800'
const LONE_LOW = '\udc00'

/** A raw JSON body: JSON.stringify would escape a lone surrogate as `\ud800` too, but this keeps the escape visible. */
const rawJson = (text: string) => ({ body: text, headers: { 'content-type': 'application/json' } })

function expectRefused(res: { status: number; body: any }, path?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(400)
  expect(res.body.error.code).toBe('validation_failed')
  expect(res.body.error.details[0].code).toBe('invalid_text')
  if (path) expect(res.body.error.details[0].path).toBe(path)
}

describe('the text rule (pure parts)', () => {
  it('finds NUL and unpaired surrogates, and accepts a pair', () => {
    expect(textProblem(`a${NUL}b`)).toMatch(/NUL/)
    expect(textProblem(`a${LONE_HIGH}`)).toMatch(/surrogate/)
    expect(textProblem(`${LONE_LOW}a`)).toMatch(/surrogate/)
    expect(textProblem(`${LONE_HIGH}${LONE_HIGH}\udc00`)).toMatch(/surrogate/)
    expect(textProblem('emoji 😀 and ü')).toBeNull()
  })

  it('decodes percent-encoding strictly', () => {
    expect(decodeUrlComponent('caf%C3%A9')).toBe('café')
    expect(decodeUrlComponent('%ED%A0%80')).toBeNull()
    expect(decodeUrlComponent('%FF')).toBeNull()
    expect(decodeUrlComponent('%C0%80')).toBeNull()
    expect(decodeUrlComponent('100%')).toBe('100%')
    expect(decodeUrlComponent('%00')).toBe(NUL)
  })

  it('walks keys, arrays and depth without recursion', () => {
    expect(jsonIssue({ a: [{ b: `x${NUL}` }] })?.path).toBe('a.0.b')
    expect(jsonIssue({ [`k${LONE_HIGH}`]: 1 })?.message).toMatch(/key/)
    let deep: unknown = 'leaf'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(jsonIssue(deep)?.message).toMatch(/deeper/)
    expect(jsonIssue({ ok: ['fine', 1, null, true, { nested: 'ü😀' }] })).toBeNull()
  })
})

describe('NUL and lone surrogates at the edge', () => {
  let owner: Owner
  beforeAll(async () => {
    owner = await signUp()
  })

  it('refuses them in a JSON body on the platform API (tenant name, settings key)', async () => {
    expectRefused(await call(`${PLATFORM}/v1/tenants`, { token: adminToken(), ...rawJson(`{"slug":"nul-test","name":"Acme\\u0000"}`) }), 'name')
    expectRefused(await call(`${PLATFORM}/v1/tenants`, { token: adminToken(), ...rawJson(`{"slug":"nul-test","name":"Acme","settings":{"x\\ud800":1}}`) }), 'settings.x\ud800')
  })

  it('refuses them in role names and descriptions, and in policy conditions', async () => {
    expectRefused(await call(`${owner.host}/v1/roles`, { token: owner.access_token, ...rawJson(`{"name":"editor","description":"half \\ud800 a pair","permissions":[]}`) }), 'description')
    expectRefused(await call(`${owner.host}/v1/roles`, { token: owner.access_token, body: { name: `edit${NUL}or`, permissions: [] } }), 'name')
    expectRefused(await call(`${owner.host}/v1/resource-types`, { token: owner.access_token, ...rawJson(`{"name":"doc","actions":["read\\udc00"]}`) }), 'actions.0')
  })

  it('refuses them in path ids, raw or percent-encoded, before any lookup', async () => {
    for (const id of ['%00', 'abc%00def', '%ED%A0%80', '%FF', 'x%C0%80']) {
      expectRefused(await call(`${owner.host}/v1/roles/${id}`, { token: owner.access_token }), '(path)')
      expectRefused(await call(`${PLATFORM}/v1/tenants/${id}`, { token: adminToken() }), '(path)')
    }
    expectRefused(await call(`${owner.host}/v1/resource-types/doc%00`, { method: 'DELETE', token: owner.access_token }), '(path)')
  })

  it('refuses them in query filters, names and values', async () => {
    expectRefused(await call(`${owner.host}/v1/audit?actor=%00`, { token: owner.access_token }), 'query.actor')
    expectRefused(await call(`${owner.host}/v1/role-bindings?resource_id=a%ED%B0%80`, { token: owner.access_token }), 'query.resource_id')
    expectRefused(await call(`${owner.host}/v1/members?x%00=1`, { token: owner.access_token }))
    expectRefused(await call(`${PLATFORM}/dev/outbox?to=a%00@example.com`), 'query.to')
  })

  it('refuses them on sign-in before the credential check, and in unauthenticated calls', async () => {
    expectRefused(await call(`${owner.host}/v1/auth/login`, { body: { email: owner.email, password: `x${NUL}` } }), 'password')
    expectRefused(await call(`${owner.host}/v1/auth/password/forgot`, rawJson('{"email":"a\\ud800@example.com"}')), 'email')
  })

  it('refuses a body that is not UTF-8 instead of reading U+FFFD into it', async () => {
    // {"name":"<FF><ED A0 80>"}: a byte that is never UTF-8, then an encoded surrogate.
    const bytes = new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xed, 0xa0, 0x80, 0x22, 0x7d])
    const res = await SELF.fetch(`${owner.host}/v1/roles`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.access_token}` }, body: bytes })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error).toMatchObject({ code: 'malformed_json', message: 'The request body is not valid UTF-8.' })
  })

  it('refuses JSON nested deeper than the limit, as 400 rather than a stack overflow', async () => {
    // Tenant settings keep unknown keys, so only the edge rule stands between this and jsonb.
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const res = await call(`${PLATFORM}/v1/tenants`, { token: adminToken(), ...rawJson(`{"slug":"deep-test","name":"Deep","settings":{"x":${deep}}}`) })
    expectRefused(res)
    expect(res.body.error.message).toMatch(/deeper than 64/)
  })

  it('still accepts well-formed text of every plane', async () => {
    const tenant = await createTenant({ name: 'Café 😀 — ü' })
    expect(tenant.slug).toBeTruthy()
    const res = await call(`${owner.host}/v1/roles`, { token: owner.access_token, body: { name: 'reviewer', description: 'Prüfer 😀 100%', permissions: [] } })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.description).toBe('Prüfer 😀 100%')
    // A literal % that is no escape is kept as text, and an encoded é is fine in a filter.
    expect((await call(`${owner.host}/v1/audit?actor=caf%C3%A9`, { token: owner.access_token })).status).toBe(200)
  })

  it('keeps the answer in the standard error shape with a request id', async () => {
    const res = await SELF.fetch(`${owner.host}/v1/roles/%00`, { headers: { authorization: `Bearer ${owner.access_token}` } })
    expect(res.status).toBe(400)
    expect(res.headers.get('x-request-id')).toBeTruthy()
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown[] } }
    expect(Object.keys(body)).toEqual(['error'])
    expect(body.error.message).toMatch(/NUL/)
  })
})
