import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { AppEnv } from '../../app-env.ts'

/** The refresh token of a browser session (docs/browser-sessions.md). */
export const SESSION_COOKIE = 'atrium_session'
/** Sent only to the endpoints that need it: refresh and sign-out. */
export const SESSION_COOKIE_PATH = '/v1/auth/session'
/** The header a page sends to ask for (and to use) the cookie session. */
export const SESSION_HEADER = 'x-atrium-session'

/** `localhost` and `*.localhost` are served over plain http in development: a Secure cookie would not come back. */
export function isLocalHost(hostname: string) {
  const host = hostname.toLowerCase()
  return host === 'localhost' || host.endsWith('.localhost')
}

/**
 * HttpOnly (no script reads it), SameSite=Lax, Secure except on localhost, host-only (no Domain
 * attribute, so a sibling tenant's host never receives it), path-limited, as long as the session.
 */
export function setSessionCookie<E extends AppEnv>(c: Context<E>, refreshToken: string) {
  setCookie(c, SESSION_COOKIE, refreshToken, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: !isLocalHost(new URL(c.req.url).hostname),
    path: SESSION_COOKIE_PATH,
    maxAge: c.var.config.REFRESH_TOKEN_TTL_SECONDS,
  })
}

export function clearSessionCookie<E extends AppEnv>(c: Context<E>) {
  deleteCookie(c, SESSION_COOKIE, { path: SESSION_COOKIE_PATH, secure: !isLocalHost(new URL(c.req.url).hostname), httpOnly: true, sameSite: 'Lax' })
}

export const sessionCookie = <E extends AppEnv>(c: Context<E>) => getCookie(c, SESSION_COOKIE)
