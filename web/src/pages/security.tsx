import { useCallback, useEffect, useState } from 'react'
import { api, apiError, type Schemas } from '../api/client.ts'
import { takeFragment } from '../router.tsx'
import { useSession } from '../session.tsx'
import { Field, FormError, formErrors, Notice, Submit, useForm } from '../ui.tsx'

/** "Chrome on Linux" from a User-Agent header: enough to tell one's devices apart. */
export function deviceName(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device'
  const browser = /Edg\//.test(userAgent) ? 'Edge'
    : /HeadlessChrome\//.test(userAgent) ? 'Headless Chrome'
    : /Chrome\//.test(userAgent) ? 'Chrome'
    : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Safari\//.test(userAgent) ? 'Safari'
    : /curl\//.test(userAgent) ? 'curl'
    : 'A client'
  const os = /Windows/.test(userAgent) ? 'Windows'
    : /iPhone|iPad/.test(userAgent) ? 'iOS'
    : /Mac OS X/.test(userAgent) ? 'macOS'
    : /Android/.test(userAgent) ? 'Android'
    : /Linux/.test(userAgent) ? 'Linux'
    : null
  return os ? `${browser} on ${os}` : browser
}

const when = (iso: string) => new Date(iso).toLocaleString()

export function SessionsSection() {
  const [sessions, setSessions] = useState<Schemas['Session'][] | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const [error, setError] = useState<string | undefined>()
  const load = useCallback(async () => {
    const { data } = await api.GET('/v1/me/sessions')
    setSessions(data?.data ?? [])
  }, [])
  useEffect(() => void load(), [load])

  const revoke = async (id: string) => {
    const { error } = await api.DELETE('/v1/me/sessions/{id}', { params: { path: { id } } })
    if (error) return setError(apiError(error).message)
    setMessage('The session was signed out.')
    await load()
  }
  const revokeOthers = async () => {
    const { data, error } = await api.POST('/v1/me/sessions/revoke-others', {})
    if (error) return setError(apiError(error).message)
    setMessage(`${data.revoked} other session${data.revoked === 1 ? '' : 's'} signed out.`)
    await load()
  }
  const others = sessions?.filter((s) => !s.current).length ?? 0
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Where you are signed in</h2>
      {!sessions ? <p role="status">Loading…</p> : (
        <ul className="plain" aria-label="Sessions">
          {sessions.map((s) => (
            <li key={s.id}>
              <strong>{deviceName(s.user_agent)}</strong>
              {s.current && <> — <em>this device</em></>}
              <br />
              <span className="hint">Last used {when(s.last_used_at)}{s.ip ? ` from ${s.ip}` : ''} · signed in {when(s.created_at)}</span>
              {!s.current && (
                <div className="actions">
                  <button type="button" className="secondary" onClick={() => void revoke(s.id)} aria-label={`Sign out ${deviceName(s.user_agent)}, last used ${when(s.last_used_at)}`}>
                    Sign out this session
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {others > 0 && (
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void revokeOthers()}>Sign out all other sessions</button>
        </div>
      )}
      {message && <Notice>{message}</Notice>}
      <FormError error={error} />
    </section>
  )
}

function BackupCodeList({ codes }: { codes: string[] }) {
  return (
    <>
      <p>Keep these backup codes somewhere safe. Each works once, when you cannot use your authenticator app. They are shown only now.</p>
      <ul className="codes" aria-label="Backup codes">
        {codes.map((code) => <li key={code}>{code}</li>)}
      </ul>
    </>
  )
}

export function MfaSection() {
  const { user } = useSession()
  const [status, setStatus] = useState<Schemas['MfaStatus'] | null>(null)
  const [enrolment, setEnrolment] = useState<Schemas['TotpEnrolment'] | null>(null)
  const [codes, setCodes] = useState<string[] | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [error, setError] = useState<string | undefined>()
  const load = useCallback(async () => {
    const { data } = await api.GET('/v1/me/mfa')
    setStatus(data ?? null)
  }, [])
  useEffect(() => void load(), [load])

  const start = async () => {
    setCodes(null)
    setNotice(null)
    const { data, error } = await api.POST('/v1/me/mfa/totp', {})
    if (error) return setError(apiError(error).message)
    setError(undefined)
    setEnrolment(data)
  }
  const confirm = useForm(async ({ code }) => {
    const { data, error } = await api.POST('/v1/me/mfa/totp/confirm', { body: { code: code! } })
    if (error) return formErrors(apiError(error), { incorrect_mfa_code: 'code' })
    setEnrolment(null)
    setCodes(data.backup_codes)
    setNotice('Two-step verification is on.')
    await load()
  })
  const regenerate = useForm(async ({ code }) => {
    const { data, error } = await api.POST('/v1/me/mfa/backup-codes', { body: { code: code! } })
    if (error) return formErrors(apiError(error), { incorrect_mfa_code: 'code' })
    setCodes(data.backup_codes)
    setNotice('New backup codes: the old ones no longer work.')
    await load()
  })
  const disable = useForm(async ({ password, code }) => {
    const { error } = await api.DELETE('/v1/me/mfa', { body: user!.has_password ? { password: password! } : { code: code! } })
    if (error) return formErrors(apiError(error), { incorrect_password: 'password', password_required: 'password', incorrect_mfa_code: 'code', mfa_code_required: 'code' })
    setCodes(null)
    setNotice('Two-step verification is off.')
    await load()
  })

  if (!status) return <section aria-labelledby="mfa-title"><h2 id="mfa-title">Two-step verification</h2><p role="status">Loading…</p></section>
  return (
    <section aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-step verification</h2>
      {notice && <Notice>{notice}</Notice>}
      {codes && <BackupCodeList codes={codes} />}
      {!status.totp.enabled && !enrolment && (
        <>
          <p>Off. Turn it on to ask for a code from an authenticator app after your password.</p>
          <button type="button" onClick={() => void start()}>Set up an authenticator app</button>
          <FormError error={error} />
        </>
      )}
      {!status.totp.enabled && enrolment && (
        <>
          <p>Scan this code with your authenticator app, or enter the key by hand.</p>
          <img className="qr" src={`data:image/svg+xml;utf8,${encodeURIComponent(enrolment.qr_svg)}`} alt={`QR code of the key ${enrolment.secret}`} />
          <p>Key: <code aria-label="Setup key">{enrolment.secret}</code></p>
          <form onSubmit={confirm.onSubmit} noValidate>
            <Field label="Code from the app" name="code" autoComplete="one-time-code" inputMode="numeric" required error={confirm.errors.fields.code} />
            <FormError error={confirm.errors.form} />
            <Submit busy={confirm.busy}>Turn on</Submit>
          </form>
        </>
      )}
      {status.totp.enabled && (
        <>
          <p>On since {new Date(status.totp.enabled_at!).toLocaleDateString()}. Backup codes left: {status.backup_codes_remaining}.</p>
          <h3>New backup codes</h3>
          <form onSubmit={regenerate.onSubmit} noValidate aria-label="New backup codes">
            <Field label="Code from your authenticator app (for new backup codes)" name="code" autoComplete="one-time-code" required error={regenerate.errors.fields.code} />
            <FormError error={regenerate.errors.form} />
            <Submit busy={regenerate.busy}>Make new backup codes</Submit>
          </form>
          <h3>Turn off</h3>
          <form onSubmit={disable.onSubmit} noValidate aria-label="Turn off two-step verification">
            {user!.has_password ? (
              <Field label="Your password (to turn off two-step verification)" name="password" type="password" autoComplete="current-password" required error={disable.errors.fields.password} />
            ) : (
              <Field label="A code from your app or a backup code (to turn off)" name="code" autoComplete="one-time-code" required error={disable.errors.fields.code} />
            )}
            <FormError error={disable.errors.form} />
            <button type="submit" className="danger" disabled={disable.busy}>Turn off two-step verification</button>
          </form>
        </>
      )}
    </section>
  )
}

const PROVIDER_NAMES: Record<string, string> = { google: 'Google', github: 'GitHub', facebook: 'Facebook', tiktok: 'TikTok' }

/**
 * Social accounts linked to mine: link another (a top-level trip to the provider, back to this
 * page with the result in the fragment), unlink one — refused by the API when it is the last
 * way to sign in (shown here).
 */
export function IdentitiesSection() {
  const { options } = useSession()
  const [identities, setIdentities] = useState<Schemas['LinkedIdentity'][] | null>(null)
  // The result of a link, when the provider sent the browser back here.
  const [returned] = useState(() => (/(^|&)(linked|error)=/.test(location.hash.slice(1)) ? takeFragment() : null))
  const [error, setError] = useState<string | undefined>(returned?.get('error_description') ?? undefined)
  const [notice, setNotice] = useState<string | null>(returned?.get('linked') ? `${PROVIDER_NAMES[returned.get('linked')!] ?? returned.get('linked')} is now linked: you can sign in with it.` : null)
  const load = useCallback(async () => {
    const { data } = await api.GET('/v1/me/identities')
    setIdentities(data?.data ?? [])
  }, [])
  useEffect(() => void load(), [load])
  const unlink = async (provider: Schemas['LinkedIdentity']['provider']) => {
    setNotice(null)
    const { error } = await api.DELETE('/v1/me/identities/{provider}', { params: { path: { provider } } })
    if (error) return setError(apiError(error).message)
    setError(undefined)
    setNotice(`${PROVIDER_NAMES[provider]} was unlinked.`)
    await load()
  }
  const link = async (provider: string) => {
    setNotice(null)
    const { data, error } = await api.POST('/v1/me/identities/{provider}', { params: { path: { provider } }, body: { redirect_to: '/account' } })
    if (error) return setError(apiError(error).message)
    location.assign(data.authorization_url)
  }
  const linkable = (options?.social_providers ?? []).filter((p) => !identities?.some((i) => i.provider === p))
  return (
    <section aria-labelledby="identities-title">
      <h2 id="identities-title">Linked accounts</h2>
      {!identities ? <p role="status">Loading…</p> : identities.length === 0 ? (
        <p>No social account is linked yet.</p>
      ) : (
        <ul className="plain" aria-label="Linked accounts">
          {identities.map((i) => (
            <li key={i.provider}>
              <strong>{PROVIDER_NAMES[i.provider]}</strong>{i.email ? ` — ${i.email}` : ''}
              <div className="actions">
                <button type="button" className="secondary" onClick={() => void unlink(i.provider)}>Unlink {PROVIDER_NAMES[i.provider]}</button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {identities && linkable.length > 0 && (
        <div className="actions" role="group" aria-label="Link another account">
          {linkable.map((p) => (
            <button key={p} type="button" className="secondary" onClick={() => void link(p)}>Link {PROVIDER_NAMES[p] ?? p}</button>
          ))}
        </div>
      )}
      {notice && <Notice>{notice}</Notice>}
      <FormError error={error} />
    </section>
  )
}
