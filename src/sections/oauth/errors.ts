import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { AppError } from '../../errors.ts'

/** Error codes of social login, linked identities and the tenant's provider settings (docs/api/oauth.md). */
export const OAuthErrors = {
  unknown_provider: [404, 'Unknown sign-in provider: use google, github, facebook or tiktok.'],
  provider_not_configured: [404, 'This sign-in provider is not set up for this organization.'],
  provider_disabled: [404, 'This organization has turned this sign-in provider off.'],
  invalid_redirect: [400, 'redirect_to must be a URL on this organization’s own host.'],
  invalid_state: [400, 'This sign-in attempt is unknown, expired or already used: start again.'],
  browser_mismatch: [400, 'This sign-in attempt was started in another browser: start again here.'],
  oauth_denied: [401, 'The sign-in was cancelled or refused at the provider.'],
  oauth_code_rejected: [401, 'The provider did not accept the authorization code: start again.'],
  provider_unavailable: [502, 'The sign-in provider could not be reached or answered unexpectedly.'],
  provider_profile_invalid: [502, 'The sign-in provider did not return a usable profile.'],
  provider_credentials_unreadable: [503, 'The stored credentials of this provider cannot be read: an admin must set them again.'],
  oauth_email_in_use: [409, 'An account with this email already exists. Sign in to it another way: it is linked automatically only when both sides have verified the email.'],
  provider_already_linked: [409, 'This account is already linked to another account of this provider.'],
  identity_in_use: [409, 'This provider account is already linked to another account: sign in with it there, or unlink it there first.'],
  identity_not_found: [404, 'No identity of this provider is linked to your account.'],
  last_sign_in_method: [409, 'This is your last way to sign in: set a password or link another provider first.'],
  provider_settings_not_found: [404, 'This organization has no settings of its own for this provider.'],
  client_secret_required: [400, 'client_secret is required (it may only be left out to keep the stored secret of the same client_id).'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>

/** A provider failure, keeping the underlying error as `cause` for the log (5xx are logged with it). */
export function providerUnavailable(details?: unknown, cause?: unknown): AppError {
  return new AppError(OAuthErrors.provider_unavailable[0], 'provider_unavailable', OAuthErrors.provider_unavailable[1], details, cause === undefined ? undefined : { cause })
}
