import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']

/**
 * The one way the pages talk to the API: typed by the generated `paths` (web/src/api/schema.d.ts).
 * Every request says `X-Atrium-Session: cookie`: sign-in answers then put the refresh token in an
 * HttpOnly cookie instead of the body (docs/browser-sessions.md), and the cookie endpoints refuse
 * requests without it.
 */
export const api = createClient<paths>({
  baseUrl: typeof location === 'undefined' ? '' : location.origin,
  headers: { 'x-atrium-session': 'cookie' },
  credentials: 'same-origin',
})

/** The access token lives only in this variable: never in storage, gone with the tab. */
let accessToken: string | null = null
let expiresAt = 0

const signedOutListeners = new Set<() => void>()

export function setAccessToken(token: string | null, expiresIn = 0) {
  accessToken = token
  expiresAt = token ? Date.now() + expiresIn * 1000 : 0
}

/** Called when the session ended elsewhere (revoked, expired): the pages go back to sign-in. */
export function onSignedOut(listener: () => void) {
  signedOutListeners.add(listener)
  return () => void signedOutListeners.delete(listener)
}

/** The header parameter of the cookie endpoints (also sent on every request by default). */
export const cookieSession = { header: { 'x-atrium-session': 'cookie' as const } }

/**
 * A new access token from the session cookie. Tabs take turns (Web Locks), so two tabs never
 * present the same refresh token at once: the second would look like a stolen token's reuse.
 */
export async function renewAccessToken(): Promise<boolean> {
  const run = async () => {
    const { data } = await api.POST('/v1/auth/session/refresh', { params: cookieSession })
    setAccessToken(data?.access_token ?? null, data?.expires_in)
    return Boolean(data)
  }
  return navigator.locks ? navigator.locks.request('atrium-session-refresh', run) : run()
}

const copies = new WeakMap<Request, Request>()
const SKIP_AUTH = new Set(['/v1/auth/session/refresh', '/v1/auth/session/logout'])

const bearer: Middleware = {
  async onRequest({ request, schemaPath }) {
    if (SKIP_AUTH.has(schemaPath)) return request
    // Renew a little before expiry rather than after a refused call.
    if (accessToken && Date.now() > expiresAt - 30_000) await renewAccessToken()
    if (accessToken) {
      request.headers.set('authorization', `Bearer ${accessToken}`)
      // Kept (body included) in case the token is refused and the call is retried once.
      copies.set(request, request.clone())
    }
    return request
  },
  /**
   * A refused access token (the session was revoked, or the token expired early): one renewal
   * through the cookie and one retry; if the cookie is refused too, the session is over.
   */
  async onResponse({ request, response, schemaPath }) {
    const copy = copies.get(request)
    if (response.status !== 401 || !copy || SKIP_AUTH.has(schemaPath)) return response
    // Only a refused token: a wrong password or code (also 401) is the caller's to show.
    const code = ((await response.clone().json().catch(() => null)) as { error?: { code?: string } } | null)?.error?.code
    if (code !== 'invalid_token' && code !== 'unauthenticated') return response
    if (!(await renewAccessToken())) {
      for (const listener of signedOutListeners) listener()
      return response
    }
    copy.headers.set('authorization', `Bearer ${accessToken}`)
    // A plain fetch: the retry does not come back through this middleware.
    return fetch(copy)
  },
}
api.use(bearer)

/** The API's error shape, whatever the route. */
export interface ApiError {
  code: string
  message: string
  details?: unknown
}
export function apiError(error: unknown): ApiError {
  const e = (error as { error?: ApiError } | undefined)?.error
  return e && typeof e.code === 'string' ? e : { code: 'network_error', message: 'The server could not be reached. Try again.' }
}
