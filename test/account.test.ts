import { describe, expect, it } from 'vitest'
import { call, enableTotp, PASSWORD, signUp, TOTP_STEP_MS, totpCode } from './support.ts'

const code = (secret: string, steps = 0) => totpCode(secret, Date.now() + steps * TOTP_STEP_MS)

/** An owner with TOTP on. */
async function withMfa() {
  const a = await signUp()
  return { ...a, ...(await enableTotp(a)) }
}

describe('POST /v1/me/mfa/backup-codes', () => {
  it('replaces the backup codes when proven with a backup code: old ones refused, new ones sign in', async () => {
    const a = await withMfa()
    const res = await call(`${a.host}/v1/me/mfa/backup-codes`, { body: { code: a.backupCodes[0] }, token: a.access_token })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const fresh = res.body.backup_codes as string[]
    expect(fresh).toHaveLength(10)
    expect(fresh.some((c) => a.backupCodes.includes(c))).toBe(false)
    expect((await call(`${a.host}/v1/me/mfa`, { token: a.access_token })).body.backup_codes_remaining).toBe(10)

    const challenge = async () => (await call(`${a.host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })).body.mfa_token as string
    const old = await call(`${a.host}/v1/auth/mfa/verify`, { body: { mfa_token: await challenge(), code: a.backupCodes[1] } })
    expect(old.status).toBe(401)
    expect(old.body.error.code).toBe('invalid_mfa_code')
    const ok = await call(`${a.host}/v1/auth/mfa/verify`, { body: { mfa_token: await challenge(), code: fresh[0] } })
    expect(ok.status).toBe(200)
  })

  it('accepts a current TOTP code once (replay refused)', async () => {
    const a = await withMfa()
    const next = code(a.secret, 1)
    expect((await call(`${a.host}/v1/me/mfa/backup-codes`, { body: { code: next }, token: a.access_token })).status).toBe(200)
    const replay = await call(`${a.host}/v1/me/mfa/backup-codes`, { body: { code: next }, token: a.access_token })
    expect(replay.status).toBe(403)
    expect(replay.body.error.code).toBe('incorrect_mfa_code')
  })

  it('refuses a wrong code, malformed input, no MFA, no token, and another tenant’s token', async () => {
    const a = await withMfa()
    const wrong = await call(`${a.host}/v1/me/mfa/backup-codes`, { body: { code: 'zzzz-zzzz' }, token: a.access_token })
    expect(wrong.status).toBe(403)
    expect((await call(`${a.host}/v1/me/mfa/backup-codes`, { body: { code: 'nope' }, token: a.access_token })).body.error.code).toBe('validation_failed')
    expect((await call(`${a.host}/v1/me/mfa/backup-codes`, { body: { code: a.backupCodes[0] } })).status).toBe(401)
    const b = await signUp()
    const none = await call(`${b.host}/v1/me/mfa/backup-codes`, { body: { code: '123456' }, token: b.access_token })
    expect(none.status).toBe(404)
    expect(none.body.error.code).toBe('mfa_not_enabled')
    // A's token on B's host.
    expect((await call(`${b.host}/v1/me/mfa/backup-codes`, { body: { code: a.backupCodes[0] }, token: a.access_token })).status).toBe(401)
    // A's codes are untouched by all of it.
    expect((await call(`${a.host}/v1/me/mfa`, { token: a.access_token })).body.backup_codes_remaining).toBe(10)
  })
})

describe('POST /v1/me/sessions/revoke-others', () => {
  it('ends every other session of the user in this tenant and keeps the current one', async () => {
    const a = await signUp()
    const second = await call(`${a.host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })
    const third = await call(`${a.host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })
    const res = await call(`${a.host}/v1/me/sessions/revoke-others`, { method: 'POST', token: second.body.access_token })
    expect(res.status).toBe(200)
    expect(res.body.revoked).toBe(2)
    expect((await call(`${a.host}/v1/me`, { token: second.body.access_token })).status).toBe(200)
    expect((await call(`${a.host}/v1/me`, { token: a.access_token })).status).toBe(401)
    expect((await call(`${a.host}/v1/me`, { token: third.body.access_token })).status).toBe(401)
    const list = await call(`${a.host}/v1/me/sessions`, { token: second.body.access_token })
    expect(list.body.data).toHaveLength(1)
  })

  it('touches no other user’s or tenant’s sessions, and needs a token of this tenant', async () => {
    const a = await signUp()
    const b = await signUp()
    expect((await call(`${a.host}/v1/me/sessions/revoke-others`, { method: 'POST' })).status).toBe(401)
    expect((await call(`${b.host}/v1/me/sessions/revoke-others`, { method: 'POST', token: a.access_token })).status).toBe(401)
    const res = await call(`${a.host}/v1/me/sessions/revoke-others`, { method: 'POST', token: a.access_token })
    expect(res.body.revoked).toBe(0)
    expect((await call(`${b.host}/v1/me`, { token: b.access_token })).status).toBe(200)
  })
})
