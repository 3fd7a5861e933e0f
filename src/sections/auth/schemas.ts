import { z } from '@hono/zod-openapi'

export const Email = z.email().max(254).transform((e) => e.trim().toLowerCase()).openapi({ example: 'ada@example.com' })
/** Policy minimums (tenant setting password_policy.min_length) are checked by the handler. */
export const Password = z.string().min(1).max(256).openapi({ format: 'password' })

export const RegisterBody = z.strictObject({ email: Email, password: Password, name: z.string().trim().min(1).max(200).optional() }).openapi('Register')
export const LoginBody = z.strictObject({ email: Email, password: Password }).openapi('Login')
export const RefreshBody = z.strictObject({ refresh_token: z.string().min(1).max(512) }).openapi('Refresh')
export const SwitchBody = z.strictObject({ tenant: z.string().min(1).max(63).openapi({ description: 'Slug or id of the tenant' }) }).openapi('SwitchTenant')

export const TokenResponse = z
  .object({ access_token: z.string(), refresh_token: z.string(), expires_in: z.number(), token_type: z.literal('Bearer') })
  .openapi('TokenResponse')

export const MfaRequired = z.object({ mfa_required: z.literal(true), mfa_token: z.string() }).openapi('MfaRequired')

export const UserSchema = z
  .object({ id: z.uuid(), email: z.string(), name: z.string().nullable(), email_verified: z.boolean(), has_password: z.boolean(), created_at: z.string() })
  .openapi('User')

const RegisteredTenant = z.object({ id: z.uuid(), slug: z.string() })
export const RegisterResponse = TokenResponse.extend({ user: UserSchema, tenant: RegisteredTenant }).openapi('Registered')
/** An existing account with TOTP on joined the tenant: its session waits for POST /v1/auth/mfa/verify, as a sign-in's does. */
export const RegisteredMfaRequired = MfaRequired.extend({ user: UserSchema, tenant: RegisteredTenant }).openapi('RegisteredMfaRequired')

/** A sign-up whose address is held by an account that was never verified: the owner gets a takeover link by mail. */
export const AddressClaim = z
  .object({
    address_claim: z.literal(true),
    claim_sent: z.boolean().openapi({ description: 'Whether the link was mailed now (false: the hourly mail limit, or mail trouble)' }),
    message: z.string(),
  })
  .openapi('AddressClaim')

/** A domain sign-up whose address is not verified yet: the membership waits for the emailed link. */
export const RegistrationPending = z
  .object({
    user: UserSchema,
    tenant: z.object({ id: z.uuid(), slug: z.string() }),
    verification_required: z.literal(true),
    verification_sent: z.boolean().openapi({ description: 'Whether a verification link was mailed now (false: the hourly mail limit, or mail trouble; signing in sends another)' }),
  })
  .openapi('RegistrationPending')
