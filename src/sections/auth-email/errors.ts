import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Error codes of the email flows: verification, password reset, magic link (docs/api/email-flows.md); `mail_unavailable` is the identity core's. */
export const EmailFlowErrors = {
  invalid_link: [400, 'This link is invalid, has expired or was already used: ask for a new one.'],
  email_already_verified: [409, 'Your email address is already verified.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
