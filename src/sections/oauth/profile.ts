import { decodeIdToken, type OAuth2Tokens } from 'arctic'
import { fail } from '../../errors.ts'
import { normaliseEmail } from '../../identity/users.ts'
import { OAuthErrors, providerUnavailable } from './errors.ts'

/** Who the provider says the user is. */
export interface ProviderProfile {
  /** The provider's stable id of the user (for Facebook and TikTok: scoped to the OAuth app). */
  providerUserId: string
  /** Lowercased; null when the provider gives none (TikTok never does). */
  email: string | null
  /** True only when the provider explicitly says it verified the address. */
  emailVerified: boolean
  name: string | null
}

const PROFILE_TIMEOUT_MS = 10_000

/** A JSON GET to a provider API; network trouble and 5xx are the provider's, not the user's. */
async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(PROFILE_TIMEOUT_MS) })
  } catch (err) {
    throw providerUnavailable(undefined, err)
  }
  const text = await res.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    throw providerUnavailable({ status: res.status })
  }
  if (res.status >= 500) throw providerUnavailable({ status: res.status })
  return { status: res.status, body }
}

function expectOk(res: { status: number; body: unknown }) {
  if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) {
    throw fail(OAuthErrors, 'provider_profile_invalid', undefined, { status: res.status })
  }
  return res.body as Record<string, unknown>
}

function cleanEmail(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const email = normaliseEmail(value)
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email) ? email : null
}

const cleanName = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim().slice(0, 200) : null)

const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com']

/**
 * Google: the ID token's claims. It comes straight from Google's token endpoint over TLS, so
 * TLS validation stands in for the signature check (OpenID Connect Core §3.1.3.7, step 6);
 * issuer, audience and expiry are still checked so a token minted for another app is refused.
 */
export function googleProfile(tokens: OAuth2Tokens, clientId: string): ProviderProfile {
  let claims: Record<string, unknown>
  try {
    claims = decodeIdToken(tokens.idToken()) as Record<string, unknown>
  } catch {
    throw fail(OAuthErrors, 'provider_profile_invalid', 'Google did not return a readable ID token.')
  }
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
  const valid =
    typeof claims.sub === 'string' && claims.sub.length > 0 &&
    GOOGLE_ISSUERS.includes(claims.iss as string) &&
    audience.includes(clientId) &&
    typeof claims.exp === 'number' && claims.exp * 1000 > Date.now()
  if (!valid) throw fail(OAuthErrors, 'provider_profile_invalid', 'Google’s ID token is not for this app or has expired.')
  const email = cleanEmail(claims.email)
  return {
    providerUserId: claims.sub as string,
    email,
    // Google has sent both the boolean and the string form.
    emailVerified: email !== null && (claims.email_verified === true || claims.email_verified === 'true'),
    name: cleanName(claims.name),
  }
}

const githubHeaders = (tokens: OAuth2Tokens) => ({
  authorization: `Bearer ${tokens.accessToken()}`,
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
  // GitHub refuses API calls without a User-Agent.
  'user-agent': 'Atrium',
})

/**
 * GitHub: /user for the id and name, /user/emails for the primary address and whether GitHub
 * verified it. The public `email` of /user carries no verification flag: it is used, as
 * unverified, only when /user/emails is not readable (scope not granted).
 */
export async function githubProfile(tokens: OAuth2Tokens): Promise<ProviderProfile> {
  const headers = githubHeaders(tokens)
  const user = expectOk(await getJson('https://api.github.com/user', headers))
  if (typeof user.id !== 'number' && typeof user.id !== 'string') throw fail(OAuthErrors, 'provider_profile_invalid')
  const emails = await getJson('https://api.github.com/user/emails', headers)
  let email = cleanEmail(user.email)
  let emailVerified = false
  if (emails.status === 200 && Array.isArray(emails.body)) {
    const primary = (emails.body as Array<Record<string, unknown>>).find((e) => e?.primary === true)
    email = cleanEmail(primary?.email)
    emailVerified = email !== null && primary?.verified === true
  }
  return { providerUserId: String(user.id), email, emailVerified, name: cleanName(user.name) ?? cleanName(user.login) }
}

/** Facebook Graph API version, the one arctic's Facebook client uses for the dialog and token. */
const GRAPH = 'https://graph.facebook.com/v16.0'

async function hmacSha256Hex(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', new TextEncoder().encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(message)))
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * Facebook: Graph /me. `appsecret_proof` proves the call comes from the app's server (apps may
 * require it). The Graph API has no flag saying the address was verified, so it counts as
 * unverified: it never links to an existing account (docs/api/oauth.md).
 */
export async function facebookProfile(tokens: OAuth2Tokens, clientSecret: string): Promise<ProviderProfile> {
  const accessToken = tokens.accessToken()
  const proof = await hmacSha256Hex(clientSecret, accessToken)
  const me = expectOk(await getJson(`${GRAPH}/me?fields=id,name,email&appsecret_proof=${proof}`, { authorization: `Bearer ${accessToken}` }))
  if (typeof me.id !== 'string' || !me.id) throw fail(OAuthErrors, 'provider_profile_invalid')
  return { providerUserId: me.id, email: cleanEmail(me.email), emailVerified: false, name: cleanName(me.name) }
}

/**
 * TikTok: /v2/user/info/. TikTok's Login Kit gives no email address at all; the account is
 * identified by open_id (scoped to the app). See docs/api/oauth.md for what that means.
 */
export async function tiktokProfile(tokens: OAuth2Tokens): Promise<ProviderProfile> {
  const res = expectOk(await getJson('https://open.tiktokapis.com/v2/user/info/?fields=open_id,union_id,avatar_url,display_name', { authorization: `Bearer ${tokens.accessToken()}` }))
  const error = res.error as { code?: unknown } | undefined
  const user = (res.data as { user?: Record<string, unknown> } | undefined)?.user
  if ((error && error.code !== 'ok') || typeof user?.open_id !== 'string' || !user.open_id) {
    throw fail(OAuthErrors, 'provider_profile_invalid', undefined, { provider_error: error?.code ?? null })
  }
  return { providerUserId: user.open_id, email: null, emailVerified: false, name: cleanName(user.display_name) }
}
