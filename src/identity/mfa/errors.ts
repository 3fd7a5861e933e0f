import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Error codes of two-factor authentication (docs/api/mfa.md). A wrong code is `401` in the
 * sign-in step (it is a failed sign-in) and `403` on the signed-in endpoints (the caller is
 * authenticated; the proof it offered is not accepted), so clients that treat 401 as "refresh
 * the access token" do not sign the user out over a typo.
 */
export const MfaErrors = {
  mfa_already_enabled: [409, 'Two-factor authentication is already on: turn it off first to enrol another authenticator.'],
  mfa_enrolment_not_started: [409, 'No enrolment is waiting for confirmation: start one with POST /v1/me/mfa/totp.'],
  mfa_not_enabled: [404, 'Two-factor authentication is not on for this account.'],
  incorrect_mfa_code: [403, 'The code is not correct, or was already used.'],
  incorrect_password: [403, 'The password is not correct.'],
  password_required: [400, 'Send your password to confirm.'],
  mfa_code_required: [400, 'This account has no password: send a current code from your authenticator (or a backup code) to confirm.'],
  invalid_mfa_token: [401, 'The sign-in challenge is unknown, expired or already used: sign in again.'],
  invalid_mfa_code: [401, 'The code is not correct, or was already used.'],
  mfa_attempts_exceeded: [401, 'Too many wrong codes: sign in again.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
