import type { IncomingHttpHeaders } from 'node:http'
import { type BodyLimit, RequestError } from '../common/http.ts'

// Request shape of Neon's SQL-over-HTTP endpoint, as the proxy parses it
// (neondatabase/neon proxy/src/serverless/sql_over_http.rs: QueryData, Payload, HttpHeaders).

// The Neon proxy accepts request bodies up to 10 MiB by default (HttpConfig.max_request_size_bytes).
const MAX_BODY_BYTES = 10 * 1024 * 1024
export const BODY_LIMIT: BodyLimit = {
  maxBytes: MAX_BODY_BYTES,
  tooLarge: `request is too large (max is ${MAX_BODY_BYTES} bytes)`,
}

export interface QueryData {
  query: string
  params: (string | null)[]
  /** Per-statement override of the Neon-Array-Mode header (the proxy's `arrayMode` body field). */
  arrayMode: boolean | undefined
}

export type Payload = { batch: false; statement: QueryData } | { batch: true; statements: QueryData[] }

export interface RequestOptions {
  rawTextOutput: boolean
  arrayMode: boolean
  /** The BEGIN statement a batch runs in. */
  begin: string
  /** Response headers the proxy echoes on a batch. */
  batchHeaders: Record<string, string>
}

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: 'READ UNCOMMITTED',
  ReadCommitted: 'READ COMMITTED',
  RepeatableRead: 'REPEATABLE READ',
  Serializable: 'SERIALIZABLE',
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Reads the Neon-* option headers. As in the proxy, only the exact string `true` switches a flag
 * on (the client sends `String(readOnly)`, so "false" arrives too), and an unknown isolation level
 * is refused with 400 on any request, single statements included.
 * Neon-Connection-String is accepted and ignored: there is one local database.
 */
export function parseRequestOptions(headers: IncomingHttpHeaders): RequestOptions {
  const isTrue = (name: string) => header(headers, name) === 'true'
  const levelName = header(headers, 'neon-batch-isolation-level')
  const level = levelName === undefined ? undefined : ISOLATION_LEVELS[levelName]
  if (levelName !== undefined && level === undefined) throw new RequestError(400, 'invalid isolation level')

  const readOnly = isTrue('neon-batch-read-only')
  const deferrable = isTrue('neon-batch-deferrable')
  const modes: string[] = []
  const batchHeaders: Record<string, string> = {}
  if (level !== undefined && levelName !== undefined) {
    modes.push(`ISOLATION LEVEL ${level}`)
    batchHeaders['Neon-Batch-Isolation-Level'] = levelName
  }
  if (readOnly) {
    modes.push('READ ONLY')
    batchHeaders['Neon-Batch-Read-Only'] = 'true'
  }
  if (deferrable) {
    modes.push('DEFERRABLE')
    batchHeaders['Neon-Batch-Deferrable'] = 'true'
  }
  return {
    rawTextOutput: isTrue('neon-raw-text-output'),
    arrayMode: isTrue('neon-array-mode'),
    begin: modes.length === 0 ? 'BEGIN' : `BEGIN ${modes.join(', ')}`,
    batchHeaders,
  }
}

const parseError = (reason: string) => new RequestError(400, `could not parse the HTTP request body: ${reason}`)

export function parsePayload(body: string): Payload {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (error) {
    throw parseError((error as Error).message)
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const record = json as Record<string, unknown>
    // The proxy's Payload enum is untagged and tries a single statement before a batch.
    if ('query' in record) return { batch: false, statement: parseQueryData(record) }
    if (Array.isArray(record.queries)) {
      return { batch: true, statements: record.queries.map((q: unknown) => parseQueryData(q)) }
    }
  }
  throw parseError('expected {"query", "params"?} or {"queries": [...]}')
}

function parseQueryData(input: unknown): QueryData {
  if (typeof input !== 'object' || input === null) throw parseError('a statement must be an object')
  const { query, params, arrayMode } = input as Record<string, unknown>
  if (typeof query !== 'string') throw parseError('`query` must be a string')
  if (params !== undefined && !Array.isArray(params)) throw parseError('`params` must be an array')
  if (arrayMode !== undefined && typeof arrayMode !== 'boolean') throw parseError('`arrayMode` must be a boolean')
  return { query, params: (params ?? []).map(toPgText), arrayMode }
}

/**
 * The client sends every parameter as null or a string it already serialised (pg's prepareValue),
 * and those pass through untouched. Other JSON values get the proxy's conversion
 * (proxy/src/serverless/json.rs, json_to_pg_text): scalars and objects as JSON text, arrays as
 * Postgres array literals.
 */
function toPgText(value: unknown): string | null {
  if (value === null) return null
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return toPgArrayLiteral(value)
  return JSON.stringify(value)
}

function toPgArrayLiteral(value: unknown): string {
  if (value === null) return 'NULL'
  if (Array.isArray(value)) return `{${value.map(toPgArrayLiteral).join(',')}}`
  if (typeof value === 'object') return JSON.stringify(JSON.stringify(value))
  return JSON.stringify(value)
}
