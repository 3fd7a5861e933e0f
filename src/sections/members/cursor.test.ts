import { describe, expect, it } from 'vitest'
import { AppError } from '../../errors.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'

const ID = '018f0000-0000-7000-8000-00000000000a'
const AT = '2025-01-31 09:30:00.123456+00'

function refused(cursor: string, shape: Parameters<typeof decodeCursor>[1]) {
  try {
    decodeCursor(cursor, shape)
  } catch (err) {
    return err instanceof AppError ? { status: err.status, code: err.code } : err
  }
  return 'accepted'
}

describe('keyset cursors', () => {
  it('round-trip the sort key of the last row, opaque and URL-safe', () => {
    const cursor = encodeCursor([AT, ID])
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(cursor).not.toContain(ID)
    expect(decodeCursor(cursor, ['timestamp', 'uuid'])).toEqual([AT, ID])
    for (const at of ['2025-01-31T09:30:00Z', '2025-01-31 09:30:00+01:00', '2025-01-31 09:30:00.1-0530']) {
      expect(decodeCursor(encodeCursor([at]), ['timestamp']), at).toEqual([at])
    }
  })

  it('refuse a forged or damaged cursor with 400 invalid_cursor before it reaches a query', () => {
    const invalid = { status: 400, code: 'invalid_cursor' }
    expect(refused('not base64 !', ['uuid'])).toEqual(invalid)
    expect(refused(encodeCursor([ID]).slice(0, -3), ['uuid'])).toEqual(invalid)
    expect(refused(Buffer.from('{"id":1}').toString('base64url'), ['uuid'])).toEqual(invalid)
    expect(refused(Buffer.from([0xff, 0xfe]).toString('base64url'), ['uuid'])).toEqual(invalid)
    // The right JSON, the wrong shape: a part that is no UUID or time, a missing or extra part, a number.
    expect(refused(encodeCursor(["x' or 1=1 --"]), ['uuid'])).toEqual(invalid)
    expect(refused(encodeCursor(['yesterday']), ['timestamp'])).toEqual(invalid)
    expect(refused(encodeCursor([ID]), ['timestamp', 'uuid'])).toEqual(invalid)
    expect(refused(encodeCursor([AT, ID, ID]), ['timestamp', 'uuid'])).toEqual(invalid)
    expect(refused(Buffer.from(JSON.stringify([42])).toString('base64url'), ['uuid'])).toEqual(invalid)
  })
})
