import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Link } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Notice, Submit, useForm } from '../ui.tsx'

/**
 * Change the password (the current one required). By default every other session of the account
 * ends, in every organization: the password is the account's, not this organization's.
 */
export function ChangePasswordPage() {
  const { user, options } = useSession()
  const [done, setDone] = useState<string | null>(null)
  const form = useForm(async (values) => {
    setDone(null)
    if (values.new_password !== values.confirm_password) return { fields: { confirm_password: 'The two new passwords are not the same.' } }
    const { data, error } = await api.POST('/v1/me/password', {
      body: { current_password: values.current_password!, new_password: values.new_password!, end_other_sessions: values.end_other_sessions === 'on' },
    })
    if (error) {
      return formErrors(apiError(error), { invalid_current_password: 'current_password', account_locked: 'current_password', weak_password: 'new_password' })
    }
    const others = data.sessions_revoked
    setDone(`Your password was changed.${others ? ` ${others} other session${others === 1 ? ' was' : 's were'} signed out.` : ''}`)
  })
  if (!user!.has_password) return <SetPasswordByEmail email={user!.email} />
  return (
    <section aria-labelledby="password-title">
      <h1 id="password-title">Change your password</h1>
      <form onSubmit={form.onSubmit} noValidate>
        {/* The account's address, for password managers. */}
        <input type="hidden" name="username" autoComplete="username" value={user!.email} />
        <Field label="Current password" name="current_password" type="password" autoComplete="current-password" required error={form.errors.fields.current_password} />
        <Field
          label="New password" name="new_password" type="password" autoComplete="new-password" required
          hint={`At least ${options?.password_min_length ?? 10} characters.`} error={form.errors.fields.new_password}
        />
        <Field label="Repeat the new password" name="confirm_password" type="password" autoComplete="new-password" required error={form.errors.fields.confirm_password} />
        <div className="field checkbox">
          <input id="end-other-sessions" type="checkbox" name="end_other_sessions" defaultChecked />
          <label htmlFor="end-other-sessions">Sign me out everywhere else (every other device and organization)</label>
        </div>
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Change password</Submit>
        {done && <Notice>{done}</Notice>}
      </form>
      <p><Link href="/account">Back to your account</Link></p>
    </section>
  )
}

/** An account without a password (social sign-in only) sets one through the reset link, mailed to its address. */
function SetPasswordByEmail({ email }: { email: string }) {
  const [sent, setSent] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const send = async () => {
    const { error } = await api.POST('/v1/auth/password/forgot', { body: { email } })
    if (error) return setError(apiError(error).message)
    setError(undefined)
    setSent(true)
  }
  return (
    <section aria-labelledby="password-title">
      <h1 id="password-title">Password</h1>
      <p>You sign in with a linked account, so there is no password to change. To add one, follow the link we email to {email}.</p>
      <button type="button" className="secondary" onClick={() => void send()}>Email me a link to set a password</button>
      {sent && <Notice>A link is on its way to {email}. It works once, for 30 minutes.</Notice>}
      <FormError error={error} />
      <p><Link href="/account">Back to your account</Link></p>
    </section>
  )
}
