// Local stand-in for Neon's SQL-over-HTTP endpoint, so the Worker can keep using
// `@neondatabase/serverless` (neon() / drizzle-orm/neon-http) with `neonConfig.fetchEndpoint`
// pointed here. Behaviour follows the proxy (neondatabase/neon proxy/src/serverless/) and what the
// driver expects (node_modules/@neondatabase/serverless/index.mjs, the `execute` function of neon()).
//
// Run: `npx node local/sql-server.ts` (env SQL_PORT, ATRIUM_LOCAL_POSTGRES_URL, ATRIUM_PGLITE_DIR).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import pg from 'pg'
import { ADMIN_PREFIX, FaultGate } from './common/faults.ts'
import { RequestError, readBody, sendJson } from './common/http.ts'
import { closeOnSignal, isProgram, listen } from './common/serve.ts'
import { openBackend } from './sql/backend.ts'
import { SqlExecutor } from './sql/execute.ts'
import { BODY_LIMIT, parsePayload, parseRequestOptions } from './sql/request.ts'

export interface SqlServerOptions {
  /** Default 4444; 0 picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** A real Postgres to serve; when absent an embedded PGlite is used. */
  postgresUrl?: string
  /** PGlite persistence folder; absent = in-memory. Ignored with postgresUrl. */
  dataDir?: string
  /** Log the listening address and one line per request. */
  log?: boolean
}

export interface SqlServer {
  /** The value for `neonConfig.fetchEndpoint`, e.g. http://127.0.0.1:4444/sql */
  url: string
  port: number
  /** postgres:// URL of the same database for direct pg access (the PGlite socket or the real server). */
  directUrl: string
  close(): Promise<void>
}

// Same as the proxy's OPTIONS /sql answer (proxy/src/serverless/mod.rs, request_handler).
const PREFLIGHT_HEADERS = {
  Allow: 'OPTIONS, POST',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers':
    'Authorization, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level',
  'Access-Control-Max-Age': '86400',
}

// Error body of the proxy (sql_over_http.rs, handle): every key is always present; Postgres
// error fields are null when absent, and `code`/`severity` are "" for errors not from Postgres.
// The driver answers a 400 with NeonDbError(message) carrying these fields; any other status
// becomes "Server error (HTTP status N): <body>".
function errorBody(message: string, db?: pg.DatabaseError) {
  return {
    message,
    code: db?.code ?? '',
    detail: db?.detail ?? null,
    hint: db?.hint ?? null,
    position: db?.position ?? null,
    internalPosition: db?.internalPosition ?? null,
    internalQuery: db?.internalQuery ?? null,
    severity: db?.severity ?? '',
    where: db?.where ?? null,
    table: db?.table ?? null,
    column: db?.column ?? null,
    schema: db?.schema ?? null,
    dataType: db?.dataType ?? null,
    constraint: db?.constraint ?? null,
    file: db?.file ?? null,
    line: db?.line ?? null,
    routine: db?.routine ?? null,
  }
}

export async function startSqlServer(opts: SqlServerOptions = {}): Promise<SqlServer> {
  const log = opts.log ? (line: string) => console.log(`[sql] ${line}`) : () => {}
  const backend = await openBackend({
    postgresUrl: opts.postgresUrl,
    dataDir: opts.dataDir,
    onError: (error) => console.error('[sql] idle connection error:', error.message),
  })
  const executor = new SqlExecutor(backend.pool)
  // Injected failures and refused /__atrium/ requests answer in the proxy's `{message}` shape.
  const faults = new FaultGate({ errorBody: (message) => ({ message }) })

  async function serveSql(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    try {
      const options = parseRequestOptions(req.headers)
      const payload = parsePayload(body)
      if (payload.batch) {
        sendJson(res, 200, await executor.batch(payload.statements, options), options.batchHeaders)
      } else {
        sendJson(res, 200, await executor.single(payload.statement, options))
      }
    } catch (error) {
      if (error instanceof RequestError) sendJson(res, error.status, errorBody(error.message))
      else if (error instanceof pg.DatabaseError) sendJson(res, 400, errorBody(error.message, error))
      else sendJson(res, 500, errorBody((error as Error).message ?? String(error)))
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const path = new URL(req.url ?? '/', 'http://local').pathname
    const method = req.method ?? 'GET'
    res.on('finish', () => log(`${method} ${path} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`))
    try {
      const body = await readBody(req, BODY_LIMIT)
      if (path.startsWith(ADMIN_PREFIX)) return faults.handleAdmin(method, path, body, res)
      if (await faults.intercept(res)) return
      if (path === '/sql' && method === 'POST') return await serveSql(req, res, body)
      if (path === '/sql' && method === 'OPTIONS') {
        res.writeHead(200, PREFLIGHT_HEADERS).end()
        return
      }
      // The proxy answers anything else with 400 "query is not supported".
      sendJson(res, 400, { message: 'query is not supported' })
    } catch (error) {
      if (res.headersSent) return void res.destroy()
      const status = error instanceof RequestError ? error.status : 500
      sendJson(res, status, errorBody((error as Error).message))
    }
  }

  const server = createServer((req, res) => void handle(req, res))
  const listening = await listen(server, opts.port ?? 4444, opts.host ?? '127.0.0.1', backend)
  const address = listening.address
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}/sql`
  log(`listening on ${url} (${opts.postgresUrl ? 'Postgres' : 'PGlite'} at ${backend.directUrl})`)
  return { url, port: address.port, directUrl: backend.directUrl, close: listening.close }
}

if (isProgram(import.meta)) {
  const server = await startSqlServer({
    port: Number(process.env.SQL_PORT ?? 4444),
    postgresUrl: process.env.ATRIUM_LOCAL_POSTGRES_URL || undefined,
    dataDir: process.env.ATRIUM_PGLITE_DIR || '.atrium/pglite',
    log: true,
  })
  closeOnSignal('sql', server)
}
