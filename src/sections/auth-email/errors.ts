import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Error codes of the email flows: verification, password reset, magic link (docs/api/email-flows.md). */
export const EmailFlowErrors = {
  invalid_link: [400, 'This link is invalid, has expired or was already used: ask for a new one.'],
  email_already_verified: [409, 'Your email address is already verified.'],
  mail_unavailable: [503, 'The email could not be sent; try again later.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
