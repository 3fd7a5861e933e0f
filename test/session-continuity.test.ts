import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { call, database, enableTotp, join, openTenant, PASSWORD, signUp, tenantOrigin, TOTP_STEP_MS, totpClock } from './support.ts'

async function schemaOf(tenantId: string): Promise<string> {
  const rows = await database().execute<{ schema_name: string }>(sql`select schema_name from public.tenants where id = ${tenantId}`)
  return rows.rows[0]!.schema_name
}

/** A user who signed up on the platform host (owner of a personal tenant, signed in there), with the tenant's schema. */
async function account() {
  const o = await signUp()
  return { ...o, tenant: { ...o.tenant, schema: await schemaOf(o.tenant.id) } }
}

const refresh = (host: string, token: string) => call(`${host}/v1/auth/refresh`, { body: { refresh_token: token } })

/** The session rows of a user in a tenant schema (the database is the witness of lifetimes and MFA levels). */
async function sessionsOf(schema: string, userId: string) {
  const rows = await database().execute<{ id: string; expires_at: string; mfa: boolean; revoked_at: string | null; revoked_reason: string | null }>(
    sql`select id, expires_at::text, mfa, revoked_at::text, revoked_reason from ${sql.identifier(schema)}.sessions where user_id = ${userId} order by id`,
  )
  return rows.rows
}

describe('refresh grace (concurrent refreshes, retries after a timeout)', () => {
  it('answers two concurrent refreshes with the same token with the same new refresh token, and the session lives on', async () => {
    const a = await account()
    const [one, two] = await Promise.all([refresh(a.host, a.refresh_token), refresh(a.host, a.refresh_token)])
    expect(one.status).toBe(200)
    expect(two.status).toBe(200)
    expect(two.body.refresh_token).toBe(one.body.refresh_token)
    expect(one.body.refresh_token).not.toBe(a.refresh_token)
    // Both tabs hold working access tokens, and the one live refresh token rotates normally.
    expect((await call(`${a.host}/v1/me`, { token: one.body.access_token })).status).toBe(200)
    expect((await call(`${a.host}/v1/me`, { token: two.body.access_token })).status).toBe(200)
    const next = await refresh(a.host, one.body.refresh_token)
    expect(next.status).toBe(200)
    expect((await call(`${a.host}/v1/me`, { token: next.body.access_token })).status).toBe(200)
    const [session] = await sessionsOf(a.tenant.schema, a.user.id)
    expect(session!.revoked_at).toBeNull()
  })

  it('lets a client that timed out retry with the same token and keep its session', async () => {
    const a = await account()
    const lost = await refresh(a.host, a.refresh_token) // the answer the client never received
    const retry = await refresh(a.host, a.refresh_token)
    expect(retry.status).toBe(200)
    expect(retry.body.refresh_token).toBe(lost.body.refresh_token)
    expect((await refresh(a.host, retry.body.refresh_token)).status).toBe(200)
  })

  it('keeps the successor encrypted at rest, and forgets it once the successor is used', async () => {
    const a = await account()
    const first = await refresh(a.host, a.refresh_token)
    const s = sql.identifier(a.tenant.schema)
    const stored = await database().execute<{ successor_enc: string | null }>(sql`select successor_enc from ${s}.refresh_tokens where successor_enc is not null and session_id in (select id from ${s}.sessions where user_id = ${a.user.id})`)
    expect(stored.rows).toHaveLength(1)
    expect(stored.rows[0]!.successor_enc).toMatch(/^v1\./)
    expect(stored.rows[0]!.successor_enc).not.toContain(first.body.refresh_token)
    await refresh(a.host, first.body.refresh_token)
    const after = await database().execute(sql`select 1 from ${s}.refresh_tokens where successor_hash is not null and successor_enc is not null and session_id in (select id from ${s}.sessions where user_id = ${a.user.id})`)
    // Only the newest used token keeps a readable successor (for its own grace).
    expect(after.rows).toHaveLength(1)
  })

  it('still revokes the whole session when a used token comes back after the grace', async () => {
    const a = await account()
    const first = await refresh(a.host, a.refresh_token)
    // Move the first use back past the grace (REFRESH_GRACE_SECONDS, 10 s by default).
    await database().execute(sql`update ${sql.identifier(a.tenant.schema)}.refresh_tokens set used_at = now() - interval '11 seconds' where used_at is not null`)
    const replay = await refresh(a.host, a.refresh_token)
    expect(replay.status).toBe(401)
    expect(replay.body.error.code).toBe('invalid_grant')
    expect((await refresh(a.host, first.body.refresh_token)).status).toBe(401)
    expect((await call(`${a.host}/v1/me`, { token: first.body.access_token })).status).toBe(401)
    const [session] = await sessionsOf(a.tenant.schema, a.user.id)
    expect(session!.revoked_reason).toBe('refresh_token_reuse')
  })

  it('revokes the session when a used token comes back within the grace but after its successor was used', async () => {
    const a = await account()
    const first = await refresh(a.host, a.refresh_token)
    const second = await refresh(a.host, first.body.refresh_token)
    expect(second.status).toBe(200)
    expect((await refresh(a.host, a.refresh_token)).status).toBe(401)
    expect((await refresh(a.host, second.body.refresh_token)).status).toBe(401)
    expect((await call(`${a.host}/v1/me`, { token: second.body.access_token })).status).toBe(401)
  })

  it('gives nothing for a used token of a revoked session, even within the grace', async () => {
    const a = await account()
    const first = await refresh(a.host, a.refresh_token)
    expect((await call(`${a.host}/v1/auth/logout`, { method: 'POST', token: first.body.access_token })).status).toBe(204)
    expect((await refresh(a.host, a.refresh_token)).status).toBe(401)
    expect((await refresh(a.host, first.body.refresh_token)).status).toBe(401)
  })
})

describe('POST /v1/auth/switch keeps the source session\'s lifetime and MFA level', () => {
  it('ends the new session when the source session ends, however often one switches back and forth', async () => {
    const a = await account()
    const other = await openTenant()
    await join(other, a.email)
    // The source session has 10 minutes left.
    await database().execute(sql`update ${sql.identifier(a.tenant.schema)}.sessions set expires_at = date_trunc('second', now()) + interval '10 minutes' where user_id = ${a.user.id}`)
    const [source] = await sessionsOf(a.tenant.schema, a.user.id)
    const joinedSessions = await sessionsOf(other.schema_name, a.user.id)

    const there = await call(`${a.host}/v1/auth/switch`, { body: { tenant: other.slug }, token: a.access_token })
    expect(there.status).toBe(200)
    const back = await call(`${tenantOrigin(other.slug)}/v1/auth/switch`, { body: { tenant: a.tenant.id }, token: there.body.access_token })
    expect(back.status).toBe(200)

    const opened = [
      ...(await sessionsOf(other.schema_name, a.user.id)).filter((s) => !joinedSessions.some((j) => j.id === s.id)),
      ...(await sessionsOf(a.tenant.schema, a.user.id)).filter((s) => s.id !== source!.id),
    ]
    expect(opened).toHaveLength(2)
    for (const s of opened) expect(Date.parse(s.expires_at)).toBe(Date.parse(source!.expires_at))
    // Refreshing the switched session does not extend it either.
    expect((await refresh(a.host, back.body.refresh_token)).status).toBe(200)
    expect(Date.parse((await sessionsOf(a.tenant.schema, a.user.id))[1]!.expires_at)).toBe(Date.parse(source!.expires_at))
  })

  it('refuses a switch from a session that has ended', async () => {
    const a = await account()
    const other = await openTenant()
    await join(other, a.email)
    await database().execute(sql`update ${sql.identifier(a.tenant.schema)}.sessions set expires_at = now() - interval '1 second' where user_id = ${a.user.id}`)
    const res = await call(`${a.host}/v1/auth/switch`, { body: { tenant: other.slug }, token: a.access_token })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('invalid_token')
    expect(await sessionsOf(other.schema_name, a.user.id)).toHaveLength(1) // only the join's own session
  })

  describe('MFA', () => {
    const clock = totpClock()
    /** The code of the next step, the clock moved there. */
    const nextCode = (secret: string) => {
      clock.advanceSteps(1)
      return clock.codeAt(secret, clock.step())
    }

    /** A user with TOTP on, member of their personal tenant and of a tenant that requires MFA. */
    async function enrolledMember() {
      const a = await account()
      const strict = await openTenant({ require_mfa: true })
      await join(strict, a.email)
      clock.advanceSteps(1)
      const { secret } = await enableTotp(a, clock.step() * TOTP_STEP_MS)
      return { a, strict, secret }
    }

    it('challenges a switch from a session that did not pass MFA, and the session it opens keeps the source\'s end', async () => {
      const { a, strict, secret } = await enrolledMember()
      // a.access_token is the registration's session: it predates the enrolment, so it never passed MFA.
      const res = await call(`${a.host}/v1/auth/switch`, { body: { tenant: strict.slug }, token: a.access_token })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ mfa_required: true, mfa_token: expect.any(String), tenant: { id: strict.id, slug: strict.slug } })
      const before = await sessionsOf(strict.schema_name, a.user.id)

      // The challenge belongs to the target tenant: not usable on the source host.
      const wrongHost = await call(`${a.host}/v1/auth/mfa/verify`, { body: { mfa_token: res.body.mfa_token, code: nextCode(secret) } })
      expect(wrongHost.status).toBe(401)
      const verified = await call(`${tenantOrigin(strict.slug)}/v1/auth/mfa/verify`, { body: { mfa_token: res.body.mfa_token, code: nextCode(secret) } })
      expect(verified.status).toBe(200)
      expect((await call(`${tenantOrigin(strict.slug)}/v1/me/sessions`, { token: verified.body.access_token })).status).toBe(200)

      const [source] = await sessionsOf(a.tenant.schema, a.user.id)
      const opened = (await sessionsOf(strict.schema_name, a.user.id)).filter((s) => !before.some((b) => b.id === s.id))
      expect(opened).toHaveLength(1)
      expect(opened[0]!.mfa).toBe(true)
      expect(Date.parse(opened[0]!.expires_at)).toBe(Date.parse(source!.expires_at))
    })

    it('lets a session that passed MFA switch into a require_mfa tenant without a new prompt, keeping its MFA level', async () => {
      const { a, strict, secret } = await enrolledMember()
      const challenge = await call(`${a.host}/v1/auth/login`, { body: { email: a.email, password: PASSWORD } })
      expect(challenge.body.mfa_required).toBe(true)
      const signedIn = await call(`${a.host}/v1/auth/mfa/verify`, { body: { mfa_token: challenge.body.mfa_token, code: nextCode(secret) } })
      expect(signedIn.status).toBe(200)
      const before = await sessionsOf(strict.schema_name, a.user.id)

      const res = await call(`${a.host}/v1/auth/switch`, { body: { tenant: strict.id }, token: signedIn.body.access_token })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ token_type: 'Bearer', tenant: { id: strict.id } })
      expect((await call(`${tenantOrigin(strict.slug)}/v1/me/sessions`, { token: res.body.access_token })).status).toBe(200)
      const opened = (await sessionsOf(strict.schema_name, a.user.id)).filter((s) => !before.some((b) => b.id === s.id))
      expect(opened.map((s) => s.mfa)).toEqual([true])
    })
  })
})
