import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Codes of the Idempotency-Key mechanism (docs/reliability.md). */
export const IdempotencyErrors = {
  idempotency_key_invalid: [400, 'Idempotency-Key must be 1 to 255 visible ASCII characters.'],
  idempotency_key_reused: [422, 'This Idempotency-Key was used with a different request; use a new key for a new request.'],
  idempotency_in_progress: [409, 'A request with this Idempotency-Key is still being processed; retry after the indicated delay.'],
  idempotency_key_committed: [409, 'The request with this Idempotency-Key was carried out, but its answer could not be stored; the resource is at details.location.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
