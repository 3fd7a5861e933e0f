import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Link, takeLinkToken } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Notice, Submit, useForm } from '../ui.tsx'

export function ForgotPasswordPage() {
  const [sent, setSent] = useState(false)
  const form = useForm(async ({ email }) => {
    setSent(false)
    const { error } = await api.POST('/v1/auth/password/forgot', { body: { email: email! } })
    if (error) return formErrors(apiError(error))
    setSent(true)
  })
  return (
    <section aria-labelledby="forgot-title">
      <h1 id="forgot-title">Forgot your password?</h1>
      <p>Enter your email address and we will send you a link to choose a new password.</p>
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required error={form.errors.fields.email} />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Send the link</Submit>
        {sent && <Notice>If this address belongs to an account here, an email is on its way. The link works once, for 30 minutes.</Notice>}
      </form>
      <p><Link href="/sign-in">Back to sign in</Link></p>
    </section>
  )
}

/** The landing of a reset link: the token comes from the link, the new password from the form. */
export function ResetPasswordPage() {
  const [token] = useState(takeLinkToken)
  const [done, setDone] = useState(false)
  const { options } = useSession()
  const form = useForm(async ({ password, confirm }) => {
    if (password !== confirm) return { fields: { confirm: 'The two passwords are not the same.' } }
    const { error } = await api.POST('/v1/auth/password/reset', { body: { token: token!, password: password! } })
    if (error) return formErrors(apiError(error), { weak_password: 'password' })
    setDone(true)
  })
  if (!token) return <InvalidLink what="password reset" />
  return (
    <section aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      {done ? (
        <>
          <Notice>Your password was changed, and you were signed out everywhere on this organization.</Notice>
          <p><Link href="/sign-in">Sign in with your new password</Link></p>
        </>
      ) : (
        <form onSubmit={form.onSubmit} noValidate>
          <Field label="New password" name="password" type="password" autoComplete="new-password" required hint={`At least ${options?.password_min_length ?? 10} characters.`} error={form.errors.fields.password} />
          <Field label="Repeat the new password" name="confirm" type="password" autoComplete="new-password" required error={form.errors.fields.confirm} />
          <FormError error={form.errors.form} />
          <Submit busy={form.busy}>Change password</Submit>
        </form>
      )}
    </section>
  )
}

export function InvalidLink({ what }: { what: string }) {
  return (
    <section aria-labelledby="invalid-title">
      <h1 id="invalid-title">This {what} link is not complete</h1>
      <p>Open the link from the email again, or ask for a new one.</p>
      <p><Link href="/sign-in">Go to sign in</Link></p>
    </section>
  )
}
