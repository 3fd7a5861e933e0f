// Redis replies as the backends hand them over, and their JSON form on the Upstash REST wire.

/** A Redis error reply; `message` is the exact text Redis sends, e.g. "ERR syntax error". */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RedisReplyError'
  }
}

/** One RESP2 reply: bulk and status strings as bytes, integers as numbers, nil as null. */
export type Reply = Buffer | number | null | RedisReplyError | Reply[]

/**
 * Narrows to a Buffer. (@cloudflare/workers-types declares the global `Buffer` as `any`, so
 * `Buffer.isBuffer` and `instanceof Buffer` do not narrow in this project.)
 */
export function isBuffer(value: unknown): value is Buffer {
  return value instanceof Uint8Array && Buffer.isBuffer(value)
}

export type JsonReply = string | number | null | JsonReply[]

/** One entry of a `/pipeline` or `/multi-exec` answer, or the body of a `/` answer. */
export type ResultEntry = { result: JsonReply } | { error: string }

const OK = Buffer.from('OK')

/**
 * Converts a reply to its JSON wire form. With `Upstash-Encoding: base64` every string is
 * base64-encoded, except a top-level "OK", which the client compares before decoding
 * (`decode()` in @upstash/redis pkg/http.ts: `raw === "OK" ? "OK" : base64decode(raw)`).
 * Numbers and null pass through; arrays are converted element by element.
 */
export function encodeReply(reply: Reply, base64: boolean, topLevel = true): JsonReply {
  if (reply === null || typeof reply === 'number') return reply
  if (isBuffer(reply)) {
    if (topLevel && reply.equals(OK)) return 'OK'
    return base64 ? reply.toString('base64') : reply.toString('utf8')
  }
  if (reply instanceof RedisReplyError) {
    // An error nested in an array (a script or EXEC result) travels as a string.
    return encodeReply(Buffer.from(reply.message), base64, false)
  }
  return reply.map((item) => encodeReply(item, base64, false))
}

/** `{result}` for a reply, `{error}` for an error reply; errors are never base64-encoded. */
export function toResultEntry(reply: Reply, base64: boolean): ResultEntry {
  if (reply instanceof RedisReplyError) return { error: reply.message }
  return { result: encodeReply(reply, base64) }
}
