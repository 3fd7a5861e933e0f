import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { Secret, TOTP, URI } from 'otpauth'
import decodeQR from 'qr/decode.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { userBackupCodes, userMfa } from '../src/db/public-schema.ts'
import { decryptSecret, hashToken } from '../src/identity/secrets.ts'
import { FakeProviders } from './oauth-providers.ts'
import { numericId, signIn } from './oauth-flow.ts'
import { call, createTenant, database, enableTotp, join, mfaToken, newEmail, openTenant, type Owner, PASSWORD, PLATFORM, signUp, tenantOrigin, TOTP_STEP_MS, totpClock } from './support.ts'

const { step, advanceSteps, codeAt, inWindow } = totpClock()

async function enrol(a: Owner) {
  const res = await call(`${a.host}/v1/me/mfa/totp`, { method: 'POST', token: a.access_token })
  expect(res.status).toBe(201)
  return res.body as { secret: string; otpauth_uri: string; qr_svg: string }
}

/** Enrolled and confirmed with the code of the current step (which becomes the last used one). */
const enrolled = (a: Owner) => enableTotp(a, step() * TOTP_STEP_MS)

async function login(a: Pick<Owner, 'email' | 'host'>) {
  return call(`${a.host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })
}

const verify = (host: string, mfa_token: string, code: string) => call(`${host}/v1/auth/mfa/verify`, { body: { mfa_token, code } })

async function auditActions(a: Owner): Promise<string[]> {
  const res = await call(`${a.host}/v1/audit?limit=100`, { token: a.access_token })
  expect(res.status).toBe(200)
  return res.body.data.map((e: { action: string }) => e.action)
}

/** Rebuild the module grid from the SVG (one `M x y h1v1…Z` square per dark module) and decode it like a camera would. */
function scanQrSvg(svg: string): string {
  const size = Number(svg.match(/viewBox="0 0 (\d+) \1"/)![1])
  const scale = 4
  const width = size * scale
  const pixels = new Uint8Array(width * width * 3).fill(255)
  let x = 0
  let y = 0
  for (const [, move, dx, dy] of svg.matchAll(/([Mm])(-?\d+) (-?\d+)h1v1(?:H\d+|h-1)Z/g)) {
    x = move === 'M' ? Number(dx) : x + Number(dx)
    y = move === 'M' ? Number(dy) : y + Number(dy)
    for (let py = y * scale; py < (y + 1) * scale; py++) pixels.fill(0, (py * width + x * scale) * 3, (py * width + (x + 1) * scale) * 3)
  }
  return decodeQR({ width, height: width, data: pixels }, { format: 'RGB' })
}

describe('TOTP enrolment', () => {
  it('answers a base32 secret, an otpauth URI (issuer = tenant name, label = email) and a QR code of that URI', async () => {
    const a = await signUp({ name: 'Ada' })
    const res = await call(`${a.host}/v1/me/mfa/totp`, { method: 'POST', token: a.access_token })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const { secret, otpauth_uri, qr_svg } = res.body
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(Secret.fromBase32(secret).bytes).toHaveLength(20)
    const tenant = await call(`${a.host}/v1/tenant`, { token: a.access_token })
    const parsed = URI.parse(otpauth_uri) as TOTP
    expect(parsed).toBeInstanceOf(TOTP)
    expect(parsed).toMatchObject({ issuer: tenant.body.name, label: a.email, algorithm: 'SHA1', digits: 6, period: 30 })
    expect(parsed.secret.base32).toBe(secret)
    expect(qr_svg).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"[^>]*><rect [^>]*fill="#fff"\/><path d="M/)
    expect(scanQrSvg(qr_svg)).toBe(otpauth_uri)

    const status = await call(`${a.host}/v1/me/mfa`, { token: a.access_token })
    expect(status.body).toEqual({ totp: { enabled: false, enabled_at: null, pending: true }, backup_codes_remaining: 0 })
    // Pending is not on: sign-in still needs only the password.
    expect((await login(a)).body.access_token).toBeTruthy()
  })

  it('stores the secret encrypted (bound to the user) and the backup codes hashed, never in plaintext', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret, backupCodes } = await enrolled(a)
    const [row] = await database().select().from(userMfa).where(eq(userMfa.userId, a.user.id))
    expect(row!.totpSecretEnc).toMatch(/^v1\.[\w-]+\.[\w-]+$/)
    expect(row!.totpSecretEnc).not.toContain(secret)
    expect(row!.totpSecretEnc).not.toContain(Secret.fromBase32(secret).hex)
    expect(await decryptSecret(env.DATA_ENCRYPTION_KEY, row!.totpSecretEnc, `totp:${a.user.id}`)).toBe(secret)
    await expect(decryptSecret(env.DATA_ENCRYPTION_KEY, row!.totpSecretEnc, 'totp:someone-else')).rejects.toThrow()
    expect(row!.enabledAt).not.toBeNull()
    expect(row!.lastUsedStep).toBe(step())

    const stored = await database().select().from(userBackupCodes).where(eq(userBackupCodes.userId, a.user.id))
    expect(stored.map((r) => r.codeHash).sort()).toEqual((await Promise.all(backupCodes.map(hashToken))).sort())
    expect(JSON.stringify(stored)).not.toMatch(new RegExp(backupCodes.join('|')))
  })

  it('confirms with a code from the app: MFA on, ten distinct backup codes shown once, audit and user event', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrol(a)
    const res = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step() - 1) }, token: a.access_token })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body.backup_codes).toHaveLength(10)
    expect(new Set(res.body.backup_codes).size).toBe(10)
    for (const code of res.body.backup_codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/)

    const status = await call(`${a.host}/v1/me/mfa`, { token: a.access_token })
    expect(status.body).toMatchObject({ totp: { enabled: true, pending: false }, backup_codes_remaining: 10 })
    expect(new Date(status.body.totp.enabled_at).getTime()).toBeGreaterThan(0)
    expect(JSON.stringify(status.body)).not.toContain(res.body.backup_codes[0])

    expect(await auditActions(a)).toContain('mfa.enrolled')
    const events = await call(`${a.host}/v1/me/events`, { token: a.access_token })
    expect(events.body.data.map((e: { action: string }) => e.action)).toContain('mfa.enrolled')
  })

  it('refuses a wrong code (403) and one from two steps away; confirming twice is 409', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrol(a)
    const wrong = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step()) === '000000' ? '111111' : '000000' }, token: a.access_token })
    expect(wrong.status).toBe(403)
    expect(wrong.body.error.code).toBe('incorrect_mfa_code')
    // A code from two steps ahead can equal one inside the window by chance (3 in 10^6): move the
    // clock to a step where it does not, so the assertion always runs.
    while (inWindow(secret, codeAt(secret, step() + 2))) advanceSteps(1)
    const far = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step() + 2) }, token: a.access_token })
    expect(far.status).toBe(403)
    expect((await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step()) }, token: a.access_token })).status).toBe(200)
    const again = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step() + 1) }, token: a.access_token })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('mfa_already_enabled')
    expect(await auditActions(a)).toContain('mfa.failed')
  })

  it('replaces an unconfirmed enrolment, refuses a new one while TOTP is on (409), and confirm without one is 409', async () => {
    const a = await signUp({ name: 'Ada' })
    const none = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: '123456' }, token: a.access_token })
    expect(none.status).toBe(409)
    expect(none.body.error.code).toBe('mfa_enrolment_not_started')

    const first = await enrol(a)
    const second = await enrol(a)
    expect(second.secret).not.toBe(first.secret)
    // The replaced secret's code can equal one of the new secret's window by chance: move the clock
    // to a step where it does not, so the assertion always runs.
    while (inWindow(second.secret, codeAt(first.secret, step()))) advanceSteps(1)
    const stale = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(first.secret, step()) }, token: a.access_token })
    expect(stale.status).toBe(403)
    expect(stale.body.error.code).toBe('incorrect_mfa_code')
    expect((await call(`${a.host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(second.secret, step()) }, token: a.access_token })).status).toBe(200)

    const again = await call(`${a.host}/v1/me/mfa/totp`, { method: 'POST', token: a.access_token })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('mfa_already_enabled')
    // The refused attempt changed nothing: the enrolled secret still signs in.
    advanceSteps(1)
    expect((await verify(a.host, await mfaToken(a), codeAt(second.secret, step()))).status).toBe(200)
  })
})

describe('sign-in with MFA', () => {
  it('answers mfa_required after the password, and tokens of an MFA session after a TOTP code', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const res = await login(a)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ mfa_required: true, mfa_token: expect.stringMatching(/^[\w-]{43}$/) })
    expect(res.body.access_token).toBeUndefined()

    advanceSteps(1)
    const done = await verify(a.host, res.body.mfa_token, codeAt(secret, step()))
    expect(done.status).toBe(200)
    expect(done.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) })
    const me = await call(`${a.host}/v1/me`, { token: done.body.access_token })
    expect(me.body.id).toBe(a.user.id)
    const sessions = await call(`${a.host}/v1/me/sessions`, { token: done.body.access_token })
    expect(sessions.body.data.find((s: { current: boolean }) => s.current)).toBeTruthy()
    const t = await database().execute<{ mfa: boolean }>(`select mfa from tenant_${a.tenant.id.replace(/-/g, '')}.sessions where user_id = '${a.user.id}' order by id desc limit 1`)
    expect(t.rows[0]!.mfa).toBe(true)

    // The challenge is consumed.
    advanceSteps(1)
    const reused = await verify(a.host, res.body.mfa_token, codeAt(secret, step()))
    expect(reused.status).toBe(401)
    expect(reused.body.error.code).toBe('invalid_mfa_token')
    const actions = await auditActions(a)
    expect(actions).toContain('mfa.verified')
  })

  it('refuses a replayed TOTP code, accepts one step of drift either way, refuses two', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a) // the code of step() is now used
    const token = await mfaToken(a)
    const replay = await verify(a.host, token, codeAt(secret, step()))
    expect(replay.status).toBe(401)
    expect(replay.body.error).toMatchObject({ code: 'invalid_mfa_code', details: { attempts_left: 4 } })
    // Next step's code (the phone's clock is ahead) is accepted…
    expect((await verify(a.host, token, codeAt(secret, step() + 1))).status).toBe(200)
    // …and then it, and anything before it, is used.
    const again = await mfaToken(a)
    expect((await verify(a.host, again, codeAt(secret, step() + 1))).status).toBe(401)
    advanceSteps(1)
    expect((await verify(a.host, again, codeAt(secret, step()))).status).toBe(401) // same step as the last accepted one

    advanceSteps(2) // the server is now two steps past the last used code
    // As above: step past the rare clock positions where the old code equals one inside the window.
    while (inWindow(secret, codeAt(secret, step() - 2))) advanceSteps(1)
    const late = await mfaToken(a)
    const tooOld = codeAt(secret, step() - 2)
    expect((await verify(a.host, late, tooOld)).status).toBe(401)
    expect((await verify(a.host, late, codeAt(secret, step() - 1))).status).toBe(200) // the phone is a step behind
  })

  it('lets only one of two concurrent sign-ins with the same code through', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const [t1, t2] = [await mfaToken(a), await mfaToken(a)]
    const code = codeAt(secret, step() + 1)
    const results = await Promise.all([verify(a.host, t1, code), verify(a.host, t2, code)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 401])
  })

  it('completes a sign-in with a backup code (any case, spaces), once; the same code is refused the next time', async () => {
    const a = await signUp({ name: 'Ada' })
    const { backupCodes } = await enrolled(a)
    const code = backupCodes[3]!
    const first = await verify(a.host, await mfaToken(a), ` ${code.toUpperCase().replace('-', ' ')} `)
    expect(first.status).toBe(200)
    expect(first.body.access_token).toBeTruthy()
    const second = await verify(a.host, await mfaToken(a), code)
    expect(second.status).toBe(401)
    expect(second.body.error.code).toBe('invalid_mfa_code')
    expect((await verify(a.host, await mfaToken(a), backupCodes[4]!)).status).toBe(200)

    const status = await call(`${a.host}/v1/me/mfa`, { token: first.body.access_token })
    expect(status.body.backup_codes_remaining).toBe(8)
    const actions = await auditActions(a)
    expect(actions.filter((x) => x === 'backup_code.used')).toHaveLength(2)
    expect(actions).toContain('mfa.failed')
  })

  it('counts wrong codes down; the fifth destroys the challenge (and counts towards the account lockout)', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const token = await mfaToken(a)
    const good = codeAt(secret, step() + 1)
    const wrong = ['000000', '111111', '222222', '333333', '444444', '555555'].filter((c) => ![-1, 0, 1].some((d) => codeAt(secret, step() + d) === c))
    for (let i = 1; i <= 4; i++) {
      const res = await verify(a.host, token, wrong[i - 1]!)
      expect(res.status).toBe(401)
      expect(res.body.error).toMatchObject({ code: 'invalid_mfa_code', details: { attempts_left: 5 - i } })
    }
    const fifth = await verify(a.host, token, wrong[4]!)
    expect(fifth.status).toBe(401)
    expect(fifth.body.error.code).toBe('mfa_attempts_exceeded')
    const after = await verify(a.host, token, good)
    expect(after.status).toBe(401)
    expect(after.body.error.code).toBe('invalid_mfa_token')
    // Five failed sign-ins lock the account under the default policy (5 attempts): no new challenge either.
    const locked = await login(a)
    expect(locked.status).toBe(429)
    expect(locked.body.error.code).toBe('account_locked')
  })

  it('counts concurrent guesses atomically: at most five are ever checked', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const token = await mfaToken(a)
    const wrong = Array.from({ length: 9 }, (_, i) => String(100000 + i * 111))
      .filter((c) => ![-1, 0, 1].some((d) => codeAt(secret, step() + d) === c))
      .slice(0, 8)
    const results = await Promise.all(wrong.map((code) => verify(a.host, token, code)))
    const checked = results.filter((r) => r.body.error.code !== 'invalid_mfa_token')
    expect(results.every((r) => r.status === 401 || r.status === 429)).toBe(true)
    expect(checked.length).toBeGreaterThan(0)
    expect(checked.length).toBeLessThanOrEqual(5)
    expect((await auditActions(a)).filter((x) => x === 'mfa.failed').length).toBeLessThanOrEqual(5)
  })

  it('refuses malformed input with 400 without spending an attempt', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const token = await mfaToken(a)
    for (const body of [{ mfa_token: token }, { mfa_token: token, code: 'abc' }, { mfa_token: token, code: 123456 }, { mfa_token: '', code: '123456' }, { mfa_token: token, code: '123456', extra: 1 }]) {
      const res = await call(`${a.host}/v1/auth/mfa/verify`, { body })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    expect((await call(`${a.host}/v1/auth/mfa/verify`, { body: 'not json', headers: { 'content-type': 'application/json' } })).status).toBe(400)
    expect((await verify(a.host, 'no-such-token', '123456')).body.error.code).toBe('invalid_mfa_token')
    const wrong = await verify(a.host, token, codeAt(secret, step() + 1) === '000000' ? '111111' : '000000')
    expect(wrong.body.error.details.attempts_left).toBe(4)
  })

  it('refuses an mfa_token of tenant A on tenant B’s host (and leaves it usable on A)', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const other = await openTenant()
    // The same person is a member of B too, so only the binding of the challenge can refuse it.
    await join(other, a.email)
    const token = await mfaToken(a)
    const elsewhere = await verify(tenantOrigin(other.slug), token, codeAt(secret, step() + 1))
    expect(elsewhere.status).toBe(401)
    expect(elsewhere.body.error.code).toBe('invalid_mfa_token')
    expect((await call(`${PLATFORM}/v1/auth/mfa/verify`, { body: { mfa_token: token, code: codeAt(secret, step() + 1) } })).status).toBe(404)
    const home = await verify(a.host, token, codeAt(secret, step() + 1))
    expect(home.status).toBe(200)
  })

  it('asks for the second factor when an account with TOTP on signs up on another tenant with its password', async () => {
    const a = await signUp({ name: 'Ada' })
    const { secret } = await enrolled(a)
    const other = await openTenant()
    const host = tenantOrigin(other.slug)
    const res = await call(`${host}/v1/auth/register`, { body: { email: a.email, password: PASSWORD } })
    expect(res.status).toBe(201)
    // The password joins the tenant, but no session opens without the code, as at sign-in.
    expect(res.body).toMatchObject({ mfa_required: true, mfa_token: expect.stringMatching(/^[\w-]{43}$/), tenant: { id: other.id, slug: other.slug } })
    expect(res.body.access_token).toBeUndefined()
    expect(res.body.refresh_token).toBeUndefined()
    const sessions = await database().execute<{ n: number }>(`select count(*)::int as n from tenant_${other.id.replace(/-/g, '')}.sessions where user_id = '${a.user.id}'`)
    expect(sessions.rows[0]!.n).toBe(0)
    // The same as a sign-in there now answers.
    const again = await call(`${host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })
    expect(again.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) })

    advanceSteps(1)
    const done = await verify(host, res.body.mfa_token, codeAt(secret, step()))
    expect(done.status).toBe(200)
    const me = await call(`${host}/v1/me`, { token: done.body.access_token })
    expect(me.body.id).toBe(a.user.id)
  })
})

describe('turning MFA off', () => {
  it('needs the right password; then sign-in needs only the password again; audit and user event', async () => {
    const a = await signUp({ name: 'Ada' })
    await enrolled(a)
    const missing = await call(`${a.host}/v1/me/mfa`, { method: 'DELETE', body: {}, token: a.access_token })
    expect(missing.status).toBe(400)
    expect(missing.body.error.code).toBe('password_required')
    const wrong = await call(`${a.host}/v1/me/mfa`, { method: 'DELETE', body: { password: 'not the password' }, token: a.access_token })
    expect(wrong.status).toBe(403)
    expect(wrong.body.error.code).toBe('incorrect_password')
    expect((await call(`${a.host}/v1/me/mfa`, { token: a.access_token })).body.totp.enabled).toBe(true)

    const ok = await call(`${a.host}/v1/me/mfa`, { method: 'DELETE', body: { password: PASSWORD }, token: a.access_token })
    expect(ok.status).toBe(204)
    expect(await database().select().from(userMfa).where(eq(userMfa.userId, a.user.id))).toEqual([])
    expect(await database().select().from(userBackupCodes).where(eq(userBackupCodes.userId, a.user.id))).toEqual([])
    expect((await login(a)).body.access_token).toBeTruthy()
    const again = await call(`${a.host}/v1/me/mfa`, { method: 'DELETE', body: { password: PASSWORD }, token: a.access_token })
    expect(again.status).toBe(404)
    expect(again.body.error.code).toBe('mfa_not_enabled')

    expect(await auditActions(a)).toEqual(expect.arrayContaining(['mfa.enrolled', 'mfa.failed', 'mfa.disabled']))
    const events = await call(`${a.host}/v1/me/events`, { token: a.access_token })
    expect(events.body.data.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['mfa.enrolled', 'mfa.disabled']))
  })

  it('refuses invalid input with 400', async () => {
    const a = await signUp({ name: 'Ada' })
    await enrolled(a)
    for (const body of [{ password: 5 }, { password: '' }, { password: PASSWORD, extra: true }, { code: '12' }, { code: 'abcd-efg!' }]) {
      const res = await call(`${a.host}/v1/me/mfa`, { method: 'DELETE', body, token: a.access_token })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })

  describe('of an account without a password (social sign-in only)', () => {
    const fake = new FakeProviders()
    beforeEach(() => fake.install())
    afterEach(() => fake.uninstall())

    it('asks for MFA at social sign-in too, and needs a current TOTP (or backup) code to turn it off', async () => {
      const tenant = await openTenant()
      const host = tenantOrigin(tenant.slug)
      const person = { id: numericId(), email: newEmail(), emailVerified: true }
      const first = await signIn(fake, tenant.slug, 'google', person)
      expect(first.status).toBe(200)
      const token = first.body.access_token as string
      const { secret } = await enrol({ host, access_token: token } as Owner)
      expect((await call(`${host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step()) }, token })).status).toBe(200)

      const challenged = await signIn(fake, tenant.slug, 'google', person)
      expect(challenged.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) })
      expect((await verify(host, challenged.body.mfa_token, codeAt(secret, step() + 1))).status).toBe(200)

      const noCode = await call(`${host}/v1/me/mfa`, { method: 'DELETE', body: { password: 'anything at all' }, token })
      expect(noCode.status).toBe(400)
      expect(noCode.body.error.code).toBe('mfa_code_required')
      const used = await call(`${host}/v1/me/mfa`, { method: 'DELETE', body: { code: codeAt(secret, step() + 1) }, token })
      expect(used.status).toBe(403)
      expect(used.body.error.code).toBe('incorrect_mfa_code')
      advanceSteps(2)
      expect((await call(`${host}/v1/me/mfa`, { method: 'DELETE', body: { code: codeAt(secret, step()) }, token })).status).toBe(204)
      expect((await signIn(fake, tenant.slug, 'google', person)).body.access_token).toBeTruthy()
    })
  })
})

describe('tenant setting require_mfa', () => {
  it('answers 403 mfa_enrolment_required until the user enrols, except enrolment, GET /v1/me, refresh and logout', async () => {
    const tenant = await openTenant({ require_mfa: true })
    const host = tenantOrigin(tenant.slug)
    const address = newEmail()
    const reg = await call(`${host}/v1/auth/register`, { body: { email: address, password: PASSWORD } })
    expect(reg.status).toBe(201)
    const token = reg.body.access_token as string

    for (const [method, path] of [['GET', '/v1/me/tenants'], ['GET', '/v1/me/sessions'], ['PATCH', '/v1/me'], ['GET', '/v1/tenant'], ['POST', '/v1/auth/logout-all']] as const) {
      const res = await call(`${host}${path}`, { method, token, body: method === 'PATCH' ? { name: 'x' } : undefined })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.error.code).toBe('mfa_enrolment_required')
    }
    expect((await call(`${host}/v1/me`, { token })).status).toBe(200)
    expect((await call(`${host}/v1/me/mfa`, { token })).status).toBe(200)
    const refreshed = await call(`${host}/v1/auth/refresh`, { body: { refresh_token: reg.body.refresh_token }, token })
    expect(refreshed.status).toBe(200)

    const { secret } = await enrol({ host, access_token: token } as Owner)
    expect((await call(`${host}/v1/me/tenants`, { token })).status).toBe(403)
    expect((await call(`${host}/v1/me/mfa/totp/confirm`, { body: { code: codeAt(secret, step()) }, token })).status).toBe(200)
    expect((await call(`${host}/v1/me/tenants`, { token })).status).toBe(200)
    expect((await call(`${host}/v1/me/sessions`, { token: refreshed.body.access_token })).status).toBe(200)

    // Turning it off again brings the wall back at once (the cached "enrolled" is cleared).
    expect((await call(`${host}/v1/me/mfa`, { method: 'DELETE', body: { password: PASSWORD }, token })).status).toBe(204)
    expect((await call(`${host}/v1/me/tenants`, { token })).status).toBe(403)
    expect((await call(`${host}/v1/auth/logout`, { method: 'POST', token })).status).toBe(204)
  })

  it('leaves tenants without the setting, and anonymous requests, alone', async () => {
    const a = await signUp({ name: 'Ada' })
    expect((await call(`${a.host}/v1/me/tenants`, { token: a.access_token })).status).toBe(200)
    const strict = await createTenant({ settings: { require_mfa: true } })
    expect((await call(`${tenantOrigin(strict.slug)}/v1/tenant`)).status).not.toBe(403)
  })
})

describe('access', () => {
  it('answers 401 without a token on every /v1/me/mfa endpoint', async () => {
    const a = await signUp({ name: 'Ada' })
    for (const [method, path, body] of [['GET', '/v1/me/mfa', undefined], ['POST', '/v1/me/mfa/totp', undefined], ['POST', '/v1/me/mfa/totp/confirm', { code: '123456' }], ['DELETE', '/v1/me/mfa', { password: PASSWORD }]] as const) {
      const res = await call(`${a.host}${path}`, { method, body })
      expect(res.status, `${method} ${path}`).toBe(401)
      expect(res.body.error.code).toBe('unauthenticated')
    }
  })

  it('refuses a token of tenant A on tenant B’s host, and cannot touch A’s enrolment from B', async () => {
    const a = await signUp({ name: 'Ada' })
    const b = await signUp({ name: 'Ada' })
    await enrolled(a)
    for (const [method, path, body] of [['GET', '/v1/me/mfa', undefined], ['POST', '/v1/me/mfa/totp', undefined], ['DELETE', '/v1/me/mfa', { password: PASSWORD }]] as const) {
      const res = await call(`${b.host}${path}`, { method, body, token: a.access_token })
      expect(res.status, `${method} ${path}`).toBe(401)
      expect(res.body.error.code).toBe('invalid_token')
    }
    expect((await call(`${a.host}/v1/me/mfa`, { token: a.access_token })).body.totp.enabled).toBe(true)
  })

  it('answers on a tenant host only', async () => {
    for (const [method, path] of [['GET', '/v1/me/mfa'], ['POST', '/v1/me/mfa/totp'], ['POST', '/v1/auth/mfa/verify']] as const) {
      const res = await call(`${PLATFORM}${path}`, { method, body: method === 'POST' ? { mfa_token: 'x', code: '123456' } : undefined })
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.body.error.code).toBe('tenant_required')
    }
  })

  it('documents every endpoint in /openapi.json', async () => {
    const doc = await call(`${PLATFORM}/openapi.json`)
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/me/mfa', '/v1/me/mfa/totp', '/v1/me/mfa/totp/confirm', '/v1/auth/mfa/verify']))
    expect(Object.keys(doc.body.paths['/v1/me/mfa'])).toEqual(expect.arrayContaining(['get', 'delete']))
  })

  it('refuses invalid input to confirm with 400', async () => {
    const a = await signUp({ name: 'Ada' })
    await enrol(a)
    for (const body of [{}, { code: '12345' }, { code: '12ab56' }, { code: 123456 }, { code: '123456', more: 1 }]) {
      const res = await call(`${a.host}/v1/me/mfa/totp/confirm`, { body, token: a.access_token })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })
})
