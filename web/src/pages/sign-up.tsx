import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Link, navigate } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Submit, useForm } from '../ui.tsx'
import { MfaStep } from './sign-in.tsx'

/** Sign-up on a tenant host, as its sign-up policy allows (open, invite-only, or some email domains). */
export function SignUpPage() {
  const { tenant, options, signedIn } = useSession()
  const [verifyFirst, setVerifyFirst] = useState<string | null>(null)
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const form = useForm(async ({ name, email, password }) => {
    const { data, error } = await api.POST('/v1/auth/register', { body: { email: email!, password: password!, ...(name ? { name } : {}) } })
    if (error) return formErrors(apiError(error), { weak_password: 'password', email_taken: 'email', signup_domain_refused: 'email', invalid_credentials: 'password' })
    // A domain-gated membership waits for the address to be verified: no session until then.
    // An address held by an unverified account gets a takeover link instead: the same next step.
    if ('verification_required' in data || 'address_claim' in data) return setVerifyFirst(email!)
    // An existing account with two-step verification on: the code first, as at sign-in.
    if ('mfa_required' in data) return setMfaToken(data.mfa_token)
    await signedIn(data.access_token, data.expires_in)
    navigate('/account')
  })
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => navigate('/sign-in')} />
  if (verifyFirst) {
    return (
      <section aria-labelledby="sign-up-title">
        <h1 id="sign-up-title">Check your email</h1>
        <p>We sent a verification link to {verifyFirst}. Your {tenant?.name} membership starts once you follow it.</p>
        <p><Link href="/sign-in">Back to sign in</Link></p>
      </section>
    )
  }
  if (options?.signup_policy === 'invite_only') {
    return (
      <section aria-labelledby="sign-up-title">
        <h1 id="sign-up-title">Joining {tenant?.name}</h1>
        <p>{tenant?.name} is open by invitation only. Ask one of its members to invite you, then follow the link in the email.</p>
        <p><Link href="/sign-in">Back to sign in</Link></p>
      </section>
    )
  }
  return (
    <section aria-labelledby="sign-up-title">
      <h1 id="sign-up-title">Create your {tenant?.name} account</h1>
      {options?.signup_policy === 'domain' && <p>Sign-up here is limited to the organization’s email domains.</p>}
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Name" name="name" autoComplete="name" error={form.errors.fields.name} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={form.errors.fields.email} />
        <Field
          label="Password" name="password" type="password" autoComplete="new-password" required
          hint={`At least ${options?.password_min_length ?? 10} characters. Already have an account elsewhere? Use its password.`}
          error={form.errors.fields.password}
        />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Create account</Submit>
      </form>
      <p>Already have an account? <Link href="/sign-in">Sign in</Link></p>
    </section>
  )
}
