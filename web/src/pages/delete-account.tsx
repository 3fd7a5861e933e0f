import { useCallback, useEffect, useState } from 'react'
import { api, apiError, type Schemas } from '../api/client.ts'
import { Link, navigate } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Submit, useForm } from '../ui.tsx'

const CONFIRM = 'delete my account'
type Plan = Schemas['AccountDeletionPlan']

const members = (n: number) => `${n} other member${n === 1 ? '' : 's'}`

/** What deleting the account does to one organization, in words. */
function outcomeText(t: Plan['tenants'][number]): string {
  if (t.outcome === 'deleted') return 'Deleted with your account: no one else belongs to it.'
  if (t.outcome === 'blocks_deletion') {
    return `Stops the deletion: you are its only owner and it has ${members(t.other_members)}. Make one of them an owner, or remove them, first.`
  }
  return t.other_members ? `You leave it; it stays with its ${members(t.other_members)}.` : 'You leave it; it stays.'
}

/**
 * Delete my account. What happens to each organization is stated first (GET /v1/me/deletion);
 * then the confirmation words and the password (or, without one, a recent sign-in).
 */
export function DeleteAccountPage() {
  const { signOut } = useSession()
  const [plan, setPlan] = useState<Plan | null>(null)
  const [loadError, setLoadError] = useState<string | undefined>()
  const load = useCallback(async () => {
    const { data, error } = await api.GET('/v1/me/deletion')
    if (error) return setLoadError(apiError(error).message)
    setPlan(data)
  }, [])
  useEffect(() => void load(), [load])

  const form = useForm(async ({ confirm, password }) => {
    if (confirm?.trim().toLowerCase() !== CONFIRM) return { fields: { confirm: `Type the words exactly: ${CONFIRM}` } }
    const { error } = await api.DELETE('/v1/me', { body: { confirm: CONFIRM, ...(plan?.confirmation === 'password' ? { password: password ?? '' } : {}) } })
    if (error) {
      const e = apiError(error)
      // An organization changed meanwhile: show the plan as it is now.
      if (e.code === 'sole_owner' || e.code === 'conflict') await load()
      return formErrors(e, { password_required: 'password', incorrect_password: 'password' })
    }
    await signOut()
    navigate('/account-deleted', { replace: true })
  })

  return (
    <section aria-labelledby="delete-title">
      <h1 id="delete-title">Delete your account</h1>
      {loadError && <FormError error={loadError} />}
      {!plan && !loadError && <p role="status">Loading…</p>}
      {plan && (
        <>
          <p>Your account, its sign-in methods and two-step verification are deleted, and you are signed out everywhere. This cannot be undone.</p>
          <h2 id="delete-orgs-title">What happens to your organizations</h2>
          {plan.tenants.length === 0 ? <p>You belong to no organization.</p> : (
            <ul className="plain" aria-labelledby="delete-orgs-title">
              {plan.tenants.map((t) => (
                <li key={t.id} className={t.outcome === 'blocks_deletion' ? 'blocking' : undefined}>
                  <strong>{t.name}</strong> <span className="hint">({t.role})</span>
                  <br />
                  {outcomeText(t)}
                </li>
              ))}
            </ul>
          )}
          {plan.blocked ? (
            <p role="alert" className="form-error">Your account cannot be deleted yet: see the organizations above.</p>
          ) : (
            <form onSubmit={form.onSubmit} noValidate aria-label="Delete your account">
              <Field label={`Type “${CONFIRM}” to confirm`} name="confirm" autoComplete="off" required error={form.errors.fields.confirm} />
              {plan.confirmation === 'password' ? (
                <Field label="Your password" name="password" type="password" autoComplete="current-password" required error={form.errors.fields.password} />
              ) : (
                <p className="hint">Your account has no password: if you signed in more than 10 minutes ago, sign out and in again first.</p>
              )}
              <FormError error={form.errors.form} />
              <Submit busy={form.busy} danger>Delete my account</Submit>
            </form>
          )}
        </>
      )}
      <p><Link href="/account">Back to your account</Link></p>
    </section>
  )
}

export function AccountDeletedPage() {
  return (
    <section aria-labelledby="deleted-title">
      <h1 id="deleted-title">Your account was deleted</h1>
      <p>You were signed out everywhere. Thank you for having been with us.</p>
      <p><Link href="/sign-up">Create a new account</Link></p>
    </section>
  )
}
