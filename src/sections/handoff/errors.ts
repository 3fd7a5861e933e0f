import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const HandoffErrors = {
  invalid_handoff: [400, 'This sign-in link is unknown, expired or already used: sign in again.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
