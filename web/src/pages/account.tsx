import { api, apiError } from '../api/client.ts'
import { Link } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Notice, Submit, useForm } from '../ui.tsx'
import { useState } from 'react'
import { IdentitiesSection, MfaSection, SessionsSection } from './security.tsx'

export function AccountPage() {
  return (
    <>
      <h1>Your account</h1>
      <ProfileSection />
      <EmailSection />
      <PasswordSection />
      <MfaSection />
      <SessionsSection />
      <IdentitiesSection />
      <section aria-labelledby="delete-section-title">
        <h2 id="delete-section-title">Account deletion</h2>
        <p>See first what happens to the organizations you belong to.</p>
        <p><Link href="/account/delete">Delete your account…</Link></p>
      </section>
    </>
  )
}

function ProfileSection() {
  const { user, reloadUser } = useSession()
  const [saved, setSaved] = useState(false)
  const form = useForm(async ({ name }) => {
    setSaved(false)
    const { error } = await api.PATCH('/v1/me', { body: { name: name?.trim() ? name : null } })
    if (error) return formErrors(apiError(error))
    await reloadUser()
    setSaved(true)
  })
  return (
    <section aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <form onSubmit={form.onSubmit} noValidate>
        <Field label="Name" name="name" autoComplete="name" defaultValue={user!.name ?? ''} error={form.errors.fields.name} />
        <FormError error={form.errors.form} />
        <Submit busy={form.busy}>Save profile</Submit>
        {saved && <Notice>Profile saved.</Notice>}
      </form>
    </section>
  )
}

function EmailSection() {
  const { user } = useSession()
  const [sent, setSent] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const resend = async () => {
    setSent(false)
    const { error } = await api.POST('/v1/auth/verify-email/request', {})
    if (error) return setError(apiError(error).message)
    setError(undefined)
    setSent(true)
  }
  return (
    <section aria-labelledby="email-title">
      <h2 id="email-title">Email</h2>
      <p>
        {user!.email} — <strong>{user!.email_verified ? 'verified' : 'not verified'}</strong>
      </p>
      {!user!.email_verified && (
        <>
          <button type="button" className="secondary" onClick={() => void resend()}>Send a verification email</button>
          {sent && <Notice>A verification link is on its way to {user!.email}.</Notice>}
          <FormError error={error} />
        </>
      )}
    </section>
  )
}

function PasswordSection() {
  const { user } = useSession()
  return (
    <section aria-labelledby="password-section-title">
      <h2 id="password-section-title">Password</h2>
      <p>{user!.has_password ? 'You sign in with your email and a password.' : 'You sign in with a linked account; you have no password yet.'}</p>
      <p><Link href="/account/password">{user!.has_password ? 'Change your password' : 'About setting a password'}</Link></p>
    </section>
  )
}
