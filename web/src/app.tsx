import { useEffect, useState, type ReactNode } from 'react'
import { api } from './api/client.ts'
import { Link, navigate, usePath } from './router.tsx'
import { SessionProvider, useSession, type Tenant } from './session.tsx'
import { AccountPage } from './pages/account.tsx'
import { SignInPage } from './pages/sign-in.tsx'
import { SignUpPage } from './pages/sign-up.tsx'

/** Which host this is: a tenant's (its name from GET /v1/tenant) or the platform's. */
export function App() {
  const [host, setHost] = useState<{ tenant: Tenant | null } | { error: string } | null>(null)
  useEffect(() => {
    void api.GET('/v1/tenant').then(({ data, error, response }) => {
      if (data) setHost({ tenant: data })
      else if (response.status === 404 && (error as { error?: { code?: string } })?.error?.code === 'tenant_required') setHost({ tenant: null })
      else setHost({ error: (error as { error?: { message?: string } })?.error?.message ?? 'This organization cannot be reached.' })
    }, () => setHost({ error: 'The server could not be reached.' }))
  }, [])
  if (!host) return <p className="loading" role="status">Loading…</p>
  if ('error' in host) return <Shell tenant={null}><h1>Unavailable</h1><p>{host.error}</p></Shell>
  return (
    <SessionProvider tenant={host.tenant}>
      <Pages />
    </SessionProvider>
  )
}

function Pages() {
  const path = usePath()
  const { tenant, user } = useSession()
  useEffect(() => {
    document.title = `${pageTitle(path)} · ${tenant?.name ?? 'Atrium'}`
  }, [path, tenant])

  const signedOutOnly = path === '/sign-in' || path === '/sign-up'
  const signedInOnly = path === '/' || path.startsWith('/account')
  useEffect(() => {
    if (user && (signedOutOnly || path === '/')) navigate('/account', { replace: true })
    if (!user && signedInOnly) navigate('/sign-in', { replace: true })
  }, [user, path, signedOutOnly, signedInOnly])

  let page: ReactNode
  if (!tenant) page = <p>This is the platform host. Open your organization’s address to sign in.</p>
  else if (path === '/sign-in') page = <SignInPage />
  else if (path === '/sign-up') page = <SignUpPage />
  else if (path.startsWith('/account') && user) page = <AccountPage />
  else if (signedInOnly) page = null
  else page = <NotFound />
  return <Shell tenant={tenant}>{page}</Shell>
}

const TITLES: Record<string, string> = { '/sign-in': 'Sign in', '/sign-up': 'Sign up', '/account': 'Your account' }
const pageTitle = (path: string) => TITLES[path] ?? 'Atrium'

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p><Link href="/">Go to the start page</Link></p>
    </>
  )
}

/** The frame of every page: the organization's name (and logo), the signed-in user's menu. */
export function Shell({ tenant, children }: { tenant: Tenant | null; children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="top">
        <span className="brand">{tenant?.name ?? 'Atrium'}</span>
        <UserMenu />
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
    </>
  )
}

function UserMenu() {
  const session = useSessionOrNull()
  if (!session?.user) return null
  return (
    <nav aria-label="Account" className="user-menu">
      <span className="who">{session.user.email}</span>
      <button type="button" className="link-button" onClick={() => void session.signOut().then(() => navigate('/sign-in'))}>
        Sign out
      </button>
    </nav>
  )
}

function useSessionOrNull() {
  try {
    return useSession()
  } catch {
    return null
  }
}
