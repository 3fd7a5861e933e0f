import { useCallback, useEffect, useId, useState, type FormEvent } from 'react'
import { api, apiError, type Schemas } from '../api/client.ts'
import { useSession } from '../session.tsx'
import { Field, FormError, Notice } from '../ui.tsx'
import { memberErrorMessage, parseAddresses } from './members-text.ts'
import { useRevocableList } from './revocable-list.ts'
import { memberActions } from './screens.ts'

type Member = Schemas['Member']
type Invitation = Schemas['Invitation']
type BuiltInRole = 'owner' | 'admin' | 'member'
const ROLES: BuiltInRole[] = ['member', 'admin', 'owner']
const PAGE = 20

const day = (iso: string) => new Date(iso).toLocaleDateString()

/** Members (search, pages, role changes, removal) and invitations (invite, pending, revoke). */
export function MembersScreen({ permissions }: { permissions: string[] }) {
  const can = memberActions(permissions)
  const [invitationsVersion, setInvitationsVersion] = useState(0)
  return (
    <>
      <h1>Members</h1>
      {can.list && <MemberList can={can} />}
      {can.invite && <InviteForm onSent={() => setInvitationsVersion((v) => v + 1)} />}
      {can.invitations && <PendingInvitations canRevoke={can.revoke} version={invitationsVersion} />}
    </>
  )
}

function MemberList({ can }: { can: ReturnType<typeof memberActions> }) {
  const { user } = useSession()
  const [q, setQ] = useState('')
  // The cursors of the pages before this one (the first page has none): Previous pops one.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined])
  const [page, setPage] = useState<{ data: Member[]; next: string | null } | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [notice, setNotice] = useState<string | null>(null)
  const cursor = cursors.at(-1)

  const load = useCallback(async () => {
    const { data, error } = await api.GET('/v1/members', { params: { query: { limit: PAGE, cursor, q: q || undefined } } })
    if (error) return setError(memberErrorMessage(apiError(error)))
    setPage({ data: data.data, next: data.next_cursor })
  }, [cursor, q])
  useEffect(() => void load(), [load])

  const search = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    setQ(String(new FormData(event.currentTarget).get('q') ?? '').trim())
    setCursors([undefined])
  }
  const act = async (run: () => Promise<{ error?: unknown }>, done: string) => {
    setNotice(null)
    const { error } = await run()
    if (error) return setError(memberErrorMessage(apiError(error)))
    setError(undefined)
    await load()
    setNotice(done)
  }

  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">People in this organization</h2>
      <form role="search" onSubmit={search} className="inline-form">
        <Field label="Search members" name="q" type="search" hint="Part of an email address or a name" defaultValue={q} />
        <button type="submit" className="secondary">Search</button>
      </form>
      <FormError error={error} />
      {notice && <Notice>{notice}</Notice>}
      {!page ? <p role="status">Loading…</p> : page.data.length === 0 ? <p>{q ? `No member matches “${q}”.` : 'No members.'}</p> : (
        <table className="console-table" aria-label="Members">
          <thead>
            <tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Joined</th>{(can.changeRole || can.remove) && <th scope="col">Actions</th>}</tr>
          </thead>
          <tbody>
            {page.data.map((m) => (
              <MemberRow key={m.user_id} member={m} self={m.user_id === user?.id} can={can} act={act} />
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        {cursors.length > 1 && <button type="button" className="secondary" onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>}
        {page?.next && <button type="button" className="secondary" onClick={() => setCursors([...cursors, page.next!])}>Next page</button>}
      </div>
    </section>
  )
}

function MemberRow({ member: m, self, can, act }: {
  member: Member
  self: boolean
  can: ReturnType<typeof memberActions>
  act: (run: () => Promise<{ error?: unknown }>, done: string) => Promise<void>
}) {
  const [role, setRole] = useState(m.role)
  const [confirming, setConfirming] = useState(false)
  const roleId = useId()
  const path = { path: { userId: m.user_id } }
  return (
    <tr>
      <td>{m.email}{self && <> <em>(you)</em></>}</td>
      <td>{m.name ?? '—'}</td>
      <td>
        {can.changeRole ? (
          <>
            <label htmlFor={roleId} className="visually-hidden">Role of {m.email}</label>
            <select id={roleId} value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
              {!ROLES.includes(m.role as BuiltInRole) && <option value={m.role}>{m.role}</option>}
            </select>
          </>
        ) : m.role}
      </td>
      <td>{day(m.joined_at)}</td>
      {(can.changeRole || can.remove) && (
        <td>
          <div className="actions">
            {can.changeRole && role !== m.role && (
              <button type="button" aria-label={`Save the role of ${m.email}`}
                onClick={() => void act(() => api.PATCH('/v1/members/{userId}', { params: path, body: { role: role as BuiltInRole } }), `${m.email} is now ${role}.`)}>
                Save role
              </button>
            )}
            {can.remove && !self && !confirming && (
              <button type="button" className="secondary" aria-label={`Remove ${m.email}`} onClick={() => setConfirming(true)}>Remove</button>
            )}
            {confirming && (
              <>
                <button type="button" className="danger" aria-label={`Confirm removing ${m.email}`}
                  onClick={() => void act(() => api.DELETE('/v1/members/{userId}', { params: path }), `${m.email} was removed; their sessions here ended.`).then(() => setConfirming(false))}>
                  Remove {m.email}
                </button>
                <button type="button" className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
              </>
            )}
          </div>
        </td>
      )}
    </tr>
  )
}

function InviteForm({ onSent }: { onSent: () => void }) {
  const [busy, setBusy] = useState(false)
  const [result, setResult] = useState<{ sent: string[]; failed: { email: string; message: string }[] } | null>(null)
  const [error, setError] = useState<string | undefined>()
  const addressesId = useId()
  const roleId = useId()
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const emails = parseAddresses(String(form.get('emails') ?? ''))
    const role = String(form.get('role')) as BuiltInRole
    setResult(null)
    if (!emails.length) return setError('Enter at least one email address.')
    setError(undefined)
    setBusy(true)
    const sent: string[] = []
    const failed: { email: string; message: string }[] = []
    try {
      // One at a time: each address gets its own answer (and its own mail, which may be refused).
      for (const email of emails) {
        const { error } = await api.POST('/v1/invitations', { body: { email, role } })
        if (error) {
          const e = apiError(error)
          failed.push({ email, message: e.code === 'validation_failed' ? 'This is not a valid email address.' : memberErrorMessage(e) })
        } else sent.push(email)
      }
    } finally {
      setBusy(false)
    }
    setResult({ sent, failed })
    if (sent.length) onSent()
  }
  return (
    <section aria-labelledby="invite-title">
      <h2 id="invite-title">Invite people</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor={addressesId}>Email addresses</label>
          <p className="hint" id={`${addressesId}-hint`}>One or more, separated by commas or new lines. Each gets a link valid 7 days.</p>
          <textarea id={addressesId} name="emails" rows={3} aria-describedby={`${addressesId}-hint`} />
        </div>
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <select id={roleId} name="role" defaultValue="member">
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </div>
        <FormError error={error} />
        <button type="submit" disabled={busy} aria-busy={busy || undefined}>Send invitations</button>
      </form>
      {result && result.sent.length > 0 && <Notice>Invitation sent to {result.sent.join(', ')}.</Notice>}
      {result && result.failed.length > 0 && (
        <div role="alert" className="form-error">
          <p>Not sent:</p>
          <ul>{result.failed.map((f) => <li key={f.email}>{f.email}: {f.message}</li>)}</ul>
        </div>
      )}
    </section>
  )
}

const fetchInvitations = (cursor?: string) => api.GET('/v1/invitations', { params: { query: { limit: PAGE, cursor } } })
const revokeInvitation = (inv: Invitation) => api.DELETE('/v1/invitations/{id}', { params: { path: { id: inv.id } } })
const invitationRevoked = (inv: Invitation) => `The invitation to ${inv.email} was revoked: its link no longer works.`

function PendingInvitations({ canRevoke, version }: { canRevoke: boolean; version: number }) {
  const { items, next, error, notice, load, revoke } = useRevocableList({ fetchPage: fetchInvitations, revokeItem: revokeInvitation, revokedNotice: invitationRevoked, version })
  return (
    <section aria-labelledby="pending-title">
      <h2 id="pending-title">Pending invitations</h2>
      <FormError error={error} />
      {notice && <Notice>{notice}</Notice>}
      {!items ? <p role="status">Loading…</p> : items.length === 0 ? <p>No pending invitations.</p> : (
        <ul className="plain" aria-label="Pending invitations">
          {items.map((inv) => (
            <li key={inv.id}>
              <strong>{inv.email}</strong> as {inv.role}
              <br />
              <span className="hint">Sent {day(inv.created_at)} · expires {day(inv.expires_at)}</span>
              {canRevoke && (
                <div className="actions">
                  <button type="button" className="secondary" aria-label={`Revoke the invitation to ${inv.email}`} onClick={() => void revoke(inv)}>Revoke</button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {next && <div className="actions"><button type="button" className="secondary" onClick={() => void load(next)}>More invitations</button></div>}
    </section>
  )
}
