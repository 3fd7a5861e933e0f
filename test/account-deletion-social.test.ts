import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { numericId, signIn } from './oauth-flow.ts'
import { call, database, fakeProviders, newEmail as socialEmail, openTenant, tenantOrigin } from './support.ts'

const CONFIRM = 'delete my account'
const fake = fakeProviders()

const remove = (host: string, token: string | undefined, body: unknown) => call(`${host}/v1/me`, { method: 'DELETE', body, token })
const plan = (host: string, token: string) => call(`${host}/v1/me/deletion`, { token })

describe('DELETE /v1/me of an account without a password', () => {
  it('asks an account without a password for a recent sign-in instead', async () => {
    const tenant = await openTenant()
    const host = tenantOrigin(tenant.slug)
    const signedIn = await signIn(fake, tenant.slug, 'google', { id: numericId(), email: socialEmail() })
    expect(signedIn.status).toBe(200)
    const token = signedIn.body.access_token
    const before = await plan(host, token)
    // A member (not owner) of the platform's organization leaves it, however alone it is.
    expect(before.body).toEqual({ blocked: false, confirmation: 'recent_sign_in', tenants: [expect.objectContaining({ id: tenant.id, role: 'member', other_members: 0, outcome: 'left' })] })
    const db = database()
    await db.execute(sql`update ${sql.identifier(`tenant_${tenant.id.replaceAll('-', '')}`)}.sessions set created_at = now() - interval '11 minutes'`)
    const stale = await remove(host, token, { confirm: CONFIRM })
    expect(stale.status).toBe(403)
    expect(stale.body.error.code).toBe('reauthentication_required')
    await db.execute(sql`update ${sql.identifier(`tenant_${tenant.id.replaceAll('-', '')}`)}.sessions set created_at = now()`)
    const res = await remove(host, token, { confirm: CONFIRM })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.deleted_tenants).toEqual([])
    // The organization itself stays.
    expect((await call(`${host}/v1/tenant/sign-in-options`)).status).toBe(200)
  })

})
