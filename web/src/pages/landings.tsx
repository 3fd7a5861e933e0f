import { useEffect, useRef, useState } from 'react'
import { api, apiError, cookieSession } from '../api/client.ts'
import { Link, navigate, takeFragment, takeLinkToken } from '../router.tsx'
import { useSession } from '../session.tsx'
import { FormError, Notice } from '../ui.tsx'
import { InvalidLink } from './password.tsx'
import { MfaStep } from './sign-in.tsx'

/** Runs `effect` once per page view (React runs effects twice in development's strict mode; a link token works once). */
function useOnce(effect: () => void) {
  const ran = useRef(false)
  useEffect(() => {
    if (ran.current) return
    ran.current = true
    effect()
  }, [effect])
}

export function VerifyEmailPage() {
  const [token] = useState(takeLinkToken)
  const [state, setState] = useState<'working' | 'done' | { error: string }>('working')
  const { user, reloadUser } = useSession()
  useOnce(() => {
    if (!token) return
    void api.POST('/v1/auth/verify-email/confirm', { body: { token } }).then(async ({ error }) => {
      if (error) return setState({ error: apiError(error).message })
      if (user) await reloadUser()
      setState('done')
    })
  })
  if (!token) return <InvalidLink what="verification" />
  return (
    <section aria-labelledby="verify-title">
      <h1 id="verify-title">Verify your email</h1>
      {state === 'working' && <p role="status">Checking the link…</p>}
      {state === 'done' && <Notice>Your email address is verified.</Notice>}
      {typeof state === 'object' && <FormError error={state.error} />}
      <p>{user ? <Link href="/account">Go to your account</Link> : <Link href="/sign-in">Go to sign in</Link>}</p>
    </section>
  )
}

export function MagicLinkPage() {
  const [token] = useState(takeLinkToken)
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const { signedIn } = useSession()
  useOnce(() => {
    if (!token) return
    void api.POST('/v1/auth/magic-link/verify', { body: { token } }).then(async ({ data, error }) => {
      if (error) return setError(apiError(error).message)
      if ('mfa_required' in data) return setMfaToken(data.mfa_token)
      await signedIn(data.access_token, data.expires_in)
      navigate('/account', { replace: true })
    })
  })
  if (!token) return <InvalidLink what="sign-in" />
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => navigate('/sign-in')} />
  return (
    <section aria-labelledby="magic-title">
      <h1 id="magic-title">Signing you in</h1>
      {error ? <FormError error={error} /> : <p role="status">Checking the link…</p>}
      {error && <p><Link href="/sign-in">Go to sign in</Link></p>}
    </section>
  )
}

/** Where a social sign-in comes back: the result is in the fragment (the refresh token is already in the cookie). */
export function OAuthCompletePage() {
  const [result] = useState(takeFragment)
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const { signedIn } = useSession()
  const error = result.get('error_description') ?? (result.get('error') ? 'The sign-in did not complete.' : null)
  useOnce(() => {
    const access = result.get('access_token')
    if (access) void signedIn(access, Number(result.get('expires_in') ?? 0)).then(() => navigate('/account', { replace: true }))
    else if (result.get('mfa_token')) setMfaToken(result.get('mfa_token'))
  })
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => navigate('/sign-in')} />
  return (
    <section aria-labelledby="oauth-title">
      <h1 id="oauth-title">Signing you in</h1>
      {error ? <FormError error={error} /> : <p role="status">One moment…</p>}
      {error && <p><Link href="/sign-in">Go to sign in</Link></p>}
    </section>
  )
}

/** Where the org switcher lands: the handoff code (in the fragment) becomes this host's own session. */
export function HandoffPage() {
  const [code] = useState(() => takeFragment().get('code'))
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const { signedIn } = useSession()
  useOnce(() => {
    if (!code) return
    void api.POST('/v1/auth/session/handoff', { params: cookieSession, body: { code } }).then(async ({ data, error }) => {
      if (error) return setError(apiError(error).message)
      if ('mfa_required' in data) return setMfaToken(data.mfa_token)
      await signedIn(data.access_token, data.expires_in)
      navigate('/account', { replace: true })
    })
  })
  if (!code) return <InvalidLink what="sign-in" />
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => navigate('/sign-in')} />
  return (
    <section aria-labelledby="handoff-title">
      <h1 id="handoff-title">Switching organization</h1>
      {error ? <FormError error={error} /> : <p role="status">Signing you in…</p>}
      {error && <p><Link href="/sign-in">Go to sign in</Link></p>}
    </section>
  )
}
