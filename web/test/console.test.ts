import { describe, expect, it } from 'vitest'
import { memberErrorMessage, parseAddresses } from '../src/console/members-text.ts'
import { apiKeyActions, memberActions, SCREENS, visibleScreens } from '../src/console/screens.ts'
import { ATRIUM_RESOURCE_TYPES } from '../../src/authz/atrium-types.ts'

const EVERY = Object.entries(ATRIUM_RESOURCE_TYPES).flatMap(([type, t]) => t.actions.map((a) => `${type}:${a}`))

describe('the console’s screens from the caller’s permissions', () => {
  it('shows every screen to a caller holding every permission (an owner), none to one holding none', () => {
    expect(visibleScreens(EVERY)).toEqual(SCREENS)
    expect(visibleScreens([])).toEqual([])
    expect(visibleScreens(['tenant:read', 'roles:read'])).toEqual([])
  })

  it('shows Members for members:read alone (a read-only custom role) or invitations:read alone', () => {
    expect(visibleScreens(['members:read']).map((s) => s.id)).toEqual(['members'])
    expect(visibleScreens(['invitations:read']).map((s) => s.id)).toEqual(['members'])
  })

  it('offers each member action only with its own permission', () => {
    expect(memberActions(['members:read'])).toEqual({ list: true, invite: false, changeRole: false, remove: false, invitations: false, revoke: false })
    expect(memberActions(EVERY)).toEqual({ list: true, invite: true, changeRole: true, remove: true, invitations: true, revoke: true })
    expect(memberActions(['members:invite', 'invitations:read'])).toMatchObject({ list: false, invite: true, invitations: true, revoke: false })
  })

  it('shows API keys for api_keys:read or api_keys:create, revoke and the role picker each with their own', () => {
    expect(visibleScreens(['members:read', 'api_keys:read']).map((s) => s.id)).toEqual(['members', 'api-keys'])
    expect(visibleScreens(['api_keys:create']).map((s) => s.id)).toEqual(['api-keys'])
    expect(visibleScreens(['api_keys:revoke']).map((s) => s.id)).toEqual([])
    expect(apiKeyActions(['api_keys:read'])).toEqual({ list: true, create: false, revoke: false, pickRoles: false })
    expect(apiKeyActions(EVERY)).toEqual({ list: true, create: true, revoke: true, pickRoles: true })
  })

  it('asks only for permissions the API has', () => {
    for (const s of SCREENS) for (const p of s.anyOf) expect(EVERY).toContain(p)
  })
})

describe('the Members screen’s text', () => {
  it('splits addresses on commas, semicolons, spaces and lines, once each', () => {
    expect(parseAddresses(' a@x.com, b@y.com\nc@z.com;a@x.com  ')).toEqual(['a@x.com', 'b@y.com', 'c@z.com'])
    expect(parseAddresses(' \n ,')).toEqual([])
  })

  it('explains the last-owner and grant-ceiling refusals instead of showing codes', () => {
    expect(memberErrorMessage({ code: 'last_owner', message: 'x' })).toMatch(/at least one owner/)
    expect(memberErrorMessage({ code: 'grant_exceeds_own', message: 'x', details: { role: 'admin', permissions: ['*:*'] } })).toMatch(/the role admin grants \*:\*, which you do not hold/)
    expect(memberErrorMessage({ code: 'grant_exceeds_own', message: 'x', details: { permissions: ['members:invite', 'roles:read'] } })).toMatch(/this grants members:invite, roles:read/)
    expect(memberErrorMessage({ code: 'something_else', message: 'The API’s words.' })).toBe('The API’s words.')
  })
})
