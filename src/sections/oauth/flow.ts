import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import type { AppScope, AppEnv } from '../../app-env.ts'
import { commonError, fail } from '../../errors.ts'
import { constantTimeEqual } from '../../platform/crypto.ts'
import { hashToken, randomToken } from '../../identity/secrets.ts'
import { OAuthErrors } from './errors.ts'
import type { ProviderId } from './schemas.ts'
import { dependencyFailure } from '../../platform/dependency-errors.ts'

/** How long a started sign-in may wait for its callback. */
export const OAUTH_STATE_TTL_SECONDS = 600

/** A sign-in between the redirect to the provider and its callback, kept in Redis. */
export interface PendingSignIn {
  tenantId: string
  provider: ProviderId
  /** PKCE code verifier (Google, TikTok); null for providers without PKCE. */
  codeVerifier: string | null
  /** Validated redirect_to (absolute, on the tenant's origin), or null for a JSON answer. */
  redirectTo: string | null
  /** SHA-256 of the browser-binding cookie, when the result goes to a browser (redirect_to). */
  browserHash: string | null
  /** The refresh token goes into the browser session cookie, not the fragment (session=cookie). */
  cookieSession?: boolean
  /** Set when a signed-in user links the provider to their account: the callback links, and signs nobody in. */
  linkUserId?: string
}

/**
 * The key holds the tenant and provider as well as the state's hash: the callback of another
 * tenant or provider misses it (and cannot consume it), and the state itself is not stored.
 */
export const pendingSignInKey = (tenantId: string, provider: ProviderId, stateHash: string) => `oauth:state:${tenantId}:${provider}:${stateHash}`

async function redisCall<T>(c: AppScope, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    // No Redis, no sign-in state: refuse rather than sign in without the CSRF and PKCE checks.
    c.var.logger.error(`oauth state ${what} failed`, { err })
    throw dependencyFailure(err) ?? commonError('service_unavailable')
  }
}

export async function savePendingSignIn(c: AppScope, state: string, pending: PendingSignIn) {
  const key = pendingSignInKey(pending.tenantId, pending.provider, await hashToken(state))
  await redisCall(c, 'write', () => c.var.redis.set(key, pending, { ex: OAUTH_STATE_TTL_SECONDS }))
}

/** Read and delete in one step (GETDEL): a state works once, even under concurrent callbacks. */
export async function takePendingSignIn(c: AppScope, tenantId: string, provider: ProviderId, state: string): Promise<PendingSignIn> {
  const key = pendingSignInKey(tenantId, provider, await hashToken(state))
  const pending = await redisCall(c, 'read', () => c.var.redis.getdel<PendingSignIn>(key))
  if (!pending || pending.tenantId !== tenantId || pending.provider !== provider) throw fail(OAuthErrors, 'invalid_state')
  return pending
}

/**
 * `redirect_to` resolved against the tenant's origin and kept only if it stays there: no other
 * host, scheme or credentials, no backslash or control character tricks (open redirect).
 */
export function safeRedirect(tenantOrigin: string, value: string): string {
  if (/[\u0000-\u001f\u007f\\]/.test(value)) throw fail(OAuthErrors, 'invalid_redirect')
  let url: URL
  try {
    url = new URL(value, tenantOrigin)
  } catch {
    throw fail(OAuthErrors, 'invalid_redirect')
  }
  if (url.origin !== tenantOrigin || url.username || url.password) throw fail(OAuthErrors, 'invalid_redirect')
  url.hash = ''
  return url.toString()
}

const BROWSER_COOKIE = 'atrium_oauth_browser'
const COOKIE_PATH = '/v1/auth/oauth'

/**
 * When the result is handed to a browser (redirect_to), the flow is bound to the browser that
 * started it: a link to a callback with someone else's code and state must not sign the victim
 * into the attacker's account (login CSRF, RFC 6749 §10.12). The cookie is reused while it
 * lives, so sign-ins started in two tabs both work.
 */
export async function bindBrowser<E extends AppEnv>(c: Context<E>): Promise<string> {
  let binding = getCookie(c, BROWSER_COOKIE)
  if (!binding || !/^[A-Za-z0-9_-]{43}$/.test(binding)) binding = randomToken()
  setCookie(c, BROWSER_COOKIE, binding, {
    path: COOKIE_PATH,
    httpOnly: true,
    secure: new URL(c.req.url).protocol === 'https:',
    // Lax: the provider sends the browser back with a top-level GET, which carries Lax cookies.
    sameSite: 'Lax',
    maxAge: OAUTH_STATE_TTL_SECONDS,
  })
  return hashToken(binding)
}

export async function sameBrowser<E extends AppEnv>(c: Context<E>, browserHash: string): Promise<boolean> {
  const binding = getCookie(c, BROWSER_COOKIE)
  return Boolean(binding) && (await constantTimeEqual(await hashToken(binding!), browserHash))
}
