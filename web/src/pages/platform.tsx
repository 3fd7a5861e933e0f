import { useState } from 'react'
import { api, apiError, type Schemas } from '../api/client.ts'
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

/** Email and password here; then the workspace picker, and the chosen organization's host through a handoff. */
function PlatformSignIn() {
  const [picker, setPicker] = useState<Schemas['PlatformSignIn'] | null>(null)
  const [expired, setExpired] = useState<string | undefined>()
  const form = useForm(async ({ email, password }) => {
    setExpired(undefined)
    const { data, error } = await api.POST('/v1/auth/login', { body: { email: email!, password: password! } })
    if (error) return formErrors(apiError(error), { invalid_credentials: 'password', account_locked: 'password' })
    if ('selection_token' in data) setPicker(data)
  })
  if (picker) {
    return (
      <WorkspacePicker
        picker={picker}
        onExpired={(message) => {
          setPicker(null)
          setExpired(message)
        }}
      />
    )
  }
  return (
    <section aria-labelledby="platform-sign-in-title">
      <h1 id="platform-sign-in-title">Sign in</h1>
      <p>Sign in once, then choose the organization to open.</p>
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required error={form.errors.fields.email} />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={form.errors.fields.password} />
        <FormError error={form.errors.form ?? expired} />
        <Submit busy={form.busy}>Sign in</Submit>
      </form>
    </section>
  )
}

/**
 * The organizations of the signed-in account. Choosing one (or creating one) spends the sign-in's
 * single-use selection credential for a handoff code, and the browser goes to that organization's
 * host, which redeems it for its own cookie (and asks for the MFA code there when it is on).
 */
function WorkspacePicker({ picker, onExpired }: { picker: Schemas['PlatformSignIn']; onExpired: (message: string) => void }) {
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const spent = (code: string, message: string) => {
    if (code !== 'invalid_selection') return false
    onExpired(message)
    return true
  }
  const choose = async (slug: string) => {
    setError(undefined)
    setBusy(true)
    const { data, error } = await api.POST('/v1/auth/select/handoff', { body: { selection_token: picker.selection_token, tenant: slug } })
    setBusy(false)
    if (error) {
      const e = apiError(error)
      if (!spent(e.code, e.message)) setError(e.message)
      return
    }
    location.assign(data.url)
  }
  const create = useForm(async ({ name }) => {
    const { data, error } = await api.POST('/v1/auth/workspaces', { body: { selection_token: picker.selection_token, name: name! } })
    if (error) {
      const e = apiError(error)
      if (spent(e.code, e.message)) return
      return formErrors(e, { slug_taken: 'name', tenant_limit_reached: 'name' })
    }
    if ('handoff' in data) location.assign(data.handoff.url)
  })
  return (
    <>
      <section aria-labelledby="picker-title">
        <h1 id="picker-title">Choose an organization</h1>
        {picker.workspaces.length === 0 ? (
          <p>You do not belong to any organization yet. Create one below.</p>
        ) : (
          <ul className="plain" aria-label="Your organizations">
            {picker.workspaces.map((w) => (
              <li key={w.id}>
                <button type="button" className="secondary wide" disabled={busy} onClick={() => void choose(w.slug)}>
                  {w.name} <span className="hint">({w.role})</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <FormError error={error} />
      </section>
      <section aria-labelledby="picker-new-title">
        <h2 id="picker-new-title">Create a new organization</h2>
        <form onSubmit={create.onSubmit} noValidate>
          <Field label="Organization name" name="name" autoComplete="organization" required error={create.errors.fields.name} />
          <FormError error={create.errors.form} />
          <Submit busy={create.busy}>Create and open</Submit>
        </form>
      </section>
    </>
  )
}
