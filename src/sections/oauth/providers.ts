import {
  Facebook,
  GitHub,
  Google,
  OAuth2RequestError,
  TikTok,
  UnexpectedErrorResponseBodyError,
  type OAuth2Tokens,
} from 'arctic'
import type { Config } from '../../config.ts'
import { AppError, fail } from '../../errors.ts'
import { decryptSecret } from '../../identity/secrets.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { OAuthErrors, providerUnavailable } from './errors.ts'
import { facebookProfile, githubProfile, googleProfile, tiktokProfile, type ProviderProfile } from './profile.ts'
import { StoredProviderSettings, type ProviderId } from './schemas.ts'

/** The OAuth app a tenant signs in with: its own (settings.oauth.<provider>) or the platform's default. */
export interface ProviderCredentials {
  clientId: string
  clientSecret: string
  source: 'tenant' | 'platform'
}

/** One social sign-in provider, as the routes use it. */
export interface OAuthProvider {
  readonly id: ProviderId
  /** Whether the flow carries a PKCE code verifier (arctic's API for Google and TikTok; not GitHub or Facebook). */
  readonly pkce: boolean
  /** Where to send the browser; `codeVerifier` is ignored by providers without PKCE. */
  authorizationUrl(state: string, codeVerifier: string): URL
  /** Trade the callback's code for tokens at the provider's token endpoint. */
  exchangeCode(code: string, codeVerifier: string | null): Promise<OAuth2Tokens>
  /** Who the tokens belong to. */
  fetchProfile(tokens: OAuth2Tokens): Promise<ProviderProfile>
}

const PLATFORM_ENV = {
  google: ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'],
  github: ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET'],
  facebook: ['FACEBOOK_CLIENT_ID', 'FACEBOOK_CLIENT_SECRET'],
  tiktok: ['TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET'],
} as const satisfies Record<ProviderId, readonly [keyof Config, keyof Config]>

/** AES-GCM additional data of a tenant's client secret: the ciphertext is useless in any other tenant or provider slot. */
export const secretContext = (tenantId: string, provider: ProviderId) => `oauth:${tenantId}:${provider}`

export function platformCredentials(config: Config, provider: ProviderId): ProviderCredentials | undefined {
  const [idKey, secretKey] = PLATFORM_ENV[provider]
  const clientId = config[idKey] as string | undefined
  const clientSecret = config[secretKey] as string | undefined
  return clientId && clientSecret ? { clientId, clientSecret, source: 'platform' } : undefined
}

/** The raw value under settings.oauth.<provider>, if the tenant has one. */
export function ownSettingsValue(tenant: Pick<Tenant, 'settings'>, provider: ProviderId): unknown {
  const oauth = tenant.settings.oauth
  return typeof oauth === 'object' && oauth !== null ? (oauth as Record<string, unknown>)[provider] : undefined
}

export function ownSettings(tenant: Pick<Tenant, 'settings'>, provider: ProviderId): StoredProviderSettings | undefined {
  const parsed = StoredProviderSettings.safeParse(ownSettingsValue(tenant, provider))
  return parsed.success ? parsed.data : undefined
}

/**
 * The credentials sign-in uses on this tenant. The tenant's own settings win, including
 * `enabled: false`, which turns the provider off even where the platform has a default.
 */
export async function providerCredentials(config: Config, tenant: Pick<Tenant, 'id' | 'settings'>, provider: ProviderId): Promise<ProviderCredentials> {
  const raw = ownSettingsValue(tenant, provider)
  if (raw !== undefined && raw !== null) {
    const own = StoredProviderSettings.safeParse(raw)
    if (!own.success) throw fail(OAuthErrors, 'provider_credentials_unreadable')
    if (!own.data.enabled) throw fail(OAuthErrors, 'provider_disabled')
    let clientSecret: string
    try {
      clientSecret = await decryptSecret(config.DATA_ENCRYPTION_KEY, own.data.client_secret_enc, secretContext(tenant.id, provider))
    } catch {
      // Another key (DATA_ENCRYPTION_KEY changed) or a value copied from elsewhere.
      throw fail(OAuthErrors, 'provider_credentials_unreadable')
    }
    return { clientId: own.data.client_id, clientSecret, source: 'tenant' }
  }
  const platform = platformCredentials(config, provider)
  if (!platform) throw fail(OAuthErrors, 'provider_not_configured')
  return platform
}

const SCOPES: Record<ProviderId, string[]> = {
  google: ['openid', 'email', 'profile'],
  github: ['read:user', 'user:email'],
  facebook: ['email', 'public_profile'],
  tiktok: ['user.info.basic'],
}

/** arctic's errors as ours: the provider refused the code (the user's problem) or failed (the provider's). */
async function exchanging(run: () => Promise<OAuth2Tokens>): Promise<OAuth2Tokens> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof OAuth2RequestError) throw fail(OAuthErrors, 'oauth_code_rejected', undefined, { provider_error: err.code })
    // Facebook refuses a code with 400 and its own error shape ({error: {type, code, message}}), not RFC 6749's.
    if (err instanceof UnexpectedErrorResponseBodyError && (err.status === 400 || err.status === 401)) {
      const type = (err.data as { error?: { type?: unknown } } | null)?.error?.type
      throw fail(OAuthErrors, 'oauth_code_rejected', undefined, { provider_error: typeof type === 'string' ? type : null })
    }
    // ArcticFetchError (network), UnexpectedResponseError (a status other than 200/400/401), a body that is no OAuth error.
    throw providerUnavailable(undefined, err)
  }
}

/** A token response without the fields a profile needs (arctic throws plain Errors) is the provider's fault. */
async function profiling(run: () => Promise<ProviderProfile> | ProviderProfile): Promise<ProviderProfile> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof AppError) throw err
    throw new AppError(OAuthErrors.provider_profile_invalid[0], 'provider_profile_invalid', OAuthErrors.provider_profile_invalid[1], undefined, { cause: err })
  }
}

/** The provider's client for one tenant, with its credentials and redirect URI. */
export function oauthProvider(id: ProviderId, credentials: ProviderCredentials, redirectUri: string): OAuthProvider {
  const { clientId, clientSecret } = credentials
  const scopes = SCOPES[id]
  switch (id) {
    case 'google': {
      const client = new Google(clientId, clientSecret, redirectUri)
      return {
        id, pkce: true,
        authorizationUrl: (state, verifier) => client.createAuthorizationURL(state, verifier, scopes),
        exchangeCode: (code, verifier) => exchanging(() => client.validateAuthorizationCode(code, verifier ?? '')),
        fetchProfile: (tokens) => profiling(() => googleProfile(tokens, clientId)),
      }
    }
    case 'github': {
      const client = new GitHub(clientId, clientSecret, redirectUri)
      return {
        id, pkce: false,
        authorizationUrl: (state) => client.createAuthorizationURL(state, scopes),
        exchangeCode: (code) => exchanging(() => client.validateAuthorizationCode(code)),
        fetchProfile: (tokens) => profiling(() => githubProfile(tokens)),
      }
    }
    case 'facebook': {
      const client = new Facebook(clientId, clientSecret, redirectUri)
      return {
        id, pkce: false,
        authorizationUrl: (state) => client.createAuthorizationURL(state, scopes),
        exchangeCode: (code) => exchanging(() => client.validateAuthorizationCode(code)),
        fetchProfile: (tokens) => profiling(() => facebookProfile(tokens, clientSecret)),
      }
    }
    case 'tiktok': {
      const client = new TikTok(clientId, clientSecret, redirectUri)
      return {
        id, pkce: true,
        authorizationUrl: (state, verifier) => client.createAuthorizationURL(state, verifier, scopes),
        exchangeCode: (code, verifier) => exchanging(() => client.validateAuthorizationCode(code, verifier ?? '')),
        fetchProfile: (tokens) => profiling(() => tiktokProfile(tokens)),
      }
    }
  }
}
