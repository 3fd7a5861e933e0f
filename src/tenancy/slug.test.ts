import { describe, expect, it } from 'vitest'
import { classifyHost } from './hosts.ts'
import { slugProblem } from './slug.ts'

describe('slug rules', () => {
  it.each(['abc', 'acme-inc', 'a1b2', 'x'.repeat(63), '123'])('accepts %j', (slug) => expect(slugProblem(slug)).toBeUndefined())
  it.each([
    ['ab', 'length'],
    ['x'.repeat(64), 'length'],
    ['ACME', 'characters'],
    ['ac.me', 'characters'],
    ['acmé', 'characters'],
    ['-ab', 'hyphens'],
    ['ab-', 'hyphens'],
    ['xn--abc', 'hyphens'],
    ['www', 'reserved'],
    ['docs', 'reserved'],
  ])('refuses %j (%s)', (slug, problem) => expect(slugProblem(slug)).toBe(problem))
})

describe('host classification', () => {
  const bases = ['atrium.dev', 'localhost']
  it('reads the tenant from the first label under a base domain', () => {
    expect(classifyHost('acme.atrium.dev', bases)).toEqual({ kind: 'tenant', slug: 'acme' })
    expect(classifyHost('ACME.localhost.', bases)).toEqual({ kind: 'tenant', slug: 'acme' })
  })
  it('treats the base domain itself as the platform host and other hosts as unknown', () => {
    expect(classifyHost('atrium.dev', bases)).toEqual({ kind: 'platform' })
    expect(classifyHost('localhost', bases)).toEqual({ kind: 'platform' })
    expect(classifyHost('evil-atrium.dev', bases)).toEqual({ kind: 'unknown' })
    expect(classifyHost('127.0.0.1', bases)).toEqual({ kind: 'unknown' })
  })
})
