import { type BodyLimit, RequestError } from '../common/http.ts'

/** One Redis command: its name followed by its arguments, all as text. */
export type Command = string[]

// Upstash caps request bodies (1 MB on the free plan, more on paid ones); 10 MiB keeps local runs unconstrained.
const MAX_BODY_BYTES = 10 * 1024 * 1024
export const BODY_LIMIT: BodyLimit = {
  maxBytes: MAX_BODY_BYTES,
  tooLarge: `ERR request body is larger than ${MAX_BODY_BYTES} bytes`,
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    throw new RequestError(400, 'ERR failed to parse the request body as JSON')
  }
}

/**
 * The client serialises arguments with `defaultSerializer` (pkg/commands/command.ts): strings,
 * numbers and booleans go as JSON scalars, anything else as a JSON string. Redis sees text.
 */
function toArgument(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value) ?? ''
}

function toCommand(value: unknown): Command {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RequestError(400, 'ERR a command must be a non-empty JSON array')
  }
  if (typeof value[0] !== 'string' || value[0] === '') {
    throw new RequestError(400, 'ERR the command name must be a non-empty string')
  }
  return value.map(toArgument)
}

/** The body of `POST /`: one command array such as `["SET", "k", "v", "EX", 100]`. */
export function parseCommandBody(body: string): Command {
  return toCommand(parseJson(body))
}

/** The body of `POST /pipeline` and `POST /multi-exec`: an array of command arrays. */
export function parseCommandListBody(body: string): Command[] {
  const value = parseJson(body)
  if (!Array.isArray(value) || value.length === 0) {
    throw new RequestError(400, 'ERR a pipeline must be a non-empty JSON array of commands')
  }
  return value.map(toCommand)
}

/**
 * The command-in-path form of the REST API: `/set/k/v` (GET or POST). A POST body, when present,
 * is the last argument as raw text; query parameters other than `_token` append `NAME value`
 * (`/set/k/v?EX=100`), as in Upstash's REST API documentation.
 */
export function commandFromPath(pathname: string, query: URLSearchParams, body: string): Command {
  const command = pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      try {
        return decodeURIComponent(segment)
      } catch {
        throw new RequestError(400, 'ERR malformed percent-encoding in the request path')
      }
    })
  if (body !== '') command.push(body)
  for (const [name, value] of query) {
    if (name === '_token') continue
    command.push(name)
    if (value !== '') command.push(value)
  }
  return command
}
