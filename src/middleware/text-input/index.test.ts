import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { jsonBody } from '../json-body/index.ts'
import { handleError } from '../request-context/errors.ts'
import { decodeUrlComponent, jsonIssue, MAX_JSON_DEPTH, refuseUnsafeText, textProblem } from './index.ts'

/* The rule alone and as middleware (after jsonBody, as in the app). Through the real Worker: test/text-input.test.ts. */
const NUL = '\u0000'
const LONE_HIGH = '\ud800'
const LONE_LOW = '\udc00'

function app() {
  const app = new Hono()
  app.onError(handleError)
  app.use('*', jsonBody({ maxBytes: 1 << 20 }))
  app.use('*', refuseUnsafeText())
  app.all('*', (c) => c.json({ ok: true }))
  return app
}

async function send(path: string, body?: string) {
  const res = await app().request(path, body === undefined ? {} : { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  return { status: res.status, body: (await res.json()) as any }
}

function expectRefused(res: { status: number; body: any }, path: string, message: string) {
  expect(res.status).toBe(400)
  expect(res.body.error).toEqual({ code: 'validation_failed', message: `Invalid ${path}: ${message}`, details: [{ path, message, code: 'invalid_text' }] })
}

describe('text rules', () => {
  it('textProblem names a NUL and an unpaired surrogate, and accepts paired ones', () => {
    expect(textProblem(`a${NUL}b`)).toBe('contains a NUL character (U+0000)')
    expect(textProblem(`a${LONE_HIGH}`)).toBe('contains an unpaired UTF-16 surrogate')
    expect(textProblem(`${LONE_LOW}a`)).toBe('contains an unpaired UTF-16 surrogate')
    expect(textProblem('emoji 😀, accents é, CJK 漢字')).toBeNull()
  })

  it('decodeUrlComponent decodes strictly: invalid UTF-8 and encoded surrogates are null, a stray % stays literal', () => {
    expect(decodeUrlComponent('caf%C3%A9')).toBe('café')
    expect(decodeUrlComponent('%FF')).toBeNull()
    expect(decodeUrlComponent('%ED%A0%80')).toBeNull()
    expect(decodeUrlComponent('100%')).toBe('100%')
    expect(decodeUrlComponent('50%zz')).toBe('50%zz')
    expect(decodeUrlComponent('plain')).toBe('plain')
  })

  it('jsonIssue finds the first unsafe string or key, with its path, and nesting past the limit', () => {
    expect(jsonIssue({ a: [1, { b: 'ok' }], c: null })).toBeNull()
    expect(jsonIssue({ a: [1, { b: `x${NUL}` }] })).toEqual({ path: 'a.1.b', message: 'contains a NUL character (U+0000)' })
    expect(jsonIssue({ [`k${LONE_HIGH}`]: 1 })).toEqual({ path: `k${LONE_HIGH}`, message: 'has a key that contains an unpaired UTF-16 surrogate' })
    expect(jsonIssue(NUL)).toEqual({ path: '(body)', message: 'contains a NUL character (U+0000)' })
    const nest = (n: number): unknown => (n === 0 ? 'leaf' : [nest(n - 1)])
    expect(jsonIssue(nest(MAX_JSON_DEPTH))).toBeNull()
    expect(jsonIssue(nest(MAX_JSON_DEPTH + 1))?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`)
  })
})

describe('refuseUnsafeText', () => {
  it('lets well-formed text through in the path, the query and the body', async () => {
    expect((await send('/caf%C3%A9?q=%F0%9F%98%80&flag', JSON.stringify({ name: 'Zoë 😀' }))).status).toBe(200)
    expect((await send('/x?discount=100%')).status).toBe(200)
  })

  it('refuses a NUL or invalid UTF-8 in the path (400 validation_failed, invalid_text)', async () => {
    expectRefused(await send('/a%00b'), '(path)', 'contains a NUL character (U+0000)')
    expectRefused(await send('/a%FFb'), '(path)', 'is not valid percent-encoded UTF-8')
  })

  it('refuses one in a query parameter’s value or name, naming the parameter', async () => {
    expectRefused(await send('/x?ok=1&to=a%00%40example.com'), 'query.to', 'contains a NUL character (U+0000)')
    expectRefused(await send('/x?q=%ED%A0%80'), 'query.q', 'is not valid percent-encoded UTF-8')
    expectRefused(await send('/x?na%00me=1'), 'query.na%00me', 'contains a NUL character (U+0000)')
  })

  it('refuses an unsafe string or key anywhere in a JSON body, and nesting past the limit', async () => {
    expectRefused(await send('/x', JSON.stringify({ a: { b: ['ok', `x${NUL}`] } })), 'a.b.1', 'contains a NUL character (U+0000)')
    expectRefused(await send('/x', `{"name":"\\ud800"}`), 'name', 'contains an unpaired UTF-16 surrogate')
    expectRefused(await send('/x', `{"\\udc00":1}`), '\udc00', 'has a key that contains an unpaired UTF-16 surrogate')
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)
    expect((await send('/x', deep)).body.error.details[0].message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`)
  })
})
