import { useEffect, useId, useState } from 'react'
import { api, apiError, type Schemas } from './api/client.ts'

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
        </div>
      )}
    </div>
  )
}
