import { describe, expect, it } from 'vitest'
import { auditActions, call, database, type Owner, signUp, tablesOf } from './support.ts'

/**
 * API keys as subjects of the authorization model: their roles (built-in or custom) are
 * tenant-wide grants of the key, checked by requirePermission and by /v1/authz/check alike.
 */

interface Key {
  id: string
  secret: string
  roles: string[]
}

/** The invoice type of the tenant's own app, with read and pay. */
async function invoiceType(o: Owner) {
  const res = await call(`${o.host}/v1/resource-types`, { body: { name: 'invoice', actions: ['read', 'pay'] }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

/** A custom role, through POST /v1/roles. */
async function customRole(o: Owner, name: string, permissions: string[]) {
  const res = await call(`${o.host}/v1/roles`, { body: { name, permissions }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

async function createKey(o: Owner, roles: string[], token: string | null = o.access_token, headers: Record<string, string> = {}) {
  return call(`${o.host}/v1/api-keys`, { body: { name: `key ${roles.join(' ')}`, roles }, token, headers })
}

async function key(o: Owner, roles: string[]): Promise<Key> {
  const res = await createKey(o, roles)
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}

const asKey = (k: Key) => ({ 'x-api-key': k.secret })

const readInvoices = (k: Pick<Key, 'id'>) => ({ subject: { type: 'api_key', id: k.id }, action: 'read', resource: { type: 'invoice' } })

async function check(host: string, body: unknown, auth: { token?: string; headers?: Record<string, string> }) {
  return call(`${host}/v1/authz/check`, { body, ...auth })
}

describe('API keys with roles', () => {
  it('lets a key whose custom role holds authz:check and invoice:read call /v1/authz/check, and allows it invoice:read only', async () => {
    const o = await signUp()
    await invoiceType(o)
    await customRole(o, 'invoice-checker', ['authz:check', 'invoice:read'])
    const k = await key(o, ['invoice-checker'])
    expect(k.roles).toEqual(['invoice-checker'])

    const own = await check(o.host, readInvoices(k), { headers: asKey(k) })
    expect(own.status, JSON.stringify(own.body)).toBe(200)
    expect(own.body).toEqual({ allowed: true, reason: "role 'invoice-checker' held by the API key" })
    const pay = await check(o.host, { ...readInvoices(k), action: 'pay' }, { headers: asKey(k) })
    expect(pay.body).toMatchObject({ allowed: false, reason: 'no role or policy grants invoice:pay' })
    // Nothing beyond its role: not the members list, not the audit log.
    const audit = await call(`${o.host}/v1/audit`, { headers: asKey(k) })
    expect(audit.status).toBe(403)
    expect(audit.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'audit:read' } })
  })

  it('refuses /v1/authz/check to a key with the member role (403 permission_denied with the reason)', async () => {
    const o = await signUp()
    const k = await key(o, ['member'])
    const res = await check(o.host, { subject: { type: 'api_key', id: k.id }, action: 'read', resource: { type: 'tenant' } }, { headers: asKey(k) })
    expect(res.status).toBe(403)
    expect(res.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'authz:check', reason: 'no role or policy grants authz:check' } })
  })

  it('stops allowing what the key’s role granted as soon as the key is revoked (no stale allow)', async () => {
    const o = await signUp()
    await invoiceType(o)
    await customRole(o, 'invoice-reader', ['invoice:read'])
    const k = await key(o, ['invoice-reader'])
    const before = await check(o.host, readInvoices(k), { token: o.access_token })
    expect(before.body).toEqual({ allowed: true, reason: "role 'invoice-reader' held by the API key" })

    expect((await call(`${o.host}/v1/api-keys/${k.id}`, { method: 'DELETE', token: o.access_token })).status).toBe(200)
    const after = await check(o.host, readInvoices(k), { token: o.access_token })
    expect(after.body).toEqual({ allowed: false, reason: `api_key ${k.id} is not an active API key of this tenant` })
  })

  it('refuses the owner role (400 invalid_role) and a role the tenant does not have (400 unknown_role naming it), creating nothing', async () => {
    const o = await signUp()
    const owner = await createKey(o, ['owner'])
    expect(owner.status).toBe(400)
    expect(owner.body.error.code).toBe('invalid_role')
    const unknown = await createKey(o, ['member', 'ghost', 'phantom'])
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toMatchObject({ code: 'unknown_role', message: 'Unknown role: ghost, phantom.', details: { roles: ['ghost', 'phantom'] } })
    expect((await call(`${o.host}/v1/api-keys?include_revoked=true`, { token: o.access_token })).body.data).toEqual([])
    expect((await auditActions(o.tenant.id)).map((e) => e.action)).not.toContain('api_key.created')
  })

  it('refuses a key whose roles grant more than its creator holds (403 grant_exceeds_own), wildcards included', async () => {
    const o = await signUp()
    await invoiceType(o)
    await customRole(o, 'key-issuer', ['api_keys:create', 'api_keys:read', 'invoice:read'])
    await customRole(o, 'invoice-reader', ['invoice:read'])
    await customRole(o, 'invoice-all', ['invoice:*'])
    const issuer = await key(o, ['key-issuer'])

    const admin = await createKey(o, ['admin'], null, asKey(issuer))
    expect(admin.status, JSON.stringify(admin.body)).toBe(403)
    expect(admin.body.error).toMatchObject({ code: 'grant_exceeds_own', details: { role: 'admin', permissions: ['*:*'] } })
    // invoice:* would also cover actions added to invoices later: holding invoice:read is not enough.
    const wildcard = await createKey(o, ['invoice-reader', 'invoice-all'], null, asKey(issuer))
    expect(wildcard.status, JSON.stringify(wildcard.body)).toBe(403)
    expect(wildcard.body.error).toMatchObject({ code: 'grant_exceeds_own', details: { role: 'invoice-all', permissions: ['invoice:*'] } })

    const narrower = await createKey(o, ['invoice-reader'], null, asKey(issuer))
    expect(narrower.status, JSON.stringify(narrower.body)).toBe(201)
    expect(narrower.body.created_by).toBe(issuer.id)
    const entry = (await database().select().from(tablesOf(o.tenant.id).auditLog)).find((e) => e.action === 'api_key.created' && e.targetId === narrower.body.id)
    expect(entry).toMatchObject({ actorType: 'api_key', actorId: issuer.id })
    // The owner holds *:*: any role but owner.
    expect((await createKey(o, ['admin', 'invoice-all'])).status).toBe(201)
  })

  it('is no subject in another tenant: B’s check on A’s key is never allowed, and A’s key is unknown on B’s host', async () => {
    const a = await signUp()
    const b = await signUp()
    await invoiceType(a)
    await invoiceType(b)
    const k = await key(a, ['admin'])
    expect((await check(a.host, readInvoices(k), { token: a.access_token })).body.allowed).toBe(true)
    const inB = await check(b.host, readInvoices(k), { token: b.access_token })
    expect(inB.status).toBe(200)
    expect(inB.body).toEqual({ allowed: false, reason: `api_key ${k.id} is not an active API key of this tenant` })
    const onB = await check(b.host, readInvoices(k), { headers: asKey(k) })
    expect(onB.status).toBe(401)
    // B's owner cannot list, read or revoke A's keys either.
    expect((await call(`${b.host}/v1/api-keys`, { token: b.access_token })).body.data).toEqual([])
    expect((await call(`${b.host}/v1/api-keys/${k.id}`, { method: 'DELETE', token: b.access_token })).status).toBe(404)
  })
})

describe('Atrium endpoints called with an API key', () => {
  it('answers webhooks, audit and OAuth provider settings to a key whose role grants them, recording the key as the actor', async () => {
    const o = await signUp()
    const k = await key(o, ['admin'])
    const hook = await call(`${o.host}/v1/webhooks`, { body: { url: 'https://hooks.receiver.test/by-key', events: ['api_key.*'] }, headers: asKey(k) })
    expect(hook.status, JSON.stringify(hook.body)).toBe(201)
    expect((await call(`${o.host}/v1/webhooks/${hook.body.id}`, { method: 'PATCH', body: { enabled: false }, headers: asKey(k) })).status).toBe(200)
    const providers = await call(`${o.host}/v1/oauth-providers`, { headers: asKey(k) })
    expect(providers.status).toBe(200)
    expect(providers.body.data.map((p: { provider: string }) => p.provider)).toContain('github')
    const put = await call(`${o.host}/v1/oauth-providers/github`, { method: 'PUT', body: { client_id: 'Iv1.bykey', client_secret: 's3cret', enabled: true }, headers: asKey(k) })
    expect(put.status, JSON.stringify(put.body)).toBe(200)
    expect((await call(`${o.host}/v1/oauth-providers/github`, { method: 'DELETE', headers: asKey(k) })).status).toBe(204)

    const audit = await call(`${o.host}/v1/audit?actor=${k.id}`, { headers: asKey(k) })
    expect(audit.status).toBe(200)
    const byKey = audit.body.data.map((e: { action: string; actor_type: string }) => `${e.actor_type} ${e.action}`).sort()
    expect(byKey).toEqual([
      'api_key oauth.provider_removed', 'api_key oauth.provider_updated', 'api_key tenant.updated', 'api_key tenant.updated', 'api_key webhook.created', 'api_key webhook.updated',
    ])
  })

  it('refuses them to a key whose roles do not grant them, and to a custom role granting only reads', async () => {
    const o = await signUp()
    await customRole(o, 'auditor', ['audit:read', 'webhooks:read'])
    const auditor = await key(o, ['auditor'])
    const member = await key(o, ['member'])
    expect((await call(`${o.host}/v1/audit`, { headers: asKey(auditor) })).status).toBe(200)
    expect((await call(`${o.host}/v1/webhooks`, { headers: asKey(auditor) })).status).toBe(200)
    const create = await call(`${o.host}/v1/webhooks`, { body: { url: 'https://hooks.receiver.test/x', events: ['*'] }, headers: asKey(auditor) })
    expect(create.body.error).toMatchObject({ code: 'permission_denied', details: { permission: 'webhooks:create' } })
    for (const [path, permission] of [['/v1/audit', 'audit:read'], ['/v1/webhooks', 'webhooks:read'], ['/v1/oauth-providers', 'oauth_providers:read'], ['/v1/api-keys', 'api_keys:read']]) {
      const res = await call(`${o.host}${path}`, { headers: asKey(member) })
      expect(res.status, path).toBe(403)
      expect(res.body.error).toMatchObject({ code: 'permission_denied', details: { permission } })
    }
  })
})
