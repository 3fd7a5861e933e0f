import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Link, navigate } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Notice, Submit, useForm } from '../ui.tsx'

type Answer = { access_token: string; expires_in: number } | { mfa_required: true; mfa_token: string }

const PROVIDER_NAMES: Record<string, string> = { google: 'Google', github: 'GitHub', facebook: 'Facebook', tiktok: 'TikTok' }

/** Password sign-in, a magic link, the tenant's social providers; then the MFA step when the account has it on. */
export function SignInPage() {
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const [mode, setMode] = useState<'password' | 'link'>('password')
  const { tenant, options } = useSession()
  const finish = useFinishSignIn(setMfaToken)
  const form = useForm(async ({ email, password }) => {
    const { data, error } = await api.POST('/v1/auth/login', { body: { email: email!, password: password! } })
    if (error) return formErrors(apiError(error), { invalid_credentials: 'password', account_locked: 'password' })
    // The workspace picker is the platform host's answer; a tenant host answers tokens or an MFA step.
    if ('selection_token' in data) return navigate('/')
    await finish(data)
  })
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => setMfaToken(null)} />
  return (
    <>
      <section aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to {tenant?.name}</h1>
        {mode === 'password' ? (
          <form onSubmit={form.onSubmit} noValidate>
            <Field label="Email" name="email" type="email" autoComplete="username" required error={form.errors.fields.email} />
            <Field label="Password" name="password" type="password" autoComplete="current-password" required error={form.errors.fields.password} />
            <FormError error={form.errors.form} />
            <Submit busy={form.busy}>Sign in</Submit>
          </form>
        ) : (
          <MagicLinkRequest />
        )}
        <p className="actions">
          <button type="button" className="link-button" onClick={() => setMode(mode === 'password' ? 'link' : 'password')}>
            {mode === 'password' ? 'Email me a sign-in link instead' : 'Sign in with a password instead'}
          </button>
        </p>
        <p><Link href="/forgot-password">Forgot your password?</Link></p>
        {options?.signup_policy !== 'invite_only' && <p>New here? <Link href="/sign-up">Create an account</Link></p>}
      </section>
      {options && options.social_providers.length > 0 && (
        <section aria-labelledby="social-title">
          <h2 id="social-title">Or continue with</h2>
          <ul className="plain">
            {options.social_providers.map((provider) => (
              <li key={provider}>
                {/* A top-level navigation to the provider; the result comes back to /oauth-complete, the refresh token into the cookie. */}
                <a className="button-link" href={`/v1/auth/oauth/${provider}?redirect_to=%2Foauth-complete&session=cookie`}>
                  {PROVIDER_NAMES[provider] ?? provider}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  )
}

function MagicLinkRequest() {
  const [sent, setSent] = useState(false)
  const form = useForm(async ({ email }) => {
    setSent(false)
    const { error } = await api.POST('/v1/auth/magic-link', { body: { email: email! } })
    if (error) return formErrors(apiError(error))
    setSent(true)
  })
  return (
    <form onSubmit={form.onSubmit} noValidate>
      <Field label="Email" name="email" type="email" autoComplete="email" required error={form.errors.fields.email} />
      <FormError error={form.errors.form} />
      <Submit busy={form.busy}>Email me a link</Submit>
      {sent && <Notice>If this address belongs to an account here, a sign-in link is on its way. It works once, for 15 minutes.</Notice>}
    </form>
  )
}

/** What to do with a sign-in answer: a session (go to the account), or the MFA step. */
export function useFinishSignIn(onMfa: (token: string) => void) {
  const { signedIn } = useSession()
  return async (answer: Answer | undefined) => {
    if (!answer) return
    if ('mfa_required' in answer) return onMfa(answer.mfa_token)
    await signedIn(answer.access_token, answer.expires_in)
    navigate('/account')
  }
}

export function MfaStep({ mfaToken, onRestart }: { mfaToken: string; onRestart: () => void }) {
  const { signedIn } = useSession()
  const form = useForm(async ({ code }) => {
    const { data, error } = await api.POST('/v1/auth/mfa/verify', { body: { mfa_token: mfaToken, code: code! } })
    if (error) {
      const e = apiError(error)
      if (e.code === 'mfa_attempts_exceeded' || e.code === 'invalid_mfa_token') onRestart()
      return formErrors(e, { invalid_mfa_code: 'code', account_locked: 'code' })
    }
    await signedIn(data.access_token, data.expires_in)
    navigate('/account')
  })
  return (
    <section aria-labelledby="mfa-title">
      <h1 id="mfa-title">Two-step verification</h1>
      <form onSubmit={form.onSubmit} noValidate>
        <Field
          label="Code from your authenticator app, or a backup code"
          name="code"
          autoComplete="one-time-code"
          autoFocus
          required
          error={form.errors.fields.code}
        />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Verify</Submit>
      </form>
      <p><button type="button" className="link-button" onClick={onRestart}>Start again</button></p>
    </section>
  )
}
