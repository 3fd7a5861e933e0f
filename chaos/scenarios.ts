import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'drizzle-orm'
import { send } from '../bench/http.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { client, must, timed, until, type Owner } from './client.ts'
import type { ChaosStack } from './stack.ts'

/** One row of the matrix: a scenario, the fault, what is promised with its bound, what was seen. */
export interface Outcome {
  scenario: string
  fault: string
  guarantee: string
  bound: string
  observed: string
  ok: boolean
}

export interface ScenarioDeps {
  stack: ChaosStack
  adminToken: string
  /** The Workers' deadlines and cache TTLs (the bounds the guarantees hold to). */
  limits: { sqlTimeoutMs: number; redisTimeoutMs: number; budgetMs: number; tenantCacheMs: number }
}

const ms = (n: number | null) => (n === null ? 'never (within the wait)' : `${n} ms`)
const others = (deps: ScenarioDeps) => Array.from({ length: deps.stack.workers - 1 }, (_, i) => i + 1)

/** Waits on every other Worker for `done`; the slowest, or null if one never got there. */
async function onOthers(deps: ScenarioDeps, probe: (worker: number) => Promise<import('../bench/http.ts').Reply>, done: (r: import('../bench/http.ts').Reply) => boolean, timeoutMs: number) {
  const times = await Promise.all(others(deps).map((w) => until(() => probe(w), done, timeoutMs)))
  return times.some((t) => t === null) ? null : Math.max(...(times as number[]))
}

/** Changes made through Worker 0 in effect on Workers 1 and 2, which had the old state cached. */
export async function propagation(deps: ScenarioDeps): Promise<Outcome[]> {
  const api = client(deps.stack, deps.adminToken)
  const { tenantCacheMs } = deps.limits
  const out: Outcome[] = []
  // Slack for polling and a loaded machine, on top of the documented bound.
  const slack = 2000

  const owner: Owner = await api.signUp(0)
  const admin = await api.join(0, owner, 'admin')

  // Role change: the admin reads API keys (api_keys:read) on every Worker, then is demoted through Worker 0.
  for (const w of [0, ...others(deps)]) must(await api.get(w, owner.slug, '/v1/api-keys', admin.access), 200)
  must(await api.patch(0, owner.slug, `/v1/members/${admin.userId}`, { role: 'member' }, owner.access), 200)
  const demoted = await onOthers(deps, (w) => api.get(w, owner.slug, '/v1/api-keys', admin.access), (r) => r.status === 403, 10_000)
  out.push({
    scenario: 'three Workers: role change', fault: 'none (admin demoted through Worker 0, model cached on 1 and 2)',
    guarantee: 'the demoted admin is refused on the other Workers', bound: 'at once (the model version is published before the answer)',
    observed: `403 on Workers 1–2 after ${ms(demoted)}`, ok: demoted !== null && demoted <= slack,
  })

  // Logout: a session used on every Worker, ended through Worker 0.
  const session = await api.login(0, owner.slug, owner.email)
  for (const w of [0, ...others(deps)]) must(await api.get(w, owner.slug, '/v1/me', session.access), 200)
  must(await send(`${deps.stack.origin(0, owner.slug)}/v1/auth/logout`, { method: 'POST', body: {}, headers: api.bearer(session.access) }), 204)
  const loggedOut = await onOthers(deps, (w) => api.get(w, owner.slug, '/v1/me', session.access), (r) => r.status === 401, 10_000)
  out.push({
    scenario: 'three Workers: logout', fault: 'none (session used on Workers 1 and 2, logout through 0)',
    guarantee: 'the access token is refused on the other Workers', bound: 'at once (revocation checked on every request)',
    observed: `401 on Workers 1–2 after ${ms(loggedOut)}`, ok: loggedOut !== null && loggedOut <= slack,
  })

  // Settings: sign-up open, cached on every Worker, then invite-only through Worker 0.
  const slug = `chaos-settings-${Date.now().toString(36)}`
  const tenant = await api.createTenant(0, slug, { signup_policy: 'open' })
  const register = (w: number) => api.post(w, slug, '/v1/auth/register', { email: `chaos-${crypto.randomUUID()}@example.com`, password: 'correct horse battery staple' })
  for (const w of [0, ...others(deps)]) must(await api.get(w, slug, '/v1/tenant'), 200)
  must(await api.patchTenant(0, tenant.id, { settings: { signup_policy: 'invite_only' } }), 200)
  const closed = await onOthers(deps, register, (r) => r.status === 403, tenantCacheMs + 15_000)
  out.push({
    scenario: 'three Workers: settings change', fault: 'none (signup_policy open → invite_only through Worker 0)',
    guarantee: 'sign-ups refused on the other Workers', bound: `TENANT_CACHE_TTL_SECONDS (${tenantCacheMs / 1000} s, the in-isolate tenant cache)`,
    observed: `403 on Workers 1–2 after ${ms(closed)}`, ok: closed !== null && closed <= tenantCacheMs + slack,
  })

  // Suspension: the tenant cached on every Worker, suspended through Worker 0.
  must(await api.tenantAction(0, tenant.id, 'suspend'), 200)
  const refused = await Promise.all([0, ...others(deps)].map((w) => api.get(w, owner.slug, '/v1/api-keys', admin.access)))
  out.push({
    scenario: 'Redis back: role change', fault: 'Redis recovers after a demotion made during the outage (issue 9 item 9: a model older than the change)',
    guarantee: 'the demoted admin is refused on every Worker', bound: 'no window on a Worker that saw the outage; `EFFECTS_FENCE_SECONDS` on one that did not',
    observed: `GET /v1/api-keys: ${refused.map((r) => r.status).join(', ')}`, ok: refused.every((r) => r.status === 403),
  })
  const suspended = await onOthers(deps, (w) => api.get(w, slug, '/v1/tenant'), (r) => r.status === 403, tenantCacheMs + 15_000)
  out.push({
    scenario: 'three Workers: suspend', fault: 'none (tenant suspended through Worker 0)',
    guarantee: 'the tenant is refused (403 tenant_suspended) on the other Workers', bound: `TENANT_CACHE_TTL_SECONDS (${tenantCacheMs / 1000} s)`,
    observed: `403 on Workers 1–2 after ${ms(suspended)}`, ok: suspended !== null && suspended <= tenantCacheMs + slack,
  })
  return out
}

/** Redis down, changes made meanwhile, Redis back: nothing acknowledged may come back to life. */
export async function redisOutage(deps: ScenarioDeps): Promise<Outcome[]> {
  const api = client(deps.stack, deps.adminToken)
  const { tenantCacheMs } = deps.limits
  const out: Outcome[] = []
  const owner = await api.signUp(0)
  const session = await api.login(0, owner.slug, owner.email)
  const admin = await api.join(0, owner, 'admin')
  const slug = `chaos-outage-${Date.now().toString(36)}`
  const tenant = await api.createTenant(0, slug, { signup_policy: 'open' })
  for (const w of [0, ...others(deps)]) {
    must(await api.get(w, owner.slug, '/v1/me', session.access), 200)
    must(await api.get(w, slug, '/v1/tenant'), 200)
    // The admin's rights are in every Worker's model (and the version in Redis) before the outage.
    must(await api.get(w, owner.slug, '/v1/api-keys', admin.access), 200)
  }

  await deps.stack.backend.faults('redis', { mode: 'fail', status: 503 })
  try {
    const reads = await Promise.all([0, ...others(deps)].map((w) => api.get(w, owner.slug, '/v1/me', owner.access)))
    out.push({
      scenario: 'Redis down', fault: 'every Redis request fails (503)', guarantee: 'signed-in reads keep working (Redis is a cache)',
      bound: 'no error', observed: `GET /v1/me: ${reads.map((r) => r.status).join(', ')}`, ok: reads.every((r) => r.status === 200),
    })
    const logout = await send(`${deps.stack.origin(1, owner.slug)}/v1/auth/logout`, { method: 'POST', body: {}, headers: api.bearer(session.access) })
    const during = await Promise.all([0, ...others(deps)].map((w) => api.get(w, owner.slug, '/v1/me', session.access)))
    out.push({
      scenario: 'Redis down: logout', fault: 'logout through Worker 1 while Redis fails', guarantee: 'the token is refused everywhere during the outage',
      bound: 'at once', observed: `logout ${logout.status}; then ${during.map((r) => r.status).join(', ')}`, ok: logout.status === 204 && during.every((r) => r.status === 401),
    })
    const suspend = await api.tenantAction(2, tenant.id, 'suspend')
    out.push({
      scenario: 'Redis down: suspend', fault: 'suspend through Worker 2 while Redis fails', guarantee: 'acknowledged', bound: '—',
      observed: `suspend ${suspend.status}`, ok: suspend.status === 200,
    })
    const demote = await api.patch(1, owner.slug, `/v1/members/${admin.userId}`, { role: 'member' }, owner.access)
    out.push({
      scenario: 'Redis down: role change', fault: 'admin demoted through Worker 1 while Redis fails (its version cannot be published)', guarantee: 'acknowledged', bound: '—',
      observed: `demote ${demote.status}`, ok: demote.status === 200,
    })
  } finally {
    await deps.stack.backend.faults('redis', { mode: 'off' })
  }

  const after = await onOthers(deps, (w) => api.get(w, owner.slug, '/v1/me', session.access), (r) => r.status === 401, 5000)
  const again = await Promise.all([0, ...others(deps)].map((w) => api.get(w, owner.slug, '/v1/me', session.access)))
  out.push({
    scenario: 'Redis back: logout', fault: 'Redis recovers after a logout made during the outage', guarantee: 'the token stays refused',
    bound: 'no window', observed: `GET /v1/me: ${again.map((r) => r.status).join(', ')}`, ok: after !== null && again.every((r) => r.status === 401),
  })
  const refused = await Promise.all([0, ...others(deps)].map((w) => api.get(w, owner.slug, '/v1/api-keys', admin.access)))
  out.push({
    scenario: 'Redis back: role change', fault: 'Redis recovers after a demotion made during the outage (issue 9 item 9: a model older than the change)',
    guarantee: 'the demoted admin is refused on every Worker', bound: 'no window on a Worker that saw the outage; `EFFECTS_FENCE_SECONDS` on one that did not',
    observed: `GET /v1/api-keys: ${refused.map((r) => r.status).join(', ')}`, ok: refused.every((r) => r.status === 403),
  })
  const suspended = await onOthers(deps, (w) => api.get(w, slug, '/v1/tenant'), (r) => r.status === 403, tenantCacheMs + 15_000)
  const stays = await Promise.all([0, ...others(deps)].map((w) => api.get(w, slug, '/v1/tenant')))
  out.push({
    scenario: 'Redis back: suspend', fault: 'Redis recovers after a suspension made during the outage', guarantee: 'the tenant is refused on every Worker, and stays so',
    bound: `TENANT_CACHE_TTL_SECONDS (${tenantCacheMs / 1000} s)`, observed: `403 after ${ms(suspended)}; then ${stays.map((r) => r.status).join(', ')}`,
    ok: suspended !== null && stays.every((r) => r.status === 403),
  })
  return out
}

/** Backends slower than the deadlines: the answer comes within the deadline, as a 503 or degraded. */
export async function delays(deps: ScenarioDeps): Promise<Outcome[]> {
  const api = client(deps.stack, deps.adminToken)
  const { sqlTimeoutMs, redisTimeoutMs } = deps.limits
  const out: Outcome[] = []
  const owner = await api.signUp(0)
  const slack = 3000

  await deps.stack.backend.faults('sql', { mode: 'delay', delayMs: sqlTimeoutMs * 2 })
  try {
    const { value, ms: took } = await timed(() => send(`${deps.stack.origin(1)}/v1/tenants/${owner.tenantId}`, { headers: { authorization: `Bearer ${deps.adminToken}` } }))
    out.push({
      scenario: 'SQL slower than its deadline', fault: `every SQL request delayed ${sqlTimeoutMs * 2} ms`, guarantee: '503 database_unavailable, not a hang',
      bound: `SQL_TIMEOUT_MS (${sqlTimeoutMs} ms)`, observed: `${value.status} ${value.body?.error?.code ?? ''} after ${took} ms`,
      ok: value.status === 503 && value.body?.error?.code === 'database_unavailable' && took <= sqlTimeoutMs + slack,
    })
    const health = await timed(() => send(`${deps.stack.origin(2)}/health`))
    out.push({
      scenario: 'SQL slower than its deadline: /health', fault: 'same', guarantee: '503, database down',
      bound: `SQL_TIMEOUT_MS (${sqlTimeoutMs} ms)`, observed: `${health.value.status} database ${health.value.body?.checks?.database?.status} after ${health.ms} ms`,
      ok: health.value.status === 503 && health.value.body?.checks?.database?.status === 'down' && health.ms <= sqlTimeoutMs + slack,
    })
  } finally {
    await deps.stack.backend.faults('sql', { mode: 'off' })
  }

  must(await api.get(0, owner.slug, '/v1/me', owner.access), 200)
  await deps.stack.backend.faults('redis', { mode: 'delay', delayMs: redisTimeoutMs * 4 })
  try {
    const { value, ms: took } = await timed(() => api.get(0, owner.slug, '/v1/me', owner.access))
    out.push({
      scenario: 'Redis slower than its deadline', fault: `every Redis request delayed ${redisTimeoutMs * 4} ms`, guarantee: 'signed-in reads answered from SQL, one Redis wait per request',
      bound: `REDIS_TIMEOUT_MS (${redisTimeoutMs} ms) once`, observed: `${value.status} after ${took} ms`,
      ok: value.status === 200 && took <= redisTimeoutMs + slack,
    })
  } finally {
    await deps.stack.backend.faults('redis', { mode: 'off' })
  }
  return out
}

/**
 * The backend SIGKILLed and restarted under load through three Workers: clients keep creating API
 * keys with an Idempotency-Key and retry each until it is acknowledged. Afterwards every
 * acknowledged key exists, and no retried creation exists twice.
 */
export async function killAndRestart(deps: ScenarioDeps, options: { seconds: number; clients: number }): Promise<Outcome[]> {
  const api = client(deps.stack, deps.adminToken)
  const owner = await api.signUp(0)
  // A webhook subscribed to api_key.created: every acknowledged key must leave its event in the outbox.
  const receiver = await startReceiver()
  must(await send(`${deps.stack.origin(0, owner.slug)}/v1/webhooks`, {
    body: { url: `${receiver.url}/hook`, events: ['api_key.created'] }, headers: api.bearer(owner.access),
  }), 201)
  const acknowledged = new Map<string, string>() // name → id
  const statuses = new Map<number, number>()
  const startedAt = Date.now()
  let stopAt = startedAt + options.seconds * 1000
  let killedAt = 0
  let restartedAt = 0

  async function oneClient(c: number) {
    let n = 0
    while (Date.now() < stopAt) {
      const name = `chaos ${c}-${n++}`
      const key = crypto.randomUUID()
      // Retry the same logical creation (same key, same body) until it is acknowledged.
      for (;;) {
        const r = await send(`${deps.stack.origin(n % deps.stack.workers, owner.slug)}/v1/api-keys`, {
          body: { name, roles: ['member'] }, headers: { ...api.bearer(owner.access), 'idempotency-key': key },
        }).catch(() => ({ status: 0, body: undefined }))
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        if (r.status === 201) {
          acknowledged.set(name, r.body.id)
          break
        }
        if (r.status === 409 && r.body?.error?.code === 'idempotency_key_committed') {
          acknowledged.set(name, String(r.body.error.details.location).split('/').pop()!)
          break
        }
        if (Date.now() > stopAt + 30_000) return
        await new Promise((res) => setTimeout(res, 200))
      }
    }
  }

  const load = Promise.all(Array.from({ length: options.clients }, (_, c) => oneClient(c)))
  await new Promise((r) => setTimeout(r, (options.seconds * 1000) / 3))
  killedAt = Date.now()
  const beforeKill = acknowledged.size
  await deps.stack.backend.kill()
  await new Promise((r) => setTimeout(r, 1000))
  await deps.stack.backend.start()
  restartedAt = Date.now()
  // Enough load after the restart for acknowledged writes on both sides of the kill.
  stopAt = Math.max(stopAt, restartedAt + 10_000)
  await load

  // Every acknowledged key, read back through the API (one page per 100).
  const names = new Map<string, number>()
  let cursor: string | null = null
  do {
    const page: { data: { name: string }[]; next_cursor: string | null } = must(await api.get(0, owner.slug, `/v1/api-keys?limit=100${cursor ? `&cursor=${cursor}` : ''}`, owner.access), 200).body
    for (const k of page.data) names.set(k.name, (names.get(k.name) ?? 0) + 1)
    cursor = page.next_cursor
  } while (cursor)
  const lost = [...acknowledged.keys()].filter((name) => !names.has(name))
  const doubled = [...names.entries()].filter(([, n]) => n > 1)

  // The outbox, read from the database: one api_key.created event with a delivery per acknowledged key.
  const schema = must(await send(`${deps.stack.origin(0)}/v1/tenants/${owner.tenantId}`, { headers: { authorization: `Bearer ${deps.adminToken}` } }), 200).body.schema_name as string
  const db = connectDatabase(deps.stack.databaseUrl, deps.stack.backend.sqlUrl)
  const events = await db.execute<{ key_id: string; deliveries: number }>(sql`
    select e.payload->>'api_key_id' as key_id, (select count(*)::int from ${sql.identifier(schema)}.webhook_deliveries d where d.event_id = e.id) as deliveries
    from ${sql.identifier(schema)}.webhook_events e where e.type = 'api_key.created'`)
  const withEvent = new Set(events.rows.filter((r) => Number(r.deliveries) > 0).map((r) => r.key_id))
  const eventLost = [...acknowledged.values()].filter((id) => !withEvent.has(id))
  // Deliver what is due (wrangler dev never fires the cron by itself) and count what reached the receiver.
  for (let w = 0; w < deps.stack.workers; w++) await send(`${deps.stack.origin(w)}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`).catch(() => undefined)
  await until(async () => ({ status: receiver.keyIds.size, body: null }), (r) => r.status >= acknowledged.size, 15_000, 500)
  await receiver.close()
  return [{
    scenario: 'kill and restart under load', fault: `backend SIGKILLed ${((killedAt - startedAt) / 1000).toFixed(1)} s into the load, back ${restartedAt - killedAt} ms later; ${options.clients} clients over ${deps.stack.workers} Workers`,
    guarantee: 'no acknowledged write lost; no retried creation duplicated (Idempotency-Key); every acknowledged key\'s webhook event in the outbox', bound: '—',
    observed: `${acknowledged.size} acknowledged (${beforeKill} before the kill), ${lost.length} lost, ${doubled.length} duplicated; `
      + `webhook events: ${eventLost.length} missing from the outbox, ${[...acknowledged.values()].filter((id) => receiver.keyIds.has(id)).length} delivered so far; `
      + `answers ${[...statuses.entries()].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`,
    ok: beforeKill > 0 && acknowledged.size > beforeKill && lost.length === 0 && doubled.length === 0 && eventLost.length === 0 && !statuses.has(500),
  }]
}

/** A webhook endpoint that answers 200 and remembers the API keys it was told about. */
async function startReceiver(): Promise<{ url: string; keyIds: Set<string>; close: () => Promise<void> }> {
  const keyIds = new Set<string>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      try {
        const id = (JSON.parse(body) as { data?: { api_key_id?: string } }).data?.api_key_id
        if (id) keyIds.add(id)
      } catch {
        // not an event
      }
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, keyIds, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
