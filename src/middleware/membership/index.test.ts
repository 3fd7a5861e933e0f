import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import type { AppEnv } from '../../app-env.ts'
import type { AuthzSnapshot } from '../../authz/snapshot.ts'
import type { AccessClaims } from '../auth/index.ts'
import { ALICE, authzStandIns, BOB, CAROL, KEY, snapshot } from '../permission/stand-ins.ts'
import { handleError } from '../request-context/errors.ts'
import { requireMember, type MembershipVariables } from './index.ts'

/*
 * The middleware alone, in front of a route that echoes the membership it set, with the model and
 * the recording database and Redis of src/middleware/permission/stand-ins.ts. Through the real
 * Worker: the /v1/me and MFA tests in test/.
 */
function harness(options: { cached: AuthzSnapshot; database?: AuthzSnapshot; tenant?: boolean }) {
  const { reads, tenant, vars } = authzStandIns(options.cached, options.database)
  const app = new Hono<AppEnv & { Variables: MembershipVariables }>()
  app.onError(handleError)
  let caller: { user?: string; apiKey?: string } = {}
  app.use('*', async (c, next) => {
    if (options.tenant !== false) c.set('tenant', tenant)
    c.set('auth', caller.user ? ({ sub: caller.user, exp: 0 } as AccessClaims) : null)
    c.set('apiKey', caller.apiKey ? ({ id: caller.apiKey } as AppEnv['Variables']['apiKey']) : null)
    for (const [name, value] of Object.entries(vars)) (c as unknown as { set(name: string, value: unknown): void }).set(name, value)
    await next()
  })
  app.get('/me', requireMember(), (c) => c.json({ member: c.var.member }))
  const request = async (who: typeof caller) => {
    caller = who
    const res = await app.request('/me')
    return { status: res.status, body: (await res.json()) as any }
  }
  return { request, reads }
}

describe('requireMember', () => {
  it('answers 404 tenant_required off a tenant host', async () => {
    const res = await harness({ cached: snapshot(1), tenant: false }).request({ user: ALICE })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('tenant_required')
  })

  it('answers 401 without a user token, an API key included, before reading anything', async () => {
    const h = harness({ cached: snapshot(1) })
    for (const who of [{}, { apiKey: KEY }]) {
      const res = await h.request(who)
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('unauthenticated')
    }
    expect(h.reads.sql).toBe(0)
  })

  it('lets an active member through with their role from the cached model, with no SQL', async () => {
    const h = harness({ cached: snapshot(1) })
    expect(await h.request({ user: ALICE })).toEqual({ status: 200, body: { member: { userId: ALICE, role: 'member', status: 'active' } } })
    expect((await h.request({ user: BOB })).body.member.role).toBe('owner')
    expect(h.reads.sql).toBe(0)
  })

  it('re-checks the database once for a stranger, then answers 403 not_a_member', async () => {
    const h = harness({ cached: snapshot(1) })
    const res = await h.request({ user: CAROL })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('not_a_member')
    expect(h.reads.sql).toBe(1)
  })

  it('lets in a member who joined after the cached model was built (the re-check sees the newer version)', async () => {
    const h = harness({ cached: snapshot(1), database: snapshot(2, { members: [[ALICE, 'member'], [CAROL, 'admin']] }) })
    expect(await h.request({ user: CAROL })).toEqual({ status: 200, body: { member: { userId: CAROL, role: 'admin', status: 'active' } } })
    expect(h.reads.sql).toBe(1)
  })
})
