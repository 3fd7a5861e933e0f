import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../../app-env.ts'
import type { AuthzSnapshot } from '../../authz/snapshot.ts'
import type { AccessClaims } from '../auth/index.ts'
import { handleError } from '../request-context/errors.ts'
import { requirePermission, type PermissionVariables } from './index.ts'
import { ALICE, authzStandIns, BOB, CAROL, KEY, snapshot } from './stand-ins.ts'

/*
 * The middleware alone, in front of routes that echo what it set, with the model and the
 * recording database and Redis of ./stand-ins.ts. Decisions through the real Worker are in
 * test/authz-*.test.ts; this file pins the middleware's own answers and reads.
 */
interface Caller { user?: string; apiKey?: string }

function harness(options: { cached: AuthzSnapshot; database?: AuthzSnapshot; tenant?: boolean }) {
  const { reads, tenant, vars } = authzStandIns(options.cached, options.database)
  const app = new Hono<AppEnv & { Variables: PermissionVariables }>()
  app.onError(handleError)
  let caller: Caller = {}
  app.use('*', async (c, next) => {
    if (options.tenant !== false) c.set('tenant', tenant)
    c.set('auth', caller.user ? ({ sub: caller.user, exp: 0 } as AccessClaims) : null)
    c.set('apiKey', caller.apiKey ? ({ id: caller.apiKey } as AppEnv['Variables']['apiKey']) : null)
    for (const [name, value] of Object.entries(vars)) c.set(name as keyof typeof vars, value as never)
    await next()
  })
  const echo = (c: { var: PermissionVariables }) => Response.json({ subject: c.var.subject, member: c.var.member })
  app.get('/members', requirePermission('members:read'), (c) => echo(c))
  app.post('/invitations', requirePermission('members:invite'), (c) => echo(c))
  app.delete('/members/:id', requirePermission('members:remove', { resourceId: (c) => c.req.param('id') }), (c) => echo(c))

  const request = async (method: string, path: string, who: Caller) => {
    caller = who
    const res = await app.request(path, { method })
    const body = (await res.json()) as any
    return { status: res.status, body }
  }
  return { request, reads }
}

describe('requirePermission', () => {
  it('refuses at start-up a permission that is not one of Atrium\'s own', () => {
    expect(() => requirePermission('members:fly' as never)).toThrow(/unknown permission/)
    expect(() => requirePermission('invoice:read' as never)).toThrow(/unknown permission/)
    expect(() => requirePermission('members' as never)).toThrow(/unknown permission/)
  })

  it('answers 404 tenant_required off a tenant host', async () => {
    const h = harness({ cached: snapshot(1), tenant: false })
    const res = await h.request('GET', '/members', { user: ALICE })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('tenant_required')
  })

  it('answers 401 without credentials, before reading anything', async () => {
    const h = harness({ cached: snapshot(1) })
    const res = await h.request('GET', '/members', {})
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('unauthenticated')
    expect(h.reads.sql).toBe(0)
  })

  it('lets a member through with the permission, and sets subject and membership for the route', async () => {
    const h = harness({ cached: snapshot(1) })
    const res = await h.request('GET', '/members', { user: ALICE })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ subject: { type: 'user', id: ALICE }, member: { userId: ALICE, role: 'member', status: 'active' } })
    expect(h.reads.sql).toBe(0) // a known subject costs no re-check
  })

  it('refuses a member without the permission with 403 permission_denied, naming it and the reason', async () => {
    const h = harness({ cached: snapshot(1) })
    const res = await h.request('POST', '/invitations', { user: ALICE })
    expect(res.status).toBe(403)
    expect(res.body.error).toMatchObject({
      code: 'permission_denied',
      details: { permission: 'members:invite', reason: 'no role or policy grants members:invite' },
    })
  })

  it('re-checks the database once for a stranger, then answers 403 not_a_member', async () => {
    const h = harness({ cached: snapshot(1) })
    const res = await h.request('GET', '/members', { user: CAROL })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('not_a_member')
    expect(h.reads.sql).toBe(1)
  })

  it('lets in a member who joined after the cached model was built (the re-check sees the newer version)', async () => {
    const h = harness({ cached: snapshot(1), database: snapshot(2, { members: [[ALICE, 'member'], [BOB, 'owner'], [CAROL, 'inviter']] }) })
    const res = await h.request('POST', '/invitations', { user: CAROL })
    expect(res.status).toBe(200)
    expect(res.body.member).toEqual({ userId: CAROL, role: 'inviter', status: 'active' })
    expect(h.reads.sql).toBe(1)
  })

  it('checks an API key by its roles, with no membership, and refuses a key gone from the model', async () => {
    const h = harness({ cached: snapshot(1) })
    const ok = await h.request('POST', '/invitations', { apiKey: KEY })
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ subject: { type: 'api_key', id: KEY }, member: null })
    const denied = await h.request('GET', '/members', { apiKey: KEY })
    expect(denied.status).toBe(403)
    expect(denied.body.error.code).toBe('permission_denied')

    const revoked = harness({ cached: snapshot(1, { apiKeys: [] }) })
    const gone = await revoked.request('POST', '/invitations', { apiKey: KEY })
    expect(gone.status).toBe(403)
    expect(gone.body.error).toMatchObject({ code: 'permission_denied', message: 'This API key is no longer active.' })
  })

  it('prefers the API key when a request carries both a key and a user token', async () => {
    const h = harness({ cached: snapshot(1) })
    const res = await h.request('POST', '/invitations', { apiKey: KEY, user: ALICE })
    expect(res.status).toBe(200)
    expect(res.body.subject).toEqual({ type: 'api_key', id: KEY })
  })

  it('scopes the check to the instance the route names, so an instance binding applies there only', async () => {
    const cached = snapshot(1, {
      roles: [['r-member', 'member', []], ['r-remover', 'remover', ['members:remove']]],
      bindings: [['b-1', 'user', ALICE, 'r-remover', 'members', BOB, null]],
    })
    const h = harness({ cached })
    expect((await h.request('DELETE', `/members/${BOB}`, { user: ALICE })).status).toBe(200)
    const other = await h.request('DELETE', `/members/${CAROL}`, { user: ALICE })
    expect(other.status).toBe(403)
    expect(other.body.error.code).toBe('permission_denied')
  })

  it('lets a deny policy override the owner role', async () => {
    const h = harness({ cached: snapshot(1, { policies: [['p-1', 'no-invites', 'deny', 'members:invite', null]] }) })
    const res = await h.request('POST', '/invitations', { user: BOB })
    expect(res.status).toBe(403)
    expect(res.body.error.details.reason).toMatch(/no-invites/)
    expect((await h.request('GET', '/members', { user: BOB })).status).toBe(200)
  })
})
