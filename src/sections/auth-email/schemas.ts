import { z } from '@hono/zod-openapi'
import { Email, Password } from '../../identity/schemas.ts'

/** The token of an emailed link (`randomToken()`: 256 bits, base64url). */
export const LinkToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]{32,128}$/, 'not a link token')
  .openapi({ description: 'The `token` parameter of the link in the email', example: 'q3Z0v9mJ8m1QZf0a9tF8mS5yq3Kc7nXH2wq0o1ZkQ4Y' })

export const EmailBody = z.strictObject({ email: Email }).openapi('EmailOnly')
export const TokenBody = z.strictObject({ token: LinkToken }).openapi('LinkToken')
export const ResetBody = z.strictObject({ token: LinkToken, password: Password }).openapi('PasswordReset')

/** The one answer of the requests that must not reveal whether an address has an account. */
export const Accepted = z.object({ message: z.string() }).openapi('EmailAccepted')

export const EmailVerified = z
  .object({
    email_verified: z.literal(true),
    membership_activated: z.boolean().openapi({ description: 'Whether this made a pending (domain sign-up) membership of this tenant active' }),
  })
  .openapi('EmailVerified')
export const PasswordChanged = z
  .object({ password_changed: z.literal(true), sessions_revoked: z.number().int().openapi({ description: 'Sessions of the account that were ended, in every tenant it belongs to' }) })
  .openapi('PasswordChanged')
