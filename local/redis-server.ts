// A local endpoint that speaks the Upstash Redis REST protocol, so the Worker and the tests use
// the real `@upstash/redis` client with only the URL changed. Run directly:
//   npx node local/redis-server.ts   (REDIS_REST_PORT=8079, UPSTASH_REDIS_REST_TOKEN, ATRIUM_LOCAL_REDIS_URL)
//
// Wire format, as read in @upstash/redis 1.39 (pkg/http.ts, pkg/pipeline.ts, pkg/auto-pipeline.ts):
//   POST /            ["SET","k","v","EX",100]      → 200 {result} | 400 {error}
//   POST /pipeline    [[...],[...]]                 → 200 [{result}|{error}, ...]
//   POST /multi-exec  [[...],[...]]                 → 200 [{result}|{error}, ...] | 400 {error} (discarded)
//   GET|POST /set/k/v                               → as POST /
// Every request needs `Authorization: Bearer <token>` (or ?_token=); 401 {error:"Unauthorized"}.
// `Upstash-Encoding: base64` base64-encodes result strings (see reply.ts). Responses carry an
// `upstash-sync-token` header, which the client sends back for read-your-writes.
// Test controls (fault injection, request counters) live under /__atrium/ (see common/faults.ts);
// its stats add `commands`, the Redis commands run. /__atrium/* does not need the token.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { ADMIN_PREFIX, FaultGate } from './common/faults.ts'
import { CORS_HEADERS, RequestError, readBody, sendJson } from './common/http.ts'
import { closeOnSignal, isProgram, listen } from './common/serve.ts'
import type { RedisBackend } from './redis/backend.ts'
import { EmbeddedBackend } from './redis/embedded-backend.ts'
import { RemoteBackend } from './redis/remote-backend.ts'
import { RedisReplyError, toResultEntry } from './redis/reply.ts'
import {
  BODY_LIMIT, type Command, commandFromPath, parseCommandBody, parseCommandListBody,
} from './redis/request.ts'

export interface RedisServerOptions {
  /** Default 8079; 0 picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** The bearer token clients must send (UPSTASH_REDIS_REST_TOKEN). */
  token: string
  /** A real Redis (redis://…); without it an embedded in-memory store is used. */
  redisUrl?: string
  /** Logs one line per request. */
  log?: boolean
}

export interface RedisServer {
  /** http://127.0.0.1:PORT — the UPSTASH_REDIS_REST_URL for clients. */
  url: string
  port: number
  close(): Promise<void>
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function presentedToken(req: IncomingMessage, url: URL): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')
  return match?.[1]?.trim() ?? url.searchParams.get('_token')
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return host.includes(':') ? `[${host}]` : host
}

/** Starts the endpoint; resolves once it listens (and, with `redisUrl`, once Redis answered). */
export async function startRedisServer(options: RedisServerOptions): Promise<RedisServer> {
  if (!options.token) throw new Error('startRedisServer: a token is required')
  const host = options.host ?? '127.0.0.1'
  const backend: RedisBackend = options.redisUrl ? await RemoteBackend.connect(options.redisUrl) : new EmbeddedBackend()
  const gate = new FaultGate({ errorBody: (error) => ({ error }), counters: ['commands'] })
  const tokenDigest = digest(options.token)
  let syncToken = 0

  async function runCommand(command: Command, base64: boolean, res: ServerResponse, headers: Record<string, string>) {
    gate.count('commands', 1)
    const entry = toResultEntry(await backend.exec(command), base64)
    sendJson(res, 'error' in entry ? 400 : 200, entry, headers)
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET'
    if (url.pathname.startsWith(ADMIN_PREFIX)) {
      gate.handleAdmin(method, url.pathname, await readBody(req, BODY_LIMIT), res)
      return
    }
    if (await gate.intercept(res)) return
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS_HEADERS,
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
      })
      res.end()
      return
    }
    // Compares digests so that the comparison takes the same time whatever the token's length.
    const token = presentedToken(req, url)
    if (token === null || !timingSafeEqual(digest(token), tokenDigest)) {
      sendJson(res, 401, { error: 'Unauthorized' })
      return
    }
    const body = await readBody(req, BODY_LIMIT)
    const base64 = req.headers['upstash-encoding']?.toString().toLowerCase() === 'base64'
    const headers = { 'upstash-sync-token': String(++syncToken) }
    const path = url.pathname.replace(/\/+$/, '') || '/'
    if (path === '/' || path === '/pipeline' || path === '/multi-exec') {
      if (method !== 'POST') throw new RequestError(405, `ERR ${method} is not allowed on ${path}`)
      if (path === '/') {
        await runCommand(parseCommandBody(body), base64, res, headers)
        return
      }
      const commands = parseCommandListBody(body)
      gate.count('commands', commands.length)
      if (path === '/pipeline') {
        const replies = await backend.pipeline(commands)
        sendJson(res, 200, replies.map((reply) => toResultEntry(reply, base64)), headers)
        return
      }
      const replies = await backend.transaction(commands)
      if (replies instanceof RedisReplyError) sendJson(res, 400, { error: replies.message }, headers)
      else sendJson(res, 200, replies.map((reply) => toResultEntry(reply, base64)), headers)
      return
    }
    if (method !== 'GET' && method !== 'POST') throw new RequestError(405, `ERR ${method} is not allowed`)
    await runCommand(commandFromPath(url.pathname, url.searchParams, body), base64, res, headers)
  }

  const server = createServer((req, res) => {
    const started = performance.now()
    const url = new URL(req.url ?? '/', 'http://localhost')
    route(req, res, url)
      .catch((error: unknown) => {
        if (res.headersSent) return
        if (error instanceof RequestError) {
          sendJson(res, error.status, { error: error.message })
          return
        }
        console.error('[redis-rest] request failed:', error)
        sendJson(res, 500, { error: `ERR ${error instanceof Error ? error.message : String(error)}` })
      })
      .finally(() => {
        if (options.log) {
          const elapsed = (performance.now() - started).toFixed(1)
          console.log(`[redis-rest] ${req.method} ${url.pathname} ${res.statusCode} ${elapsed} ms`)
        }
      })
  })

  const listening = await listen(server, options.port ?? 8079, host, backend)
  const port = listening.address.port
  const url = `http://${urlHost(host)}:${port}`
  if (options.log) console.log(`[redis-rest] listening on ${url}, backed by ${backend.description}`)
  return { url, port, close: listening.close }
}

if (isProgram(import.meta)) {
  const redisUrl = process.env.ATRIUM_LOCAL_REDIS_URL || undefined
  const server = await startRedisServer({
    port: Number(process.env.REDIS_REST_PORT ?? 8079),
    token: process.env.UPSTASH_REDIS_REST_TOKEN || 'atrium-local-token',
    redisUrl,
    log: process.env.REDIS_REST_LOG === '1',
  })
  const backend = redisUrl ? 'the Redis at ATRIUM_LOCAL_REDIS_URL' : 'the embedded in-memory store'
  console.log(`Upstash Redis REST endpoint listening on ${server.url} (backed by ${backend})`)
  closeOnSignal('redis-rest', server)
}
