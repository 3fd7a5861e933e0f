import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.ts'
import { addMember, apiKey, call, invite, newEmail, type Owner, PLATFORM, randomClientIp, signUp } from './support.ts'
import { exampleOf, identifiersIn, loadOpenApi, operationsOf, pool, send, signIn, type OpenApiDocument, type Operation, probeResponse, type ProbeResponse } from './probe-support.ts'

/**
 * Cross-tenant probe over every operation of /openapi.json: tenant B's credentials (its owner's
 * access token, an admin API key) aimed at tenant A — on A's host, through X-Tenant-ID on the
 * platform host, through X-Tenant-ID on B's own host, through host spellings (case, trailing dot,
 * nested labels) and forwarded-host headers — with A's real ids in every path. A leak is a 2xx that
 * the same request without credentials does not get, or that shows A's identifiers the anonymous
 * request does not show; and, at the end, any change to A's data. Expected: none.
 */

interface Target {
  trick: string
  url: string
  headers: Record<string, string>
  /** Through createApp() with ALLOW_TENANT_HEADER=true, as a deployment that accepts the header. */
  headerAllowed?: boolean
}

/** Per-operation timing on the console, to find slow or failing routes. */
const TRACE = false
// waitUntil work (webhook deliveries, last-use stamps) is left to run; its failures are not the probe's subject.
const ctx = { waitUntil(work: Promise<unknown>) { work.catch(() => undefined) }, passThroughOnException() {}, props: {} } as unknown as ExecutionContext
/** One app for the requests of a deployment that accepts X-Tenant-ID (ALLOW_TENANT_HEADER=true). */
let headerApp: ReturnType<typeof createApp> | undefined

async function sendTo(target: Target, method: string, credentials: Record<string, string>, body: string | null): Promise<ProbeResponse> {
  const headers = { ...target.headers, ...credentials }
  if (!target.headerAllowed) return send(target.url, { method, headers, body })
  const h = new Headers(headers)
  h.set('cf-connecting-ip', randomClientIp())
  if (body != null) h.set('content-type', 'application/json')
  headerApp ??= createApp()
  const res = await headerApp.fetch(new Request(target.url, { method, headers: h, body: method === 'GET' ? undefined : body ?? undefined }), { ...env, ALLOW_TENANT_HEADER: 'true' }, ctx)
  return probeResponse(res)
}

describe('cross-tenant probe over /openapi.json', () => {
  let doc: OpenApiDocument
  let ops: Operation[]
  let a: Owner
  let b: Owner
  let bKey: string
  /** A's identifiers that B must never see (ids, emails, key prefixes). */
  const secretsOfA = new Set<string>()
  /** path template prefix → an id (or name) of A's that fills the parameter after it. */
  const fill = new Map<string, string>()

  async function listA(path: string) {
    return call(`${a.host}${path}`, { token: a.access_token })
  }

  /** Ids of every list of A's, for the before/after comparison. */
  async function snapshotA(): Promise<Record<string, string[]>> {
    const snapshot: Record<string, string[]> = {}
    const started = Date.now()
    for (const op of ops) {
      const opStarted = Date.now()
      if (op.method !== 'GET' || op.pathParams.length || op.platform || op.path.startsWith('/dev') || op.path === '/v1/audit') continue
      const res = await listA(op.path)
      if (res.status === 200 && Array.isArray(res.body?.data)) snapshot[op.path] = res.body.data.map((d: any) => JSON.stringify([d.id ?? d.user_id ?? d.name, d.role ?? null, d.name ?? null, d.revoked_at ?? null, d.status ?? null])).sort()
    }
    const tenant = await call(`${PLATFORM}/v1/tenants/${a.tenant.id}`, { token: env.PLATFORM_ADMIN_TOKEN as string })
    snapshot['tenant'] = [JSON.stringify([tenant.body.name, tenant.body.status, tenant.body.settings])]
    return snapshot
  }

  beforeAll(async () => {
    doc = await loadOpenApi()
    ops = operationsOf(doc)
    a = await signUp()
    b = await signUp()
    // Something of every kind in A, so that the paths name real objects of A's.
    await call(`${a.host}/v1/resource-types`, { body: { name: 'invoice', actions: ['read', 'pay'] }, token: a.access_token })
    await call(`${a.host}/v1/roles`, { body: { name: 'payer', permissions: ['invoice:pay'] }, token: a.access_token })
    await call(`${a.host}/v1/policies`, { body: { name: 'own', effect: 'allow', permission: 'invoice:read', conditions: { eq: [{ ref: 'resource.attributes.owner' }, { ref: 'subject.id' }] } }, token: a.access_token })
    const member = await addMember(a)
    await call(`${a.host}/v1/role-bindings`, { body: { subject: { type: 'user', id: member.user.id }, role: 'payer', resource_type: 'invoice', resource_id: '1' }, token: a.access_token })
    await apiKey(a, ['admin'])
    await call(`${a.host}/v1/webhooks`, { body: { url: 'https://example.com/a-hook', events: ['api_key.revoked'] }, token: a.access_token })
    await invite(a.host, a.access_token, newEmail())
    bKey = (await apiKey(b, ['admin'])).secret

    fill.set('/v1/tenants', a.tenant.id)
    for (const op of ops) {
      if (op.method !== 'GET' || op.pathParams.length || op.platform) continue
      const res = await listA(op.path)
      if (res.status !== 200) continue
      identifiersIn(res.body, secretsOfA)
      const first = Array.isArray(res.body?.data) ? res.body.data[0] : undefined
      if (first) fill.set(op.path, JSON.stringify(first))
    }
    for (const id of [a.tenant.id, a.user.id, a.email, member.user.id, member.email]) secretsOfA.add(id.toLowerCase())
    // B's own identifiers are not A's, even where both see them (none should overlap but be safe).
    const mine = await call(`${b.host}/v1/me`, { token: b.access_token })
    for (const id of identifiersIn(mine.body)) secretsOfA.delete(id)
  })

  /** The path with every parameter filled with one of A's objects (second-level lists read on the way). */
  async function pathFor(op: Operation): Promise<string> {
    let path = op.path
    for (const param of op.pathParams) {
      const prefix = path.slice(0, path.indexOf(`{${param}}`) - 1)
      if (!fill.has(prefix) && !prefix.includes('{')) {
        const res = await listA(prefix)
        const first = res.status === 200 && Array.isArray(res.body?.data) ? res.body.data[0] : undefined
        fill.set(prefix, first ? JSON.stringify(first) : '')
      }
      const raw = fill.get(prefix) ?? ''
      let value: string = crypto.randomUUID()
      if (raw.startsWith('{')) {
        const item = JSON.parse(raw)
        value = /name/i.test(param) && !/id/i.test(param) ? item.name ?? item.id : /user/i.test(param) ? item.user_id ?? item.id : /provider/i.test(param) ? item.provider ?? 'google' : item.id ?? item.name ?? value
      } else if (raw) {
        value = raw
      } else if (/provider/i.test(param)) {
        value = 'google'
      }
      path = path.replace(`{${param}}`, encodeURIComponent(value))
    }
    return path
  }

  it('finds no leak for any operation, credential or header trick', async () => {
    expect(ops.length).toBeGreaterThan(40)
    const before = await snapshotA()
    const leaks: string[] = []
    const echoedByB = new Set<string>()
    let requests = 0
    const aSlug = a.tenant.slug
    const bSlug = b.tenant.slug
    const host = (h: string) => `http://${h}`

    const started = Date.now()
    for (const op of ops) {
      const opStarted = Date.now()
      const path = await pathFor(op)
      // An id of A's that B itself sends (in a path) may come back from B's own tenant (e.g. its audit log
      // records what B asked for): that is B's input echoed, not A's data.
      for (const segment of path.split('/')) echoedByB.add(decodeURIComponent(segment).toLowerCase())
      const query = op.query.filter((q) => q.required).map((q) => `${q.name}=${encodeURIComponent(String(exampleOf(doc, q.schema)))}`).join('&')
      const url = (origin: string) => `${origin}${path}${query ? `?${query}` : ''}`
      const body = op.body ? JSON.stringify(exampleOf(doc, op.body)) : null
      const token: [string, Record<string, string>] = ['B token', { authorization: `Bearer ${b.access_token}` }]
      const key: [string, Record<string, string>] = ['B API key', { 'x-api-key': bKey }]
      const keyAsBearer: [string, Record<string, string>] = ['B API key as bearer', { authorization: `Bearer ${bKey}` }]
      // Every credential where the request is plainly for A; the token alone for the other spellings of A's host.
      const probes: Array<[Target, Array<[string, Record<string, string>]>]> = [
        [{ trick: 'A host', url: url(host(`${aSlug}.atrium.test`)), headers: {} }, [token, key, keyAsBearer]],
        [{ trick: 'platform host, X-Tenant-ID A (slug)', url: url(PLATFORM), headers: { 'x-tenant-id': aSlug }, headerAllowed: true }, [token, key, keyAsBearer]],
        [{ trick: 'platform host, X-Tenant-ID A (id)', url: url(PLATFORM), headers: { 'x-tenant-id': a.tenant.id }, headerAllowed: true }, [token]],
        [{ trick: 'B host, X-Tenant-ID A, forwarded host A', url: url(host(`${bSlug}.atrium.test`)), headers: { 'x-tenant-id': aSlug, 'x-forwarded-host': `${aSlug}.atrium.test`, 'x-original-host': `${aSlug}.atrium.test` }, headerAllowed: true }, [token, key]],
        [{ trick: 'A host, upper case', url: url(host(`${aSlug.toUpperCase()}.atrium.test`)), headers: {} }, [token]],
        [{ trick: 'A host, trailing dot', url: url(host(`${aSlug}.atrium.test.`)), headers: {} }, [token]],
        [{ trick: 'A host on the second base domain', url: url(host(`${aSlug}.localhost`)), headers: {} }, [key]],
        [{ trick: 'nested label B.A', url: url(host(`${bSlug}.${aSlug}.atrium.test`)), headers: {} }, [token]],
      ]
      const tasks = probes.flatMap(([target, credentials]) => credentials.map(([who, creds]) => async () => {
        const probed = await sendTo(target, op.method, creds, body)
        requests++
        if (probed.status >= 500) leaks.push(`${op.method} ${op.path} [${target.trick}, ${who}] answered ${probed.status}: ${probed.text.slice(0, 200)}`)
        if (probed.status < 200 || probed.status >= 300) return
        // A 2xx: compare with the same request without credentials.
        const anonymous = await sendTo(target, op.method, {}, body)
        requests++
        const shownAnonymously = identifiersIn(anonymous.json)
        const extra = [...identifiersIn(probed.json)].filter((id) => secretsOfA.has(id) && !shownAnonymously.has(id) && !echoedByB.has(id))
        const anonymousOk = anonymous.status >= 200 && anonymous.status < 300
        // On B's own host B's credentials rightly reach B's data: only A's identifiers would be a leak there.
        const aimedAtA = !target.trick.startsWith('B host') && target.trick !== 'nested label B.A'
        if (extra.length) {
          const at = probed.text.toLowerCase().indexOf(extra[0]!)
          leaks.push(`${op.method} ${op.path} [${target.trick}, ${who}] showed A's ${extra.join(', ')}: …${probed.text.slice(Math.max(0, at - 200), at + 100)}…`)
        }
        else if (!anonymousOk && aimedAtA) leaks.push(`${op.method} ${op.path} [${target.trick}, ${who}] answered ${probed.status} where anonymous got ${anonymous.status}`)
      }))
      await pool(tasks, 6)
      if (TRACE) console.log(`${op.method} ${op.path}: ${Date.now() - opStarted} ms, ${requests} requests, ${leaks.length} leaks so far`)
      // B's own credentials may be spent by its own-host requests (sign-out, revocation): renew them.
      if ((await call(`${b.host}/v1/me`, { token: b.access_token })).status !== 200) b.access_token = await signIn(b.host, b.email)
      if ((await call(`${b.host}/v1/tenant`, { headers: { 'x-api-key': bKey } })).status !== 200) bKey = (await apiKey(b, ['admin'])).secret
    }

    if (TRACE) console.log(`isolation: ${requests} requests in ${Date.now() - started} ms`)
    expect(leaks, leaks.join('\n')).toEqual([])
    expect(await snapshotA()).toEqual(before)
    // A's own credentials still work and see A's data (the probe did not just break everything).
    expect((await call(`${a.host}/v1/me`, { token: a.access_token })).status).toBe(200)
    expect(requests).toBeGreaterThan(ops.length * 10)
  }, 300_000)
})
