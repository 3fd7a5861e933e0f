import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { commonError } from '../../errors.ts'

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i
const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Every request body is JSON: refuse an oversized body (413), a body of another media type
 * (415) and malformed JSON or UTF-8 (400) before any handler runs, with the shared error shape.
 * The decoded text is cached on the request (Hono's bodyCache), so validators read it from there.
 */
export function jsonBody(options: { maxBytes: number | ((c: Context) => number) }): MiddlewareHandler {
  // By size: the limit may come from the configuration, read per request (one limiter per value).
  const limits = new Map<number, MiddlewareHandler>()
  const limitOf = (maxBytes: number) => {
    let limit = limits.get(maxBytes)
    if (!limit) {
      limit = bodyLimit({
        maxSize: maxBytes,
        onError: () => {
          throw commonError('payload_too_large', `The request body is larger than ${maxBytes} bytes.`)
        },
      })
      limits.set(maxBytes, limit)
    }
    return limit
  }
  return async function jsonBodyMiddleware(c, next) {
    if (!WITH_BODY.has(c.req.method)) return next()
    const length = c.req.header('content-length')
    const hasBody = length !== undefined ? Number(length) > 0 : c.req.raw.body !== null
    if (!hasBody) return next()
    const type = c.req.header('content-type')
    if (!type || !JSON_TYPE.test(type)) throw commonError('unsupported_media_type', `Send the body as application/json (got ${type ?? 'no Content-Type'}).`)
    const limit = limitOf(typeof options.maxBytes === 'function' ? options.maxBytes(c) : options.maxBytes)
    return limit(c, async () => {
      // JSON is UTF-8 (RFC 8259 §8.1): bytes that are not are refused, never silently turned into U+FFFD.
      let text: string
      try {
        text = strictUtf8.decode(await c.req.arrayBuffer())
      } catch {
        throw commonError('malformed_json', 'The request body is not valid UTF-8.')
      }
      ;(c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text)
      try {
        JSON.parse(text)
      } catch {
        throw commonError('malformed_json')
      }
      await next()
    })
  }
}
