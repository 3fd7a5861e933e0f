import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Link, navigate } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Submit, useForm } from '../ui.tsx'

type Answer = { access_token: string; expires_in: number } | { mfa_required: true; mfa_token: string }

/** Password sign-in, then the second step when the account has MFA on. */
export function SignInPage() {
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const { tenant } = useSession()
  const finish = useFinishSignIn(setMfaToken)
  const form = useForm(async ({ email, password }) => {
    const { data, error } = await api.POST('/v1/auth/login', { body: { email: email!, password: password! } })
    if (error) return formErrors(apiError(error), { invalid_credentials: 'password', account_locked: 'password' })
    await finish(data)
  })
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => setMfaToken(null)} />
  return (
    <section aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to {tenant?.name}</h1>
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required error={form.errors.fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={form.errors.fields.password} />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Sign in</Submit>
      </form>
      <p><Link href="/forgot-password">Forgot your password?</Link></p>
      <p>New here? <Link href="/sign-up">Create an account</Link></p>
    </section>
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
          inputMode="text"
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
