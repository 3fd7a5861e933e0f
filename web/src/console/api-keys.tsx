import { useEffect, useId, useState, type FormEvent } from 'react'
import { api, apiError, type Schemas } from '../api/client.ts'
import { Field, FormError, Notice } from '../ui.tsx'
import { memberErrorMessage } from './members-text.ts'
import { useRevocableList } from './revocable-list.ts'
import { apiKeyActions } from './screens.ts'

type ApiKey = Schemas['ApiKey']
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : 'never')

/** API keys: create (the secret shown once), list with last use, revoke. */
export function ApiKeysScreen({ permissions }: { permissions: string[] }) {
  const can = apiKeyActions(permissions)
  const [version, setVersion] = useState(0)
  return (
    <>
      <h1>API keys</h1>
      <p>Keys let your services call the API as this organization, with the roles you give them.</p>
      {can.create && <CreateKey pickRoles={can.pickRoles} onCreated={() => setVersion((v) => v + 1)} />}
      {can.list && <KeyList canRevoke={can.revoke} version={version} />}
    </>
  )
}

function CreateKey({ pickRoles, onCreated }: { pickRoles: boolean; onCreated: () => void }) {
  const [roles, setRoles] = useState<string[] | null>(null)
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null)
  const [copied, setCopied] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)
  const legendId = useId()
  useEffect(() => {
    if (!pickRoles) return
    void api.GET('/v1/roles', { params: { query: { limit: 100 } } }).then(({ data }) => setRoles(data ? data.data.map((r) => r.name).filter((n) => n !== 'owner') : null))
  }, [pickRoles])

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const formElement = event.currentTarget
    const form = new FormData(formElement)
    const chosen = roles ? form.getAll('roles').map(String) : String(form.get('roles') ?? '').split(/[\s,]+/).filter(Boolean)
    const expires = String(form.get('expires') ?? '')
    setCreated(null)
    setCopied(false)
    if (!chosen.length) return setError('Choose at least one role.')
    setBusy(true)
    try {
      const { data, error } = await api.POST('/v1/api-keys', {
        body: { name: String(form.get('name') ?? ''), roles: chosen, ...(expires ? { expires_at: new Date(`${expires}T23:59:59Z`).toISOString() } : {}) },
      })
      if (error) return setError(memberErrorMessage(apiError(error)))
      setError(undefined)
      setCreated({ name: data.name, secret: data.secret })
      formElement.reset()
      onCreated()
    } finally {
      setBusy(false)
    }
  }
  const copy = async () => {
    await navigator.clipboard?.writeText(created!.secret).catch(() => undefined)
    setCopied(true)
  }
  return (
    <section aria-labelledby="new-key-title">
      <h2 id="new-key-title">New API key</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Key name" name="name" required hint="What uses it, e.g. “billing service”" />
        {roles ? (
          <fieldset aria-labelledby={legendId} className="field">
            <legend id={legendId}>Roles</legend>
            {roles.map((r) => (
              <label key={r} className="checkbox-inline"><input type="checkbox" name="roles" value={r} /> {r}</label>
            ))}
          </fieldset>
        ) : (
          <Field label="Roles" name="roles" hint="Role names, separated by commas (not owner)" />
        )}
        <Field label="Expires on (optional)" name="expires" type="date" />
        <FormError error={error} />
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>Create key</button>
      </form>
      {created && (
        <div className="secret-once" role="status">
          <p><strong>The secret of “{created.name}”</strong> — copy it now: it is shown only this once.</p>
          <code aria-label="Secret">{created.secret}</code>
          <div className="actions">
            <button type="button" className="secondary" onClick={() => void copy()}>Copy the secret</button>
            <button type="button" className="secondary" onClick={() => setCreated(null)}>Done, hide it</button>
          </div>
          {copied && <Notice>Copied.</Notice>}
        </div>
      )}
    </section>
  )
}

const fetchKeys = (cursor?: string) => api.GET('/v1/api-keys', { params: { query: { limit: 20, cursor, include_revoked: 'false' } } })
const revokeKey = (key: ApiKey) => api.DELETE('/v1/api-keys/{id}', { params: { path: { id: key.id } } })
const keyRevoked = (key: ApiKey) => `“${key.name}” was revoked: it stopped working.`

function KeyList({ canRevoke, version }: { canRevoke: boolean; version: number }) {
  const { items: keys, next, error, notice, load, revoke } = useRevocableList({ fetchPage: fetchKeys, revokeItem: revokeKey, revokedNotice: keyRevoked, version })
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">Active keys</h2>
      <FormError error={error} />
      {notice && <Notice>{notice}</Notice>}
      {!keys ? <p role="status">Loading…</p> : keys.length === 0 ? <p>No active API keys.</p> : (
        <ul className="plain" aria-label="API keys">
          {keys.map((k) => (
            <li key={k.id}>
              <strong>{k.name}</strong> <code>{k.prefix}…</code> — {k.roles.join(', ')}
              <br />
              <span className="hint">Created {when(k.created_at)} · last used {when(k.last_used_at)} · expires {when(k.expires_at)}</span>
              {canRevoke && (
                <div className="actions">
                  <button type="button" className="secondary" aria-label={`Revoke ${k.name}`} onClick={() => void revoke(k)}>Revoke</button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {next && <div className="actions"><button type="button" className="secondary" onClick={() => void load(next)}>More keys</button></div>}
    </section>
  )
}
