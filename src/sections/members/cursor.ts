import { UUID_PATTERN } from '../../db/ids.ts'
import { fail } from '../../errors.ts'
import { base64url, base64urlDecode } from '../../platform/crypto.ts'
import { MemberErrors } from './errors.ts'

/**
 * Keyset cursors, opaque to clients: base64url of a JSON array of the sort key of the last
 * row of the page. Each part is checked against its shape before it reaches a query, so a
 * forged cursor is a 400, never a database error.
 */
export type CursorPart = 'uuid' | 'timestamp'

const SHAPES: Record<CursorPart, RegExp> = {
  uuid: UUID_PATTERN,
  // As Postgres prints a timestamptz (`2025-01-31 09:30:00.123456+00`), microseconds kept.
  timestamp: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/,
}

export function encodeCursor(parts: string[]): string {
  return base64url(new TextEncoder().encode(JSON.stringify(parts)))
}

export function decodeCursor(cursor: string, shape: CursorPart[]): string[] {
  let parts: unknown
  try {
    parts = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64urlDecode(cursor)))
  } catch {
    throw fail(MemberErrors, 'invalid_cursor')
  }
  const valid = Array.isArray(parts) && parts.length === shape.length && parts.every((p, i) => typeof p === 'string' && SHAPES[shape[i]!].test(p))
  if (!valid) throw fail(MemberErrors, 'invalid_cursor')
  return parts as string[]
}
