import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Error codes of the account's own endpoints that other sections do not share (docs/api/auth.md, "Deleting the account"). */
export const AccountErrors = {
  password_required: [400, 'Enter your password to confirm.'],
  incorrect_password: [403, 'The password is not correct.'],
  reauthentication_required: [403, 'Sign in again (within the last 10 minutes) to confirm: this account has no password.'],
  sole_owner: [409, 'You are the only owner of organizations that have other members: make another member an owner there, or remove its members, first.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
