import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { apiKey, call, type Owner, PLATFORM, signUp } from './support.ts'
import { exampleOf, loadOpenApi, operationsOf, pool, resolve, send, signIn, type OpenApiDocument, type Operation } from './probe-support.ts'

/**
 * Schema-driven fuzz of every operation of /openapi.json, signed in with the strongest credential
 * of the route (the tenant owner, or the platform admin), so the malformed values reach as deep as
 * validation lets them: each path parameter, each query parameter and each body property in turn
 * gets NUL, lone surrogates, invalid UTF-8, huge, negative and fractional numbers, wrong types,
 * deep nesting and long strings; whole bodies of the wrong type, nested 10,000 deep, or above the
 * size limit. Expected: no 5xx anywhere.
 */

/** Per-operation timing on the console, to find slow or failing routes. */
const TRACE = false
const LONG = 'x'.repeat(70_000)
let deep: unknown = 'leaf'
for (let i = 0; i < 200; i++) deep = { a: deep }

/** Replacement values for one field of a JSON body. */
const BAD_VALUES: unknown[] = ['a\u0000b', '\ud800', LONG, '', -1, 2 ** 53 + 1, 1e308, true, null, [], deep]

/** Raw replacements for one path segment or query value (already percent-encoded where needed). */
const BAD_URL_VALUES = ['%00', '%ED%A0%80', '%FF', '-1', '99999999999999999999999', encodeURIComponent(LONG.slice(0, 4000))]

describe('schema-driven fuzz of /openapi.json', () => {
  let doc: OpenApiDocument
  let ops: Operation[]
  let owner: Owner
  let ownerKey: string

  beforeAll(async () => {
    doc = await loadOpenApi()
    ops = operationsOf(doc)
    owner = await signUp()
    await call(`${owner.host}/v1/resource-types`, { body: { name: 'invoice', actions: ['read', 'pay'] }, token: owner.access_token })
    await call(`${owner.host}/v1/roles`, { body: { name: 'payer', permissions: ['invoice:pay'] }, token: owner.access_token })
    ownerKey = (await apiKey(owner, ['admin'])).secret
  })

  it('answers no 5xx to malformed values anywhere', async () => {
    expect(ops.length).toBeGreaterThan(40)
    const failures: string[] = []
    let requests = 0
    const bodyLimit = 1024 * 1024

    const started = Date.now()
    for (const op of ops) {
      const opStarted = Date.now()
      // A fresh sign-in per operation: the previous one may have signed the owner out (logout-all, MFA, password).
      if ((await call(`${owner.host}/v1/me`, { token: owner.access_token })).status !== 200) owner.access_token = await signIn(owner.host, owner.email)
      const origin = op.platform || op.path.startsWith('/dev') ? PLATFORM : owner.host
      const auth: Record<string, string> = op.platform ? { authorization: `Bearer ${env.PLATFORM_ADMIN_TOKEN as string}` } : { authorization: `Bearer ${owner.access_token}` }
      const pathValues = Object.fromEntries(op.pathParams.map((p) => [p, /name/i.test(p) && !/id/i.test(p) ? 'payer' : /provider/i.test(p) ? 'google' : crypto.randomUUID()]))
      const pathWith = (override?: [string, string]) => op.path.replace(/\{([^}]+)\}/g, (_, p: string) => (override && override[0] === p ? override[1] : encodeURIComponent(pathValues[p]!)))
      const baseQuery = Object.fromEntries(op.query.filter((q) => q.required).map((q) => [q.name, encodeURIComponent(String(exampleOf(doc, q.schema)))]))
      const queryWith = (override?: [string, string]) => {
        const q = { ...baseQuery, ...(override ? { [override[0]]: override[1] } : {}) }
        const s = Object.entries(q).map(([k, v]) => `${k}=${v}`).join('&')
        return s ? `?${s}` : ''
      }
      const base = op.body ? (exampleOf(doc, op.body) as Record<string, unknown>) : null
      const cases: Array<{ what: string; path: string; query: string; body: string | Uint8Array | null; headers?: Record<string, string> }> = []

      for (const p of op.pathParams) for (const v of BAD_URL_VALUES) cases.push({ what: `path ${p}=${v.slice(0, 20)}`, path: pathWith([p, v]), query: queryWith(), body: base ? JSON.stringify(base) : null })
      for (const q of op.query) for (const v of BAD_URL_VALUES) cases.push({ what: `query ${q.name}=${v.slice(0, 20)}`, path: pathWith(), query: queryWith([q.name, v]), body: base ? JSON.stringify(base) : null })
      if (op.body) {
        const schema = resolve(doc, op.body)
        const props = Object.keys(schema.properties ?? {})
        for (const prop of props) {
          for (const v of BAD_VALUES) cases.push({ what: `body.${prop}=${JSON.stringify(v)?.slice(0, 20)}`, path: pathWith(), query: queryWith(), body: JSON.stringify({ ...base, [prop]: v }) })
        }
        for (const whole of ['[]', '"text"', 'null', '{"a":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}', '{"__proto__":{"admin":true}}']) {
          cases.push({ what: `body ${whole.slice(0, 20)}`, path: pathWith(), query: queryWith(), body: whole })
        }
        cases.push({ what: 'oversized body', path: pathWith(), query: queryWith(), body: JSON.stringify({ ...base, padding: 'x'.repeat(bodyLimit) }) })
        cases.push({ what: 'invalid UTF-8 body', path: pathWith(), query: queryWith(), body: new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xed, 0xa0, 0x80, 0x22, 0x7d]) })
        cases.push({ what: 'not JSON', path: pathWith(), query: queryWith(), body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      } else if (op.method !== 'GET') {
        cases.push({ what: 'unexpected body', path: pathWith(), query: queryWith(), body: JSON.stringify({ x: '\u0000' }) })
      }
      // The same operation through an API key (routes for users answer 401; others go as deep as a key may).
      cases.push({ what: 'API key', path: pathWith(), query: queryWith(), body: base ? JSON.stringify(base) : null, headers: { authorization: '', 'x-api-key': ownerKey } })

      await pool(cases.map((k) => async () => {
        const headers = { ...auth, ...k.headers }
        if (headers.authorization === '') delete (headers as Record<string, string>).authorization
        const res = await send(`${origin}${k.path}${k.query}`, { method: op.method, headers, body: k.body })
        requests++
        if (res.status >= 500 && !(res.status === 503 && res.json?.error?.code === 'mail_unavailable')) {
          failures.push(`${op.method} ${op.path} ${k.what}: ${res.status} ${res.text.slice(0, 200)}`)
        } else if (res.status >= 400 && (!res.json?.error?.code || typeof res.json.error.message !== 'string')) {
          failures.push(`${op.method} ${op.path} ${k.what}: ${res.status} without the standard error shape: ${res.text.slice(0, 120)}`)
        }
      }), 6)
      if (TRACE) console.log(`${op.method} ${op.path}: ${Date.now() - opStarted} ms, ${requests} requests, ${failures.length} failures so far`)
    }
    if (TRACE) console.log(`fuzz: ${requests} requests in ${Date.now() - started} ms`)

    expect(failures, failures.join('\n')).toEqual([])
    expect(requests).toBeGreaterThan(ops.length * 10)
  }, 300_000)
})
