import type { IncomingMessage, ServerResponse } from 'node:http'

/** Thrown for requests an endpoint refuses before touching its backend; answered with `status`. */
export class RequestError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'RequestError'
    this.status = status
  }
}

/** How large a request body an endpoint accepts, and the message it refuses larger ones with. */
export interface BodyLimit {
  maxBytes: number
  tooLarge: string
}

/** Reads the whole request body as UTF-8, refusing bodies over the limit with 413. */
export async function readBody(req: IncomingMessage, limit: BodyLimit): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit.maxBytes) throw new RequestError(413, limit.tooLarge)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Every response of the local endpoints carries a permissive CORS origin. */
export const CORS_HEADERS = { 'Access-Control-Allow-Origin': '*' }

/** Sends a JSON response. */
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
    ...CORS_HEADERS,
    ...headers,
  })
  res.end(text)
}
