import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const IdentityErrors = {
  invalid_credentials: [401, 'The email or password is not correct.'],
  account_locked: [429, 'Too many failed attempts; try again later.'],
  email_taken: [409, 'An account with this email already exists.'],
  signup_closed: [403, 'This organization does not accept sign-ups.'],
  signup_domain_refused: [403, 'This organization only accepts sign-ups from its own email domains.'],
  weak_password: [400, 'The password does not meet the password policy.'],
  invalid_current_password: [400, 'The current password is not correct.'],
  no_password: [409, 'This account has no password yet: set one through a password-reset link.'],
  invalid_grant: [401, 'The refresh token is invalid, expired or already used.'],
  not_a_member: [403, 'You are not a member of this organization.'],
  email_verification_required: [403, 'Confirm your email address to join this organization: follow the link we sent you.'],
  session_not_found: [404, 'No such session.'],
  mail_unavailable: [503, 'The email could not be sent; try again later.'],
  mfa_enrolment_required: [403, 'This organization requires two-factor authentication: enrol at POST /v1/me/mfa/totp first.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
