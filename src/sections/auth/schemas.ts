import { z } from '@hono/zod-openapi'
import { Email, MfaRequired, Password, TokenResponse, UserSchema } from '../../identity/schemas.ts'

export const RegisterBody = z.strictObject({ email: Email, password: Password, name: z.string().trim().min(1).max(200).optional() }).openapi('Register')
export const LoginBody = z.strictObject({ email: Email, password: Password }).openapi('Login')
export const RefreshBody = z.strictObject({ refresh_token: z.string().min(1).max(512) }).openapi('Refresh')
export const SwitchBody = z.strictObject({ tenant: z.string().min(1).max(63).openapi({ description: 'Slug or id of the tenant' }) }).openapi('SwitchTenant')

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
