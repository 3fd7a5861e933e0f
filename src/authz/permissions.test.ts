import { describe, expect, it } from 'vitest'
import { buildCatalog } from './engine.ts'
import { compileGrants, covers, grants, parsePermission, permissionProblem } from './permissions.ts'

const catalog = buildCatalog([['invoice', ['read', 'approve'], null], ['report', ['read', 'export'], null]])

describe('permission patterns', () => {
  it('parses type:action with optional wildcard halves', () => {
    expect(parsePermission('invoice:approve')).toEqual({ type: 'invoice', action: 'approve' })
    expect(parsePermission('invoice:*')).toEqual({ type: 'invoice', action: '*' })
    expect(parsePermission('*:*')).toEqual({ type: '*', action: '*' })
    for (const bad of ['invoice', 'invoice:', ':read', 'a:b:c', 'Invoice:read', 'in voice:read', 'inv*:read', '*']) expect(parsePermission(bad), bad).toBeNull()
  })

  it('names the unknown type or action, for registered and Atrium types alike', () => {
    expect(permissionProblem('invoice:approve', catalog)).toBeNull()
    expect(permissionProblem('members:invite', catalog)).toBeNull()
    expect(permissionProblem('invoice:*', catalog)).toBeNull()
    expect(permissionProblem('*:export', catalog)).toBeNull()
    expect(permissionProblem('*:*', catalog)).toBeNull()
    expect(permissionProblem('invoise:read', catalog)).toMatch(/unknown resource type "invoise"/)
    expect(permissionProblem('invoice:aprove', catalog)).toMatch(/has no action "aprove"/)
    expect(permissionProblem('members:approve', catalog)).toMatch(/has no action "approve"/)
    expect(permissionProblem('*:raed', catalog)).toMatch(/no resource type has the action "raed"/)
    expect(permissionProblem('nonsense', catalog)).toMatch(/is not a permission/)
  })

  it('matches exact permissions and each kind of wildcard', () => {
    expect(grants(compileGrants(['invoice:read']), 'invoice', 'read')).toBe(true)
    expect(grants(compileGrants(['invoice:read']), 'invoice', 'approve')).toBe(false)
    expect(grants(compileGrants(['invoice:*']), 'invoice', 'approve')).toBe(true)
    expect(grants(compileGrants(['invoice:*']), 'report', 'read')).toBe(false)
    expect(grants(compileGrants(['*:read']), 'report', 'read')).toBe(true)
    expect(grants(compileGrants(['*:read']), 'report', 'export')).toBe(false)
    expect(grants(compileGrants(['*:*']), 'members', 'remove')).toBe(true)
    expect(grants(compileGrants([]), 'invoice', 'read')).toBe(false)
  })

  it('covers a pattern only when every permission it could ever mean is held', () => {
    const g = compileGrants(['invoice:read', 'invoice:approve', 'report:*', '*:read'])
    expect(covers(g, 'invoice:read')).toBe(true)
    expect(covers(g, 'report:export')).toBe(true)
    expect(covers(g, 'report:*')).toBe(true)
    expect(covers(g, '*:read')).toBe(true)
    expect(covers(g, 'members:read')).toBe(true)
    expect(covers(g, 'invoice:*')).toBe(false) // a later invoice action would escape
    expect(covers(g, '*:approve')).toBe(false)
    expect(covers(g, '*:*')).toBe(false)
    expect(covers(compileGrants(['*:*']), '*:*')).toBe(true)
  })
})
