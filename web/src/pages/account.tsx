import { api, apiError } from '../api/client.ts'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Notice, Submit, useForm } from '../ui.tsx'
import { useState } from 'react'

export function AccountPage() {
  const { user } = useSession()
  return (
    <>
      <h1>Your account</h1>
      <ProfileSection />
      <section aria-labelledby="email-title">
        <h2 id="email-title">Email</h2>
        <p>
          {user!.email} — {user!.email_verified ? 'verified' : 'not verified yet'}
        </p>
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
