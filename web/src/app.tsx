import { useEffect, useState, type ReactNode } from 'react'
import { api } from './api/client.ts'
import { Link, navigate, usePath } from './router.tsx'
import { SessionProvider, useSession, type SignInOptions, type Tenant } from './session.tsx'
import { AccountPage } from './pages/account.tsx'
import { ChangePasswordPage } from './pages/change-password.tsx'
import { AccountDeletedPage, DeleteAccountPage } from './pages/delete-account.tsx'
import { AcceptInvitationPage } from './pages/accept-invitation.tsx'
import { ForgotPasswordPage, ResetPasswordPage } from './pages/password.tsx'
import { HandoffPage, MagicLinkPage, OAuthCompletePage, VerifyEmailPage } from './pages/landings.tsx'
import { OrgSwitcher } from './org-switcher.tsx'
import { SignInPage } from './pages/sign-in.tsx'
import { SignUpPage } from './pages/sign-up.tsx'
import { PlatformPage } from './pages/platform.tsx'
import { ConsoleLink, ConsolePage } from './console/console.tsx'

type Host = { tenant: Tenant | null; options: SignInOptions | null } | { error: string }

/** Which host this is: a tenant's (GET /v1/tenant and its sign-in options) or the platform's. */
export function App() {
  const [host, setHost] = useState<Host | null>(null)
  useEffect(() => {
    void (async () => {
      try {
        const [current, options] = await Promise.all([api.GET('/v1/tenant'), api.GET('/v1/tenant/sign-in-options')])
        const code = (current.error as { error?: { code?: string; message?: string } } | undefined)?.error
        if (current.data && options.data) setHost({ tenant: current.data, options: options.data })
        else if (code?.code === 'tenant_required') setHost({ tenant: null, options: null })
        else setHost({ error: code?.message ?? 'This organization cannot be reached.' })
      } catch {
        setHost({ error: 'The server could not be reached.' })
      }
    })()
  }, [])
  if (!host) return <p className="loading" role="status">Loading…</p>
  if ('error' in host) return <Frame brand={<span className="brand">Atrium</span>}><h1>Unavailable</h1><p>{host.error}</p></Frame>
  return (
    <SessionProvider tenant={host.tenant} options={host.options}>
      <Pages />
    </SessionProvider>
  )
}

/** Pages only a signed-out visitor needs (a signed-in one goes to the account), and pages that need a session. */
const SIGNED_OUT_ONLY = new Set(['/sign-in', '/sign-up', '/forgot-password'])
const isConsole = (path: string) => path === '/console' || path.startsWith('/console/')
const isSignedInOnly = (path: string) => path === '/' || path === '/account' || path.startsWith('/account/') || isConsole(path)

const TITLES: Record<string, string> = {
  '/sign-in': 'Sign in', '/sign-up': 'Sign up', '/account': 'Your account', '/forgot-password': 'Forgot password',
  '/reset-password': 'Choose a new password', '/verify-email': 'Verify your email', '/magic-link': 'Signing in',
  '/accept-invitation': 'Accept invitation', '/oauth-complete': 'Signing in', '/handoff': 'Switching organization',
  '/account/password': 'Change your password', '/account/delete': 'Delete your account', '/account-deleted': 'Account deleted',
  '/console': 'Console', '/console/members': 'Members', '/console/api-keys': 'API keys',
}

function Pages() {
  const path = usePath()
  const { tenant, user } = useSession()
  useEffect(() => {
    document.title = `${TITLES[path] ?? 'Atrium'} · ${tenant?.name ?? 'Atrium'}`
    document.getElementById('main')?.focus()
  }, [path, tenant])
  useEffect(() => {
    if (user && (SIGNED_OUT_ONLY.has(path) || path === '/')) navigate('/account', { replace: true })
    if (!user && tenant && isSignedInOnly(path)) navigate('/sign-in', { replace: true })
  }, [user, path, tenant])

  let page: ReactNode = null
  if (!tenant) page = path === '/' ? <PlatformPage /> : <NotFound />
  else if (path === '/sign-in') page = <SignInPage />
  else if (path === '/sign-up') page = <SignUpPage />
  else if (path === '/forgot-password') page = <ForgotPasswordPage />
  else if (path === '/reset-password') page = <ResetPasswordPage />
  else if (path === '/verify-email') page = <VerifyEmailPage />
  else if (path === '/magic-link') page = <MagicLinkPage />
  else if (path === '/oauth-complete') page = <OAuthCompletePage />
  else if (path === '/handoff') page = <HandoffPage />
  else if (path === '/accept-invitation' || path === '/invitations/accept') page = <AcceptInvitationPage />
  else if (path === '/account/password') page = user ? <ChangePasswordPage /> : null
  else if (path === '/account/delete') page = user ? <DeleteAccountPage /> : null
  else if (path === '/account-deleted') page = <AccountDeletedPage />
  else if (isConsole(path)) page = user ? <ConsolePage path={path} /> : null
  else if (isSignedInOnly(path)) page = user ? <AccountPage /> : null
  else page = <NotFound />
  return <Shell>{page}</Shell>
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p><Link href="/">Go to the start page</Link></p>
    </>
  )
}

function Frame({ brand, menu, children }: { brand: ReactNode; menu?: ReactNode; children: ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="top">
        {brand}
        {menu}
      </header>
      <main id="main" tabIndex={-1}>{children}</main>
    </>
  )
}

/** The frame of every page: the organization's name and logo, the signed-in user's menu. */
function Shell({ children }: { children: ReactNode }) {
  const { tenant, options, user, signOut } = useSession()
  const brand = (
    <span className="brand">
      {options?.logo_url && <img src={options.logo_url} alt="" />}
      {tenant?.name ?? 'Atrium'}
    </span>
  )
  const menu = user && (
    <nav aria-label="Account" className="user-menu">
      <OrgSwitcher />
      <span className="who">{user.email}</span>
      <ConsoleLink />
      <Link href="/account">Account</Link>
      <button type="button" className="link-button" onClick={() => void signOut().then(() => navigate('/sign-in'))}>
        Sign out
      </button>
    </nav>
  )
  return <Frame brand={brand} menu={menu}>{children}</Frame>
}
