/**
 * Postgres errors reach us wrapped: the Neon driver raises NeonDbError with the server's
 * fields (code, constraint, detail…), and Drizzle wraps that in DrizzleQueryError's `cause`.
 */
export interface PgErrorFields {
  code?: string
  constraint?: string
  detail?: string
  message: string
}

export function pgError(err: unknown): PgErrorFields | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const fields = e as Error & { code?: unknown }
    if (typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code)) return fields as PgErrorFields
  }
  return undefined
}

export function isPgError(err: unknown, code: string, constraint?: string): boolean {
  const fields = pgError(err)
  return fields?.code === code && (constraint === undefined || fields.constraint === constraint)
}

export const UNIQUE_VIOLATION = '23505'
