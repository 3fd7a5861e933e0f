import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { hashToken } from '../src/identity/secrets.ts'
import { connectRedis } from '../src/platform/redis.ts'
import { handoffKey } from '../src/sections/handoff/store.ts'
import { call, createTenant, database, decodeJwt, enableTotp, join, newEmail, openTenant, PASSWORD, patchTenantSettings, PLATFORM, signUp, tenantOrigin, TOTP_STEP_MS, totpCode } from './support.ts'

const fromPage = (origin: string) => ({ origin, 'x-atrium-session': 'cookie' })

/** A user who owns a personal tenant (platform sign-up) and is also a member of a second, open tenant. */
async function memberOfTwo() {
  const o = await signUp()
  const other = await openTenant()
  await join(other, o.email)
  return { email: o.email, home: { ...o.tenant, origin: o.host }, other: { ...other, origin: tenantOrigin(other.slug) }, token: o.access_token }
}

const codeOf = (url: string) => new URLSearchParams(new URL(url).hash.slice(1)).get('code')!
const redeem = (origin: string, code: string, headers: Record<string, string> = fromPage(origin)) =>
  call(`${origin}/v1/auth/session/handoff`, { body: { code }, headers })

describe('org switcher handoff', () => {
  it('hands the session to the other tenant’s host: single use, its own cookie, a token of that tenant', async () => {
    const u = await memberOfTwo()
    const created = await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug }, token: u.token })
    expect(created.status).toBe(201)
    expect(created.headers.get('cache-control')).toBe('no-store')
    expect(created.body.expires_in).toBe(60)
    const url = new URL(created.body.url)
    expect(`${url.origin}${url.pathname}`).toBe(`${u.other.origin}/handoff`)
    expect(url.search).toBe('')
    const code = codeOf(created.body.url)

    const res = await redeem(u.other.origin, code)
    expect(res.status).toBe(200)
    expect(res.body.refresh_token).toBeUndefined()
    expect(res.headers.getSetCookie().some((line) => line.startsWith('atrium_session=') && line.includes('HttpOnly'))).toBe(true)
    const me = await call(`${u.other.origin}/v1/me`, { token: res.body.access_token })
    expect(me.body.email).toBe(u.email)
    // The token is the other tenant's only.
    expect((await call(`${u.home.origin}/v1/me`, { token: res.body.access_token })).status).toBe(401)

    const replay = await redeem(u.other.origin, code)
    expect(replay.status).toBe(400)
    expect(replay.body.error.code).toBe('invalid_handoff')
  })

  it('is bound to its target host (not used up elsewhere) and expires', async () => {
    const u = await memberOfTwo()
    const code = codeOf((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.id }, token: u.token })).body.url)
    const elsewhere = await redeem(u.home.origin, code)
    expect(elsewhere.status).toBe(400)
    expect(elsewhere.body.error.code).toBe('invalid_handoff')
    expect((await redeem(u.other.origin, code)).status).toBe(200)

    const late = codeOf((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug }, token: u.token })).body.url)
    const redis = connectRedis(env.UPSTASH_REDIS_REST_URL, env.UPSTASH_REDIS_REST_TOKEN)
    const key = handoffKey(u.other.id, await hashToken(late))
    expect(await redis.ttl(key)).toBeGreaterThan(50)
    expect(await redis.ttl(key)).toBeLessThanOrEqual(60)
    await redis.pexpire(key, 1)
    await new Promise((r) => setTimeout(r, 20))
    const expired = await redeem(u.other.origin, late)
    expect(expired.status).toBe(400)
    expect(expired.body.error.code).toBe('invalid_handoff')
  })

  it('refuses a tenant the user does not belong to, an unknown one, no token, and a cross-site redeem', async () => {
    const u = await memberOfTwo()
    const stranger = await createTenant()
    const notMember = await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: stranger.slug }, token: u.token })
    expect(notMember.status).toBe(403)
    expect(notMember.body.error.code).toBe('not_a_member')
    expect((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: 'no-such-tenant-here' }, token: u.token })).status).toBe(404)
    expect((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug } })).status).toBe(401)
    expect((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug, extra: 1 }, token: u.token })).status).toBe(400)
    const code = codeOf((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug }, token: u.token })).body.url)
    const cross = await redeem(u.other.origin, code, { origin: u.home.origin, 'x-atrium-session': 'cookie' })
    expect(cross.status).toBe(403)
    expect(cross.body.error.code).toBe('cross_site_request')
    // Refused before it was looked at: the code still works from the right page.
    expect((await redeem(u.other.origin, code)).status).toBe(200)
  })

  it('opens a session that ends when the session it came from ends, and refuses one that has ended', async () => {
    const u = await memberOfTwo()
    const db = database()
    const schema = (id: string) => sql.identifier(`tenant_${id.replaceAll('-', '')}`)
    const [source] = (await db.execute<{ expires_at: string }>(sql`update ${schema(u.home.id)}.sessions set expires_at = date_trunc('second', now()) + interval '10 minutes' returning expires_at::text`)).rows
    const code = codeOf((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug }, token: u.token })).body.url)
    const res = await redeem(u.other.origin, code)
    expect(res.status).toBe(200)
    const sid = decodeJwt(res.body.access_token).payload.sid
    const [opened] = (await db.execute<{ expires_at: string }>(sql`select expires_at::text from ${schema(u.other.id)}.sessions where id = ${sid}`)).rows
    expect(Date.parse(opened!.expires_at)).toBe(Date.parse(source!.expires_at))

    await db.execute(sql`update ${schema(u.home.id)}.sessions set expires_at = now() - interval '1 second'`)
    const ended = await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug }, token: u.token })
    expect(ended.status).toBe(401)
    expect(ended.body.error.code).toBe('invalid_token')
  })

  it('asks for the second factor when the session it came from did not pass MFA', async () => {
    const u = await memberOfTwo()
    const { secret } = await enableTotp({ host: u.home.origin, access_token: u.token })
    const now = (steps = 0) => totpCode(secret, Date.now() + steps * TOTP_STEP_MS)
    // u.token's session began before MFA was on.
    const code = codeOf((await call(`${u.home.origin}/v1/auth/handoff`, { body: { tenant: u.other.slug }, token: u.token })).body.url)
    const res = await redeem(u.other.origin, code)
    expect(res.status).toBe(200)
    expect(res.body.mfa_required).toBe(true)
    const done = await call(`${u.other.origin}/v1/auth/mfa/verify`, { body: { mfa_token: res.body.mfa_token, code: now(1) } })
    expect(done.status).toBe(200)

    // From that MFA-verified session to the home tenant (no require_mfa): straight in.
    const back = codeOf((await call(`${u.other.origin}/v1/auth/handoff`, { body: { tenant: u.home.slug }, token: done.body.access_token })).body.url)
    const straight = await redeem(u.home.origin, back)
    expect(straight.status).toBe(200)
    expect(straight.body.access_token).toEqual(expect.any(String))

    // A tenant that requires MFA asks again, even after an MFA-verified session.
    await patchTenantSettings(u.home.id, { require_mfa: true })
    const strict = codeOf((await call(`${u.other.origin}/v1/auth/handoff`, { body: { tenant: u.home.slug }, token: done.body.access_token })).body.url)
    const asked = await redeem(u.home.origin, strict)
    expect(asked.status).toBe(200)
    expect(asked.body.mfa_required).toBe(true)
  })
})

describe('platform sign-up in the browser', () => {
  it('answers a handoff to the new organization’s host instead of its tokens', async () => {
    const email = newEmail()
    const res = await call(`${PLATFORM}/v1/auth/register`, { body: { email, password: PASSWORD }, headers: fromPage(PLATFORM) })
    expect(res.status).toBe(201)
    expect(res.body.access_token).toBeUndefined()
    expect(res.body.refresh_token).toBeUndefined()
    expect(res.headers.getSetCookie().some((line) => line.startsWith('atrium_session='))).toBe(false)
    // The tenant's host under the base domain the request came by (localhost here).
    const url = new URL(res.body.handoff.url)
    const origin = `http://${res.body.tenant.slug}.localhost`
    expect(`${url.origin}${url.pathname}`).toBe(`${origin}/handoff`)
    const signedIn = await redeem(origin, codeOf(res.body.handoff.url))
    expect(signedIn.status).toBe(200)
    const me = await call(`${origin}/v1/me`, { token: signedIn.body.access_token })
    expect(me.body.email).toBe(email)
    // The sign-up's own session was closed: only the handed-over one is live.
    const sessions = await call(`${origin}/v1/me/sessions`, { token: signedIn.body.access_token })
    expect(sessions.body.data).toHaveLength(1)
  })

  it('refuses a cross-site platform sign-up in cookie mode', async () => {
    const res = await call(`${PLATFORM}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD }, headers: fromPage('https://evil.example') })
    expect(res.status).toBe(403)
  })
})

const platformLogin = (email: string) => call(`${PLATFORM}/v1/auth/login`, { body: { email, password: PASSWORD } })
const pick = (selection_token: string, tenant: string, host = PLATFORM) => call(`${host}/v1/auth/select/handoff`, { body: { selection_token, tenant } })

describe('the workspace picker of the platform page (POST /v1/auth/select/handoff)', () => {
  it('answers a handoff to the chosen organization’s host, redeemed there for its own session; the credential works once', async () => {
    const u = await memberOfTwo()
    const { selection_token } = (await platformLogin(u.email)).body
    const res = await pick(selection_token, u.other.slug)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body.tenant).toMatchObject({ id: u.other.id, slug: u.other.slug })
    expect(res.body.access_token).toBeUndefined()
    const url = new URL(res.body.url)
    expect(`${url.hostname}${url.pathname}`).toBe(`${u.other.slug}.localhost/handoff`)
    const signedIn = await redeem(u.other.origin, codeOf(res.body.url))
    expect(signedIn.status).toBe(200)
    expect((await call(`${u.other.origin}/v1/me`, { token: signedIn.body.access_token })).body.email).toBe(u.email)

    const again = await pick(selection_token, u.home.slug)
    expect(again.status).toBe(401)
    expect(again.body.error.code).toBe('invalid_selection')
  })

  it('refuses an organization the user is not in (the credential stays usable), another tenant’s host for the code, bad input and tenant hosts', async () => {
    const u = await memberOfTwo()
    const stranger = await openTenant()
    const { selection_token } = (await platformLogin(u.email)).body
    const refused = await pick(selection_token, stranger.slug)
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('not_a_member')
    expect((await pick(selection_token, 'no-such-tenant-here')).status).toBe(404)
    for (const body of [{}, { selection_token }, { selection_token: 'short', tenant: u.home.slug }, { selection_token, tenant: u.home.slug, extra: 1 }]) {
      const bad = await call(`${PLATFORM}/v1/auth/select/handoff`, { body })
      expect(bad.status, JSON.stringify(body)).toBe(400)
      expect(bad.body.error.code).toBe('validation_failed')
    }
    expect((await pick(selection_token, u.home.slug, u.home.origin)).body.error.code).toBe('platform_host_required')
    expect((await pick('A'.repeat(43), u.home.slug)).body.error.code).toBe('invalid_selection')

    const res = await pick(selection_token, u.home.slug)
    expect(res.status).toBe(201)
    // The code is the chosen tenant's: another host refuses it without using it up.
    expect((await redeem(u.other.origin, codeOf(res.body.url))).body.error.code).toBe('invalid_handoff')
    expect((await redeem(u.home.origin, codeOf(res.body.url))).status).toBe(200)
  })

  it('leaves the second factor to the chosen host when the account has MFA on', async () => {
    const u = await memberOfTwo()
    await enableTotp({ host: u.home.origin, access_token: u.token })
    const { selection_token } = (await platformLogin(u.email)).body
    const res = await pick(selection_token, u.other.slug)
    expect(res.status).toBe(201)
    const redeemed = await redeem(u.other.origin, codeOf(res.body.url))
    expect(redeemed.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) })
  })
})

describe('a new organization from the web app (cookie mode)', () => {
  it('from the org switcher (POST /v1/me/tenants): a handoff to the new host instead of its tokens', async () => {
    const u = await memberOfTwo()
    const res = await call(`${u.home.origin}/v1/me/tenants`, { body: { name: 'Side Project' }, token: u.token, headers: fromPage(u.home.origin) })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.access_token).toBeUndefined()
    expect(res.body.refresh_token).toBeUndefined()
    expect(res.headers.getSetCookie().some((line) => line.startsWith('atrium_session='))).toBe(false)
    const origin = tenantOrigin(res.body.tenant.slug)
    expect(res.body.handoff.url.startsWith(`${origin}/handoff#code=`)).toBe(true)
    const signedIn = await redeem(origin, codeOf(res.body.handoff.url))
    expect(signedIn.status).toBe(200)
    expect((await call(`${origin}/v1/tenant`, { token: signedIn.body.access_token })).body).toMatchObject({ id: res.body.tenant.id, role: 'owner' })
    // The creation's own session was closed: only the handed-over one is live.
    expect((await call(`${origin}/v1/me/sessions`, { token: signedIn.body.access_token })).body.data).toHaveLength(1)

    const cross = await call(`${u.home.origin}/v1/me/tenants`, { body: { name: 'Evil Co' }, token: u.token, headers: fromPage(u.other.origin) })
    expect(cross.status).toBe(403)
    expect(cross.body.error.code).toBe('cross_site_request')
  })

  it('from the workspace picker (POST /v1/auth/workspaces) with MFA on: a handoff, the code asked on the new host', async () => {
    const u = await memberOfTwo()
    await enableTotp({ host: u.home.origin, access_token: u.token })
    const { selection_token } = (await platformLogin(u.email)).body
    const res = await call(`${PLATFORM}/v1/auth/workspaces`, { body: { selection_token, name: 'Picker Co' }, headers: fromPage(PLATFORM) })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.mfa_token).toBeUndefined()
    expect(res.body.mfa_required).toBeUndefined()
    const origin = `http://${res.body.tenant.slug}.localhost`
    const redeemed = await redeem(origin, codeOf(res.body.handoff.url))
    expect(redeemed.body).toEqual({ mfa_required: true, mfa_token: expect.any(String) })
  })
})
