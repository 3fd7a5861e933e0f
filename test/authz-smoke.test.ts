import { describe, expect, it } from 'vitest'
import { call } from './support.ts'
import { signUp } from './members-support.ts'

describe('authorization smoke', () => {
  it('registers a type and answers checks for the owner', async () => {
    const o = await signUp()
    const created = await call(`${o.host}/v1/resource-types`, { body: { name: 'invoice', actions: ['read', 'approve'] }, token: o.access_token })
    expect(created.status).toBe(201)
    const res = await call(`${o.host}/v1/authz/check`, { body: { subject: { type: 'user', id: o.user.id }, action: 'approve', resource: { type: 'invoice', id: '1' } }, token: o.access_token })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.allowed).toBe(true)
    const bad = await call(`${o.host}/v1/authz/check`, { body: { subject: { type: 'user', id: o.user.id }, action: 'pay', resource: { type: 'invoice' } }, token: o.access_token })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('unknown_action')
  })
})
