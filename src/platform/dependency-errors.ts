import { AppError } from '../errors.ts'

/** The backends a request may wait on. */
export type Dependency = 'database' | 'cache'

/** Why a call failed: past its deadline, no connection, or the service answered with a server error. */
export type FailureKind = 'timeout' | 'unreachable' | 'server_error'

/** Seconds a client is asked to wait before retrying after an outage answer (Retry-After). */
export const RETRY_AFTER_SECONDS = { database: 5, cache: 2 } as const satisfies Record<Dependency, number>

const CODES = { database: 'database_unavailable', cache: 'cache_unavailable' } as const
const NAMES = { database: 'The database', cache: 'The cache' } as const

/**
 * A backend that is down or too slow: answered as 503 with a stable code and Retry-After, never as
 * a 500 (a 500 means a bug). Raised by the platform clients themselves (src/platform/database.ts,
 * src/platform/redis.ts), so every route gets the same answer without classifying errors itself.
 */
export class DependencyUnavailable extends AppError {
  readonly dependency: Dependency
  readonly kind: FailureKind
  /** What the driver said; kept out of the answer (internals) but logged. */
  readonly detail: string

  constructor(dependency: Dependency, kind: FailureKind, detail: string, options?: ErrorOptions) {
    const what = kind === 'timeout' ? 'did not answer in time' : kind === 'unreachable' ? 'is unreachable' : 'is failing'
    super(503, CODES[dependency], `${NAMES[dependency]} ${what}; retry shortly.`, undefined, options)
    this.name = 'DependencyUnavailable'
    this.dependency = dependency
    this.kind = kind
    this.detail = detail
  }

  get retryAfterSeconds(): number {
    return RETRY_AFTER_SECONDS[this.dependency]
  }
}

/** An abort from a deadline (AbortSignal.timeout gives TimeoutError; a plain abort gives AbortError). */
export function isDeadlineError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
}

/**
 * The outage behind an error, if any. Drivers wrap what they catch: the Neon driver keeps the
 * fetch failure in `sourceError`, Drizzle keeps the driver's error in `cause`; a deadline that
 * fires while the driver reads a response body surfaces as a bare TimeoutError inside them.
 */
export function dependencyFailure(err: unknown): DependencyUnavailable | undefined {
  let viaDatabaseDriver = false
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof DependencyUnavailable) return e
    if (e.name === 'NeonDbError' || e.name === 'DrizzleQueryError') viaDatabaseDriver = true
    else if (viaDatabaseDriver && isDeadlineError(e)) return new DependencyUnavailable('database', 'timeout', e.message, { cause: err })
    const next = (e as Error & { sourceError?: unknown }).sourceError ?? e.cause
    e = next
  }
  return undefined
}
