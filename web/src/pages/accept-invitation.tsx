import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Link, navigate, takeLinkToken } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Submit, useForm } from '../ui.tsx'
import { InvalidLink } from './password.tsx'
import { MfaStep } from './sign-in.tsx'

/**
 * The landing of an invitation link, signed in or not: a new account chooses a password, an
 * existing one proves itself with its password (an account without one: the link is enough).
 */
export function AcceptInvitationPage() {
  const [token] = useState(takeLinkToken)
  const [mfaToken, setMfaToken] = useState<string | null>(null)
  const { tenant, user, signedIn, reloadUser } = useSession()
  const form = useForm(async ({ name, password }) => {
    const { data, error } = await api.POST('/v1/invitations/accept', {
      body: { token: token!, ...(password ? { password } : {}), ...(name ? { name } : {}) },
    })
    if (error) return formErrors(apiError(error), { password_required: 'password', invalid_credentials: 'password', weak_password: 'password' })
    if ('mfa_required' in data) return setMfaToken(data.mfa_token)
    if (user) await reloadUser()
    await signedIn(data.access_token, data.expires_in)
    navigate('/account')
  })
  if (!token) return <InvalidLink what="invitation" />
  if (mfaToken) return <MfaStep mfaToken={mfaToken} onRestart={() => navigate('/sign-in')} />
  return (
    <section aria-labelledby="accept-title">
      <h1 id="accept-title">Join {tenant?.name}</h1>
      <form onSubmit={form.onSubmit} noValidate>
        {user && <p>You are signed in here as {user.email}: the invitation must be for that address.</p>}
        <p>New here? Choose a name and a password. Already have an account (on any organization)? Enter its password.</p>
        <Field label="Name" name="name" autoComplete="name" error={form.errors.fields.name} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" error={form.errors.fields.password} />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Accept invitation</Submit>
      </form>
      <p>Signed up with a social account and no password? Leave the password empty.</p>
      <p><Link href="/sign-in">Go to sign in</Link></p>
    </section>
  )
}
