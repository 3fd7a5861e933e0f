import { describe, expect, it } from 'vitest'
import { addMember, call, endpointRequests, randomClientIp, resetEndpointStats, signUp } from './support.ts'

/**
 * Backend requests per request, counted by the local SQL and Redis endpoints (counts, not
 * timings): what a warm request costs besides its own work. The rate limiter's Redis request
 * carries the session's revocation marker and the tenant's authorization version
 * (src/platform/redis-round.ts, src/identity/session-checks.ts).
 */
async function counted(send: () => Promise<{ status: number }>, expected: number) {
  await resetEndpointStats('sql')
  await resetEndpointStats('redis')
  expect((await send()).status).toBe(expected)
  return { sql: await endpointRequests('sql'), redis: await endpointRequests('redis') }
}

describe('backend round trips of warm requests', () => {
  it('GET /v1/tenant: one Redis request, no SQL, anonymous or signed in', async () => {
    const owner = await signUp()
    const anonymous = () => call(`${owner.host}/v1/tenant`)
    const signedIn = () => call(`${owner.host}/v1/tenant`, { token: owner.access_token })
    await anonymous()
    await signedIn()
    expect(await counted(anonymous, 200)).toEqual({ sql: 0, redis: 1 })
    expect(await counted(signedIn, 200)).toEqual({ sql: 0, redis: 1 })
  })

  it('GET /v1/me: one Redis request (limit, revocation, authorization version) and one SQL request (the user)', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const me = () => call(`${owner.host}/v1/me`, { token: member.access_token })
    await me()
    expect(await counted(me, 200)).toEqual({ sql: 1, redis: 1 })
  })

  it('GET /v1/members: one Redis request and one SQL request (the list)', async () => {
    const owner = await signUp()
    const list = () => call(`${owner.host}/v1/members`, { token: owner.access_token })
    await list()
    expect(await counted(list, 200)).toEqual({ sql: 1, redis: 1 })
  })

  it('POST /v1/auth/login: two SQL requests (the account with its membership and TOTP; the session) and three Redis requests (the limits; the attempt; its reset)', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const login = () => call(`${owner.host}/v1/auth/login`, { body: { email: member.email, password: 'correct horse battery' }, headers: { 'cf-connecting-ip': randomClientIp() } })
    await login()
    expect(await counted(login, 200)).toEqual({ sql: 2, redis: 3 })
    const wrong = () => call(`${owner.host}/v1/auth/login`, { body: { email: member.email, password: 'not the password' }, headers: { 'cf-connecting-ip': randomClientIp() } })
    // A failure: the same reads, then its audit entry.
    expect(await counted(wrong, 401)).toEqual({ sql: 2, redis: 2 })
  })

  it('a revoked session is refused within that same one Redis request, without SQL', async () => {
    const owner = await signUp()
    const member = await addMember(owner)
    const me = () => call(`${owner.host}/v1/me`, { token: member.access_token })
    await me()
    expect((await call(`${owner.host}/v1/auth/logout`, { method: 'POST', token: member.access_token })).status).toBe(204)
    expect(await counted(me, 401)).toEqual({ sql: 0, redis: 1 })
  })
})
