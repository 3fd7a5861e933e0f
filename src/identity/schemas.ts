import { z } from '@hono/zod-openapi'

/** The account and token shapes that every way of signing in answers with (several sections). */

export const Email = z.email().max(254).transform((e) => e.trim().toLowerCase()).openapi({ example: 'ada@example.com' })
/** Policy minimums (tenant setting password_policy.min_length) are checked by the handler. */
export const Password = z.string().min(1).max(256).openapi({ format: 'password' })

export const TokenResponse = z
  .object({ access_token: z.string(), refresh_token: z.string(), expires_in: z.number(), token_type: z.literal('Bearer') })
  .openapi('TokenResponse')

export const MfaRequired = z.object({ mfa_required: z.literal(true), mfa_token: z.string() }).openapi('MfaRequired')

export const UserSchema = z
  .object({ id: z.uuid(), email: z.string(), name: z.string().nullable(), email_verified: z.boolean(), has_password: z.boolean(), created_at: z.string() })
  .openapi('User')
