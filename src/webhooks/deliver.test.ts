import { describe, expect, it } from 'vitest'
import { MAX_ATTEMPTS, retryDelaySeconds } from './deliver.ts'

describe('webhook retry schedule', () => {
  it('doubles from 30 s after each failed attempt, with at most ±20 % jitter', () => {
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const base = 30 * 2 ** (attempt - 1)
      expect(retryDelaySeconds(attempt, () => 0.5)).toBe(base)
      expect(retryDelaySeconds(attempt, () => 0)).toBe(Math.round(base * 0.8))
      expect(retryDelaySeconds(attempt, () => 0.999999)).toBe(Math.round(base * 1.2))
    }
  })

  it('never waits more than 6 hours', () => {
    expect(retryDelaySeconds(20, () => 0.999999)).toBe(6 * 3600)
    expect(retryDelaySeconds(11, () => 0.5)).toBe(6 * 3600)
  })

  it('gives up after 8 attempts, about an hour after the first', () => {
    expect(MAX_ATTEMPTS).toBe(8)
    let total = 0
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) total += retryDelaySeconds(attempt, () => 0.5)
    expect(total).toBe(30 * (2 ** 7 - 1))
  })
})
