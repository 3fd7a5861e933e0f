import { useEffect, useId, useState } from 'react'
import { api, apiError, type Schemas } from './api/client.ts'
import { Field, FormError, formErrors, Submit, useForm } from './ui.tsx'

/**
 * The organizations I belong to, with my role; choosing another one hands the session over to
 * its host with a single-use, 60-second code (each organization is its own origin: no cookie
 * is shared between them).
 */
export function OrgSwitcher() {
  const [open, setOpen] = useState(false)
  const [tenants, setTenants] = useState<Schemas['MyTenant'][] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const listId = useId()
  useEffect(() => {
    if (!open || tenants) return
    void api.GET('/v1/me/tenants').then(({ data, error }) => (data ? setTenants(data.data) : setError(apiError(error).message)))
  }, [open, tenants])

  const switchTo = async (slug: string) => {
    setError(null)
    const { data, error } = await api.POST('/v1/auth/handoff', { body: { tenant: slug } })
    if (error) return setError(apiError(error).message)
    location.assign(data.url)
  }

  return (
    <div className="switcher">
      <button type="button" className="secondary" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
        Switch organization
      </button>
      {open && (
        <div id={listId} className="switcher-panel">
          {!tenants && !error && <p role="status">Loading…</p>}
          {tenants && (
            <ul className="plain" aria-label="Your organizations">
              {tenants.map((t) => (
                <li key={t.id}>
                  {t.current ? (
                    <span aria-current="true"><strong>{t.name}</strong> ({t.role}) — current</span>
                  ) : (
                    <button type="button" className="link-button" onClick={() => void switchTo(t.slug)}>
                      {t.name} ({t.role})
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          {error && <p className="form-error" role="alert">{error}</p>}
          <NewOrganization />
        </div>
      )}
    </div>
  )
}

/**
 * A new organization, owned by me. The API opens its session on the new organization's host —
 * another origin — so the web app (cookie mode) gets a handoff to it, as for a switch.
 */
function NewOrganization() {
  const [open, setOpen] = useState(false)
  const formId = useId()
  const form = useForm(async ({ name }) => {
    const { data, error } = await api.POST('/v1/me/tenants', { body: { name: name! } })
    if (error) return formErrors(apiError(error), { slug_taken: 'name', tenant_limit_reached: 'name' })
    if ('handoff' in data) location.assign(data.handoff.url)
  })
  return (
    <div className="switcher-new">
      <button type="button" className="link-button" aria-expanded={open} aria-controls={formId} onClick={() => setOpen(!open)}>
        Create a new organization
      </button>
      {open && (
        <form id={formId} onSubmit={form.onSubmit} noValidate aria-label="New organization">
          <Field label="Organization name" name="name" autoComplete="organization" required autoFocus error={form.errors.fields.name} />
          <FormError error={form.errors.form} />
          <Submit busy={form.busy}>Create and switch</Submit>
        </form>
      )}
    </div>
  )
}
