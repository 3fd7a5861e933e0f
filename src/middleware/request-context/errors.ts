import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { ConfigError } from '../../config.ts'
import { AppError, commonError, errorBody } from '../../errors.ts'
import { dependencyFailure } from '../../platform/dependency-errors.ts'
import type { Logger } from '../../platform/logger.ts'

function respond(c: Context, err: AppError) {
  return c.json(errorBody(err.code, err.message, err.details), err.status)
}

/**
 * The one place where errors become responses: AppError keeps its status and code; Hono's
 * HTTPExceptions (raised by its own validators and middleware) are mapped to our codes; a backend
 * that is down or past its deadline is a 503 (src/platform/dependency-errors.ts);
 * anything else is logged with the request id and answered as a 500 without internals.
 */
export const handleError: ErrorHandler = (err, c) => {
  const logger = c.get('logger') as Logger | undefined
  // An outage is an outage wherever it surfaced, even wrapped by a driver or a section: 503 with
  // Retry-After and a stable code, so that a 500 only ever means a bug.
  const outage = dependencyFailure(err)
  if (outage) {
    logger?.warn('dependency unavailable', { code: outage.code, kind: outage.kind, detail: outage.detail })
    c.header('Retry-After', String(outage.retryAfterSeconds))
    return respond(c, outage)
  }
  if (err instanceof AppError) {
    if (err.status >= 500) logger?.error('request failed', { err, code: err.code })
    return respond(c, err)
  }
  if (err instanceof HTTPException) {
    if (err.status === 413) return respond(c, commonError('payload_too_large'))
    if (err.status === 415) return respond(c, commonError('unsupported_media_type'))
    if (err.status === 401) return respond(c, commonError('unauthenticated'))
    if (err.status === 400) {
      const malformed = /malformed json/i.test(err.message)
      return respond(c, malformed ? commonError('malformed_json') : commonError('validation_failed', err.message || undefined))
    }
    if (err.status < 500) return c.json(errorBody('http_error', err.message || 'Request refused.'), err.status)
  }
  if (err instanceof ConfigError) {
    logger?.error('configuration error', { err })
    return c.json(errorBody('misconfigured', err.message), 500)
  }
  logger?.error('unhandled error', { err })
  return respond(c, commonError('internal_error'))
}

export const handleNotFound: NotFoundHandler = (c) =>
  c.json(errorBody('not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), 404)
