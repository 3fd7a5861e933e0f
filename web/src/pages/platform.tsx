import { useState } from 'react'
import { api, apiError } from '../api/client.ts'
import { Field, FormError, formErrors, Submit, useForm } from '../ui.tsx'

/** The platform host (the apex): create an account with its own organization, or sign in and pick one. */
export function PlatformPage() {
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in')
  return (
    <>
      {mode === 'sign-up' ? <PlatformSignUp /> : <PlatformSignIn />}
      <p className="actions">
        <button type="button" className="link-button" onClick={() => setMode(mode === 'sign-in' ? 'sign-up' : 'sign-in')}>
          {mode === 'sign-in' ? 'New here? Create an account' : 'Already have an account? Sign in'}
        </button>
      </p>
    </>
  )
}

/** Account + personal organization; the answer is a handoff to the organization's host (no token stays here). */
function PlatformSignUp() {
  const form = useForm(async ({ name, email, password }) => {
    const { data, error } = await api.POST('/v1/auth/register', { body: { email: email!, password: password!, ...(name ? { name } : {}) } })
    if (error) return formErrors(apiError(error), { weak_password: 'password', email_taken: 'email' })
    const handoff = (data as unknown as { handoff?: { url: string } }).handoff
    if (handoff) location.assign(handoff.url)
  })
  return (
    <section aria-labelledby="platform-sign-up-title">
      <h1 id="platform-sign-up-title">Create your account</h1>
      <p>You get your own organization, and can create or join others later.</p>
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Name" name="name" autoComplete="name" error={form.errors.fields.name} />
        <Field label="Email" name="email" type="email" autoComplete="email" required error={form.errors.fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required hint="At least 10 characters." error={form.errors.fields.password} />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Create account</Submit>
      </form>
    </section>
  )
}

function PlatformSignIn() {
  return (
    <section aria-labelledby="platform-sign-in-title">
      <h1 id="platform-sign-in-title">Sign in</h1>
      <p>Open your organization’s address (<code>https://&lt;organization&gt;.…</code>) to sign in there.</p>
    </section>
  )
}
