import { OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from './app-env.ts'
import { commonError } from './errors.ts'

/** Zod issues as error details: where, what, and the validator's own code. */
export function validationError(error: z.ZodError) {
  const details = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message, code: issue.code }))
  const first = details[0]
  const message = first ? `Invalid ${first.path || 'input'}: ${first.message}` : undefined
  return commonError('validation_failed', message, details)
}

/** Each section builds its routes on one of these; a failed schema answers 400 validation_failed. */
export function sectionRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error)
    },
  })
}

/** A JSON answer of a route (for `responses`). */
export const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } })

/** A required JSON body (for `request`). */
export const body = <T>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } })

/** Routes for a signed-in user or an API key: a bearer access token (or API key). */
export const security = [{ bearer: [] }]

/** Routes of the platform API: the PLATFORM_ADMIN_TOKEN. */
export const platformAdminSecurity = [{ platformAdmin: [] }]

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error')

/** Standard error responses, for `responses` of a route. */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503>) {
  const descriptions: Record<number, string> = {
    400: 'Invalid input',
    401: 'Missing or invalid credentials',
    403: 'Not allowed',
    404: 'Not found',
    409: 'Conflict',
    413: 'Body too large',
    415: 'Body is not JSON',
    422: 'Idempotency-Key reused with another request (idempotency_key_reused)',
    429: 'Rate limited',
    503: 'A backing service is down',
  }
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s]!, content: { 'application/json': { schema: ErrorSchema } } }]),
  )
}

export const PaginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Page size (1–100, default 20)' }),
  cursor: z.string().max(200).optional().openapi({ description: 'Opaque cursor from the previous page’s next_cursor' }),
})
