import { SELF } from 'cloudflare:test'
import { expect } from 'vitest'
import { PASSWORD, PLATFORM, randomClientIp } from './support.ts'

/**
 * Shared by the probes (test/probe-isolation.test.ts, test/probe-fuzz.test.ts): every operation of
 * /openapi.json, read at run time so routes added later are probed without editing the probes,
 * and a small JSON Schema example generator for their parameters and bodies.
 */

type Schema = Record<string, any>

export interface Operation {
  method: string
  /** The OpenAPI path template, e.g. `/v1/roles/{idOrName}`. */
  path: string
  pathParams: string[]
  query: Array<{ name: string; schema: Schema; required: boolean }>
  body: Schema | null
  /** Served on the platform host with the platform admin token. */
  platform: boolean
  /** Documented without any security requirement. */
  public: boolean
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>
  components?: { schemas?: Record<string, Schema> }
}

export async function loadOpenApi(): Promise<OpenApiDocument> {
  const res = await SELF.fetch(`${PLATFORM}/openapi.json`)
  expect(res.status).toBe(200)
  return (await res.json()) as OpenApiDocument
}

/** Operations to probe; the documents themselves (/openapi.json, JWKS, health) take no input worth probing. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      const params = (op.parameters ?? []) as Array<{ name: string; in: string; schema: Schema; required?: boolean }>
      const security = (op.security ?? []) as Array<Record<string, unknown>>
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: Boolean(p.required) })),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
        platform: security.some((s) => 'platformAdmin' in s),
        public: security.length === 0,
      })
    }
  }
  return ops
}

export function resolve(doc: OpenApiDocument, schema: Schema | undefined): Schema {
  let s = schema ?? {}
  for (let i = 0; s.$ref && i < 10; i++) s = doc.components?.schemas?.[String(s.$ref).split('/').pop()!] ?? {}
  return s
}

/** A value that satisfies the common parts of `schema` (type, format, enum, bounds, required keys). */
export function exampleOf(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(doc, schema)
  if (s.example !== undefined) return s.example
  if (s.default !== undefined) return s.default
  if (s.const !== undefined) return s.const
  if (s.enum) return s.enum[0]
  const variants = s.anyOf ?? s.oneOf
  if (variants) return exampleOf(doc, variants.find((v: Schema) => resolve(doc, v).type !== 'null') ?? variants[0], depth)
  if (s.allOf) return Object.assign({}, ...s.allOf.map((v: Schema) => exampleOf(doc, v, depth)))
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type
  if (depth > 6) return null
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const key of (s.required ?? []) as string[]) out[key] = exampleOf(doc, s.properties?.[key], depth + 1)
      return out
    }
    case 'array': {
      const n = Math.max(1, s.minItems ?? 1)
      return Array.from({ length: n }, () => exampleOf(doc, s.items, depth + 1))
    }
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? Math.max(s.minimum, 1) : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 1
    case 'boolean':
      return true
    case 'string':
      return stringFor(s)
    default:
      return 'x'
  }
}

function stringFor(s: Schema): string {
  switch (s.format) {
    case 'email':
      return `probe-${crypto.randomUUID().slice(0, 8)}@example.com`
    case 'uuid':
      return crypto.randomUUID()
    case 'uri':
    case 'url':
      return 'https://example.com/probe'
    case 'date-time':
      return new Date(Date.now() + 86_400_000).toISOString()
  }
  const min = s.minLength ?? 1
  const base = 'probe-value'
  return (base.length >= min ? base : base + 'x'.repeat(min - base.length)).slice(0, s.maxLength ?? 1000)
}

/** Every string of `value` that looks like an identifier worth keeping secret from another tenant (ids, emails, slugs). */
export function identifiersIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value) || /@/.test(value) || /^atr_/.test(value)) into.add(value.toLowerCase())
  } else if (Array.isArray(value)) {
    for (const v of value) identifiersIn(v, into)
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) identifiersIn(v, into)
  }
  return into
}

export interface ProbeResponse {
  status: number
  text: string
  json: any
}

/** One raw request through the real Worker, from its own client address. */
export async function send(url: string, init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array | null }): Promise<ProbeResponse> {
  const headers = new Headers(init.headers)
  if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', randomClientIp())
  if (init.body != null && !headers.has('content-type')) headers.set('content-type', 'application/json')
  const res = await SELF.fetch(url, { method: init.method, headers, body: init.method === 'GET' || init.method === 'HEAD' ? undefined : ((init.body ?? undefined) as BodyInit | undefined) })
  return probeResponse(res)
}

/** An answer as the probes read it: its status, its text, and its JSON (undefined when it is none). */
export async function probeResponse(res: Response): Promise<ProbeResponse> {
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, text, json }
}

/** Run `tasks` with at most `limit` in flight. */
export async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++
        results[i] = await tasks[i]!()
      }
    }),
  )
  return results
}

/** A fresh access token for `email` on `host` (password sign-in). */
export async function signIn(host: string, email: string): Promise<string> {
  const res = await send(`${host}/v1/auth/login`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD }) })
  expect(res.status, res.text).toBe(200)
  return res.json.access_token as string
}
