import { env } from 'cloudflare:test'
import { sql } from 'drizzle-orm'
import { sign, verify } from 'hono/jwt'
import { describe, expect, it, vi } from 'vitest'
import { importVerifyKey, signingKeys, type PublicJwk } from '../src/platform/signing-keys.ts'
import { currentKeyInsert, forgetTenantKeys, loadTenantKeys, newTenantKey } from '../src/tenancy/signing-keys.ts'
import { accessToken, adminToken, call, createTenant, database, decodeJwt, endpointRequests, newEmail, PASSWORD, PLATFORM, platformAccessToken, resetEndpointStats, signUp, tenantOrigin } from './support.ts'

const dataKey = env.DATA_ENCRYPTION_KEY as string

const schemaOf = (tenantId: string) => `tenant_${tenantId.replaceAll('-', '')}`

async function keyRows(tenantId: string) {
  const rows = await database().execute<{ kid: string; status: string; private_key_enc: string | null; adopted_at: string | null }>(
    sql`select kid, status, private_key_enc, adopted_at::text from ${sql.identifier(schemaOf(tenantId))}.signing_keys order by created_at`,
  )
  return rows.rows
}

const jwks = async (origin: string) => ((await call(`${origin}/.well-known/jwks.json`)).body.keys as PublicJwk[])
const kids = (keys: PublicJwk[]) => keys.map((k) => k.kid)
const platformKid = async () => (await signingKeys(env.JWT_PRIVATE_KEY as string)).kid
const rotate = (tenantId: string, token = adminToken()) => call(`${PLATFORM}/v1/tenants/${tenantId}/signing-keys/rotate`, { method: 'POST', token })
const login = (host: string, address: string) => call(`${host}/v1/auth/login`, { body: { email: address, password: PASSWORD } })

describe('per-tenant signing keys', () => {
  it('gives each tenant its own key at provisioning, stored encrypted, published only in its own JWKS', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const [keyA] = await keyRows(a.id)
    const [keyB] = await keyRows(b.id)
    expect(keyA).toMatchObject({ status: 'current', adopted_at: null })
    expect(keyA!.kid).not.toBe(keyB!.kid)
    expect(keyA!.private_key_enc).toMatch(/^v1\./)
    expect(keyA!.private_key_enc).not.toContain('"d"')

    expect(kids(await jwks(tenantOrigin(a.slug)))).toEqual([keyA!.kid])
    expect(kids(await jwks(tenantOrigin(b.slug)))).toEqual([keyB!.kid])
    const platform = kids(await jwks(PLATFORM))
    expect(platform).toEqual([await platformKid()])
    for (const key of await jwks(tenantOrigin(a.slug))) expect(key).not.toHaveProperty('d')
  })

  it("signs access tokens with the tenant's key, with iss (the tenant's origin) and aud (atrium:<tenant id>), verifiable with its JWKS", async () => {
    const u = await signUp()
    const { header, payload } = decodeJwt(u.access_token)
    const published = await jwks(u.host)
    expect(header.kid).toBe(published[0]!.kid)
    expect(payload).toMatchObject({ aud: `atrium:${u.tenant.id}`, iss: `http://${u.tenant.slug}.localhost`, tid: u.tenant.id })
    // What a tenant's own backend does: verify with the tenant's JWKS and check iss and aud.
    const verified = await verify(u.access_token, await importVerifyKey(published[0]!), { alg: 'ES512' })
    expect(verified.aud).toBe(`atrium:${u.tenant.id}`)
    const other = await signUp()
    await expect(verify(u.access_token, await importVerifyKey((await jwks(other.host))[0]!), { alg: 'ES512' })).rejects.toThrow()
  })

  it("refuses on tenant B a token signed with A's key, or with the platform key, even when every claim names B", async () => {
    const a = await signUp()
    const b = await signUp()
    const bClaims = { sub: b.user.id, tid: b.tenant.id, sid: decodeJwt(b.access_token).payload.sid, aud: `atrium:${b.tenant.id}`, iss: tenantOrigin(b.tenant.slug) }
    const withKeyOfA = await accessToken(a.tenant, bClaims)
    expect(decodeJwt(withKeyOfA).header.kid).toBe(decodeJwt(a.access_token).header.kid)
    const res = await call(`${b.host}/v1/me`, { token: withKeyOfA })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('invalid_token')
    const withPlatformKey = await platformAccessToken(bClaims)
    expect((await call(`${b.host}/v1/me`, { token: withPlatformKey })).status).toBe(401)
    // The same claims under B's own key pass: the key decides, not the claims.
    expect((await call(`${b.host}/v1/me`, { token: await accessToken(b.tenant, bClaims) })).status).toBe(200)
  })

  it("refuses a token of the tenant's own key without this tenant's aud or iss", async () => {
    const u = await signUp()
    const other = await createTenant()
    const claims = { sub: u.user.id, sid: decodeJwt(u.access_token).payload.sid }
    expect((await call(`${u.host}/v1/me`, { token: await accessToken(u.tenant, claims) })).status).toBe(200)
    for (const bad of [{ aud: undefined }, { aud: `atrium:${other.id}` }, { aud: u.tenant.id }, { iss: tenantOrigin(other.slug) }, { iss: undefined }, { iss: 'not a url' }]) {
      const res = await call(`${u.host}/v1/me`, { token: await accessToken(u.tenant, { ...claims, ...bad }) })
      expect(res.status, JSON.stringify(bad)).toBe(401)
    }
  })

  it('rotates per tenant: the replaced key still verifies, the next rotation retires it, other tenants are untouched', async () => {
    const u = await signUp()
    const bystander = await createTenant()
    const bystanderKeys = await keyRows(bystander.id)
    const k1 = decodeJwt(u.access_token).header.kid

    const first = await rotate(u.tenant.id)
    expect(first.status).toBe(200)
    expect(first.body.data.map((k: { kid: string; status: string }) => [k.kid === k1, k.status])).toEqual([[false, 'current'], [true, 'previous']])
    const k2 = first.body.data[0].kid
    expect(first.body.data[0].public_jwk).not.toHaveProperty('d')
    expect((await call(`${u.host}/v1/me`, { token: u.access_token })).status).toBe(200)
    expect(kids(await jwks(u.host))).toEqual([k2, k1])
    const fresh = await login(u.host, u.email)
    expect(decodeJwt(fresh.body.access_token).header.kid).toBe(k2)
    expect(await keyRows(bystander.id)).toEqual(bystanderKeys)

    const second = await rotate(u.tenant.id)
    expect(second.body.data.map((k: { status: string }) => k.status)).toEqual(['current', 'previous', 'retired'])
    expect((await call(`${u.host}/v1/me`, { token: u.access_token })).status).toBe(401)
    expect((await call(`${u.host}/v1/me`, { token: fresh.body.access_token })).status).toBe(200)
    expect(kids(await jwks(u.host))).toEqual([second.body.data[0].kid, k2])
    const retired = (await keyRows(u.tenant.id)).find((k) => k.kid === k1)!
    expect(retired).toMatchObject({ status: 'retired', private_key_enc: null })
    const audit = await database().execute<{ action: string }>(sql`select action from ${sql.identifier(schemaOf(u.tenant.id))}.audit_log where action = 'signing_key.rotated'`)
    expect(audit.rows).toHaveLength(2)
  })

  it('answers the platform rotation only to the platform admin, for a tenant that exists', async () => {
    const t = await createTenant()
    expect((await call(`${PLATFORM}/v1/tenants/${t.id}/signing-keys/rotate`, { method: 'POST' })).status).toBe(401)
    expect((await rotate(t.id, 'not-the-admin-token-at-all-000')).status).toBe(403)
    expect((await call(`${tenantOrigin(t.slug)}/v1/tenants/${t.id}/signing-keys/rotate`, { method: 'POST', token: adminToken() })).status).toBe(404)
    expect((await rotate(crypto.randomUUID())).status).toBe(404)
    expect((await rotate('not-a-uuid')).status).toBe(400)
    const list = await call(`${PLATFORM}/v1/tenants/${t.id}/signing-keys`, { token: adminToken() })
    expect(list.status).toBe(200)
    expect(list.body.data).toHaveLength(1)
    expect((await keyRows(t.id))).toHaveLength(1)
  })

  it("rotates on the tenant host behind signing_keys:rotate, for that tenant only", async () => {
    const owner = await signUp()
    await call(`${PLATFORM}/v1/tenants/${owner.tenant.id}`, { method: 'PATCH', body: { settings: { signup_policy: 'open' } }, token: adminToken() })
    const member = await call(`${owner.host}/v1/auth/register`, { body: { email: newEmail(), password: PASSWORD } })
    expect(member.status).toBe(201)
    const path = `${owner.host}/v1/tenant/signing-keys/rotate`
    expect((await call(path, { method: 'POST' })).status).toBe(401)
    expect((await call(path, { method: 'POST', token: member.body.access_token })).status).toBe(403)
    const stranger = await signUp()
    expect((await call(path, { method: 'POST', token: stranger.access_token })).status).toBe(401)
    const before = await keyRows(owner.tenant.id)
    expect(before).toHaveLength(1)
    const rotated = await call(path, { method: 'POST', token: owner.access_token })
    expect(rotated.status).toBe(200)
    expect(rotated.body.data.map((k: { kid: string }) => k.kid)).toContain(before[0]!.kid)
    expect(await keyRows(stranger.tenant.id)).toHaveLength(1)
    const listed = await call(`${owner.host}/v1/tenant/signing-keys`, { token: owner.access_token })
    expect(listed.body.data).toHaveLength(2)
    expect((await call(`${owner.host}/v1/tenant/signing-keys`, { token: member.body.access_token })).status).toBe(403)
  })

  it("verifies at once a token of a key another isolate rotated in (an unknown kid rereads the keys, at most every 5 s)", async () => {
    const u = await signUp()
    const sid = decodeJwt(u.access_token).payload.sid
    // Another isolate's rotation, as it lands in the database: this isolate's cached copy does not know the new key.
    const key = await newTenantKey(dataKey, u.tenant.id)
    const s = sql.identifier(schemaOf(u.tenant.id))
    await database().batch([
      database().execute(sql`update ${s}.signing_keys set status = 'previous', rotated_at = now() where status = 'current'`),
      currentKeyInsert(database(), schemaOf(u.tenant.id), key),
    ])
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: u.user.id, tid: u.tenant.id, sid, aud: `atrium:${u.tenant.id}`, iss: tenantOrigin(u.tenant.slug), iat: now, exp: now + 300 }
    const token = await sign(claims, key.privateJwk, 'ES512')
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 6_000)
      expect((await call(`${u.host}/v1/me`, { token })).status).toBe(200)
      // Right after that reload, a made-up kid is refused without another read of the keys.
      const forged = await sign({ ...claims }, { ...(await newTenantKey(dataKey, u.tenant.id)).privateJwk }, 'ES512')
      await resetEndpointStats('sql')
      expect((await call(`${u.host}/v1/me`, { token: forged })).status).toBe(401)
      expect(await endpointRequests('sql')).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  describe('tenants created before per-tenant keys', () => {
    /** A tenant as it was before this change: no key of its own, its sessions' tokens signed with the platform key. */
    async function legacyTenant() {
      const u = await signUp()
      await database().execute(sql`delete from ${sql.identifier(schemaOf(u.tenant.id))}.signing_keys`)
      forgetTenantKeys(u.tenant.id)
      const now = Math.floor(Date.now() / 1000)
      const { payload } = decodeJwt(u.access_token)
      const legacy = await platformAccessToken({ sub: u.user.id, tid: u.tenant.id, sid: payload.sid, iss: payload.iss, iat: now - 5, exp: now + 600 })
      return { u, legacy }
    }

    it('adopt a key on first use, and their platform-signed tokens keep working until they expire', async () => {
      const { u, legacy } = await legacyTenant()
      expect((await call(`${u.host}/v1/me`, { token: legacy })).status).toBe(200)
      const rows = await keyRows(u.tenant.id)
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ status: 'current' })
      expect(rows[0]!.adopted_at).not.toBeNull()
      // During the window the tenant's JWKS also carries the platform key, for verifiers of the earlier tokens.
      expect(kids(await jwks(u.host))).toEqual([rows[0]!.kid, await platformKid()])
      const fresh = await login(u.host, u.email)
      expect(decodeJwt(fresh.body.access_token).header.kid).toBe(rows[0]!.kid)
      expect((await call(`${u.host}/v1/me`, { token: fresh.body.access_token })).status).toBe(200)
    })

    it('refuse platform-signed tokens issued after the adoption, and publish only their own keys once the window has passed', async () => {
      const { u, legacy } = await legacyTenant()
      expect((await call(`${u.host}/v1/me`, { token: legacy })).status).toBe(200)
      await database().execute(sql`update ${sql.identifier(schemaOf(u.tenant.id))}.signing_keys set adopted_at = now() - interval '1 hour'`)
      forgetTenantKeys(u.tenant.id)
      expect((await call(`${u.host}/v1/me`, { token: legacy })).status).toBe(401)
      expect(kids(await jwks(u.host))).toEqual([(await keyRows(u.tenant.id))[0]!.kid])
    })

    it('adopt exactly one key when many requests race for it', async () => {
      const { u } = await legacyTenant()
      const tenant = { id: u.tenant.id, schemaName: schemaOf(u.tenant.id) }
      const sets = await Promise.all(Array.from({ length: 6 }, () => loadTenantKeys({ db: database(), dataKey }, tenant)))
      expect(new Set(sets.map((s) => s.signer.kid)).size).toBe(1)
      expect(await keyRows(u.tenant.id)).toHaveLength(1)
    })

  })
})
