import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { api, cookieSession, onSignedOut, renewAccessToken, setAccessToken, type Schemas } from './api/client.ts'

export type Tenant = Schemas['CurrentTenant']
export type SignInOptions = Schemas['SignInOptions']
export type User = Schemas['User']

interface SessionState {
  /** The host's tenant, or null on the platform host. */
  tenant: Tenant | null
  /** What the tenant's sign-in pages offer (null on the platform host). */
  options: SignInOptions | null
  /** The signed-in user on this host, or null. */
  user: User | null
  /** Reload the user (after a change to the account). */
  reloadUser: () => Promise<void>
  /** After a sign-in answered an access token (the refresh token is in the cookie already). */
  signedIn: (accessToken: string, expiresIn: number) => Promise<void>
  signOut: () => Promise<void>
}

const SessionContext = createContext<SessionState | null>(null)

export function useSession(): SessionState {
  const state = useContext(SessionContext)
  if (!state) throw new Error('useSession outside <SessionProvider>')
  return state
}

export function SessionProvider({ tenant, options, children }: { tenant: Tenant | null; options: SignInOptions | null; children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null)
  const [ready, setReady] = useState(false)

  const reloadUser = useCallback(async () => {
    const { data } = await api.GET('/v1/me')
    setUser(data ?? null)
  }, [])

  useEffect(() => {
    let live = true
    void (async () => {
      // A session cookie from an earlier visit: a fresh access token for this tab.
      if (tenant && (await renewAccessToken())) await reloadUser()
      if (live) setReady(true)
    })()
    // The session ended elsewhere (signed out from another device): back to the signed-out pages.
    const stop = onSignedOut(() => live && setUser(null))
    return () => {
      live = false
      stop()
    }
  }, [tenant, reloadUser])

  const signedIn = useCallback(async (accessToken: string, expiresIn: number) => {
    setAccessToken(accessToken, expiresIn)
    await reloadUser()
  }, [reloadUser])

  const signOut = useCallback(async () => {
    await api.POST('/v1/auth/session/logout', { params: cookieSession })
    setAccessToken(null)
    setUser(null)
  }, [])

  if (!ready) return <p className="loading" role="status">Loading…</p>
  return <SessionContext.Provider value={{ tenant, options, user, reloadUser, signedIn, signOut }}>{children}</SessionContext.Provider>
}
