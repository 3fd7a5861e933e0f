import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** The one error type of the app: an HTTP status, a stable machine code, a human message and optional details. */
export class AppError extends Error {
  readonly status: ContentfulStatusCode
  readonly code: string
  readonly details?: unknown

  constructor(status: ContentfulStatusCode, code: string, message: string, details?: unknown, options?: ErrorOptions) {
    super(message, options)
    this.name = 'AppError'
    this.status = status
    this.code = code
    this.details = details
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } }
}

/**
 * Codes shared by every section. Sections keep their own codes in their own `errors.ts`.
 * Each entry is [status, message].
 */
export const CommonErrors = {
  validation_failed: [400, 'The request is not valid.'],
  malformed_json: [400, 'The request body is not valid JSON.'],
  unsupported_media_type: [415, 'The request body must be application/json.'],
  payload_too_large: [413, 'The request body is too large.'],
  unauthenticated: [401, 'Authentication is required.'],
  invalid_token: [401, 'The access token is invalid or expired.'],
  forbidden: [403, 'You are not allowed to do this.'],
  not_found: [404, 'Not found.'],
  method_not_allowed: [405, 'Method not allowed.'],
  conflict: [409, 'The resource changed or already exists.'],
  rate_limited: [429, 'Too many requests.'],
  service_unavailable: [503, 'A backing service is unavailable.'],
  database_unavailable: [503, 'The database is unavailable; retry shortly.'],
  cache_unavailable: [503, 'The cache is unavailable; retry shortly.'],
  internal_error: [500, 'Something went wrong on our side.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>

export type CommonErrorCode = keyof typeof CommonErrors

/** Build an AppError from a code table entry, optionally overriding the message. */
export function fail<T extends Record<string, readonly [ContentfulStatusCode, string]>>(
  table: T,
  code: keyof T & string,
  message?: string,
  details?: unknown,
): AppError {
  const [status, defaultMessage] = table[code]!
  return new AppError(status, code, message ?? defaultMessage, details)
}

export const commonError = (code: CommonErrorCode, message?: string, details?: unknown): AppError =>
  fail(CommonErrors, code, message, details)
