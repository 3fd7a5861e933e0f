import type { IncomingMessage, ServerResponse } from 'node:http'

/** Thrown for requests the server refuses before touching the database; answered with `status`. */
export class RequestError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'RequestError'
    this.status = status
  }
}

// The Neon proxy accepts request bodies up to 10 MiB by default (HttpConfig.max_request_size_bytes).
const MAX_BODY_BYTES = 10 * 1024 * 1024

/** Reads the whole request body as UTF-8, refusing bodies over the proxy's size limit with 413. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) {
      throw new RequestError(413, `request is too large (max is ${MAX_BODY_BYTES} bytes)`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Sends a JSON response; every response of the local endpoints carries a permissive CORS origin. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Access-Control-Allow-Origin': '*',
    ...headers,
  })
  res.end(text)
}
