/**
 * `node bench/profile.ts [--route tenant|tenant-auth|me|members|login|bare] [--requests 2000]`:
 * a V8 CPU profile of the Worker under workerd alone (the bundle `wrangler deploy` would upload),
 * taken through workerd's inspector while one route is called, printed as the functions with the
 * most self time and the most inclusive time. Where a route's CPU goes, rather than a guess.
 * Loopback only; bounded; everything started here is stopped at the end.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { generatePrivateKeyPem, signingKeys } from '../src/platform/signing-keys.ts'
import { freePort } from '../local/scratch.ts'
import { expectStatus, load, loopback, send } from './http.ts'
import { startStack } from './stack.ts'

const { values } = parseArgs({ options: { route: { type: 'string', default: 'tenant' }, requests: { type: 'string', default: '2000' }, top: { type: 'string', default: '30' } } })
const requests = Number(values.requests)
const top = Number(values.top)

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** One DevTools-protocol session over the inspector's WebSocket. */
async function inspect(port: number, service: string) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { id: string; title?: string; webSocketDebuggerUrl: string }[]
  const target = targets.find((t) => t.id === service || t.title === service || t.webSocketDebuggerUrl.endsWith(`/${service}`)) ?? targets[0]
  if (!target) throw new Error(`no inspector target for ${service}: ${JSON.stringify(targets)}`)
  const socket = new WebSocket(target.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => {
    socket.onopen = resolve
    socket.onerror = reject
  })
  let next = 0
  const waiting = new Map<number, (result: unknown) => void>()
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown }
    if (message.id !== undefined) waiting.get(message.id)?.(message.error ? Promise.reject(new Error(JSON.stringify(message.error))) : message.result)
  }
  return {
    send: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((resolve) => {
        const id = ++next
        waiting.set(id, resolve as (r: unknown) => void)
        socket.send(JSON.stringify({ id, method, params }))
      }),
    close: () => socket.close(),
  }
}

function summarise(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id)
  const keyOf = (n: ProfileNode) => {
    const file = n.callFrame.url.split('/').pop() || '(native)'
    return `${n.callFrame.functionName || '(anonymous)'}  ${file}:${n.callFrame.lineNumber + 1}`
  }
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    const node = byId.get(id)!
    if (node.callFrame.functionName === '(idle)') {
      idle += delta
      return
    }
    total += delta
    self.set(keyOf(node), (self.get(keyOf(node)) ?? 0) + delta)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at)!)
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta)
    }
  })
  const table = (map: Map<string, number>) =>
    [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000 / requests).toFixed(3)} ms/req  ${key}`)
  return { totalMsPerRequest: total / 1000 / requests, idleMs: idle / 1000, self: table(self), inclusive: table(inclusive) }
}

const keys = await signingKeys(await generatePrivateKeyPem())
const secrets = {
  UPSTASH_REDIS_REST_TOKEN: randomBytes(24).toString('base64url'),
  PLATFORM_ADMIN_TOKEN: `bench-admin-${randomBytes(16).toString('hex')}`,
  JWT_PRIVATE_KEY: JSON.stringify(keys.privateJwk),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
}
const inspectorPort = await freePort()
const stack = await startStack(secrets, { label: 'profile', inspectorPort })
let failed = false
try {
  const slug = `profile-${Date.now().toString(36)}`
  expectStatus(await send(`${stack.origin()}/v1/tenants`, { body: { slug, name: 'Profile', settings: { signup_policy: 'open' } }, headers: { authorization: `Bearer ${secrets.PLATFORM_ADMIN_TOKEN}` } }), 201)
  const origin = stack.directOrigin(slug)
  const credentials = { email: `profile-${Date.now()}@example.com`, password: 'correct horse battery staple' }
  let ip = 0
  const nextIp = () => `198.18.${(++ip >> 8) & 255}.${ip & 255}`
  const registered = expectStatus(await send(`${origin}/v1/auth/register`, { body: credentials, headers: { 'cf-connecting-ip': nextIp() } }), 201)
  const bearer = { authorization: `Bearer ${registered.body.access_token}` }
  const calls: Record<string, () => Promise<unknown>> = {
    bare: async () => expectStatus(await send(`${stack.directBareOrigin}/v1/bare`), 200),
    tenant: async () => expectStatus(await send(`${origin}/v1/tenant`), 200),
    'tenant-auth': async () => expectStatus(await send(`${origin}/v1/tenant`, { headers: bearer }), 200),
    me: async () => expectStatus(await send(`${origin}/v1/me`, { headers: bearer }), 200),
    members: async () => expectStatus(await send(`${origin}/v1/members`, { headers: bearer }), 200),
    login: async () => expectStatus(await send(`${origin}/v1/auth/login`, { body: credentials, headers: { 'cf-connecting-ip': nextIp() } }), 200),
  }
  const one = calls[values.route!]
  if (!one) throw new Error(`--route must be one of ${Object.keys(calls).join(', ')}`)
  await load(Math.min(200, requests), 4, one)
  const session = await inspect(inspectorPort, values.route === 'bare' ? 'bare' : 'app')
  await session.send('Profiler.enable')
  await session.send('Profiler.setSamplingInterval', { interval: 100 })
  await session.send('Profiler.start')
  await load(requests, 4, one)
  const { profile } = await session.send<{ profile: Profile }>('Profiler.stop')
  session.close()
  const summary = summarise(profile)
  console.log(`\n${values.route}: ${summary.totalMsPerRequest.toFixed(3)} ms of sampled CPU per request (${requests} requests)\n\nself time:\n${summary.self.join('\n')}\n\ninclusive time:\n${summary.inclusive.join('\n')}`)
} catch (err) {
  console.error(err)
  failed = true
} finally {
  await stack.stop()
  await loopback.destroy()
}
process.exit(failed ? 1 : 0)
