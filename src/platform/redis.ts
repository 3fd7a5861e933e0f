import { Redis } from '@upstash/redis/cloudflare'
import { callSignal, currentBudget } from './deadline.ts'
import { DependencyUnavailable, isDeadlineError } from './dependency-errors.ts'

export interface RedisOptions {
  /** Deadline of one REST request (a command or a pipeline), in ms. */
  timeoutMs: number
}

const DEFAULT_OPTIONS: RedisOptions = { timeoutMs: 2_000 }

const clients = new Map<string, Redis>()

/** How many times this isolate has seen Redis fail. */
let failures = 0

/** A counter of the Redis failures this isolate has seen: after one, whatever it wrote may be missing there. */
export function cacheFailureCount(): number {
  return failures
}

/** The rest of this request skips Redis, as after a failure: it cannot be trusted for now (src/changes/drain.ts). */
export function skipCacheForRequest(): void {
  const budget = currentBudget()
  if (budget) budget.cacheDown = true
}

/**
 * An Upstash REST client. One retry with a short back-off: the callers (rate limit, caches,
 * health) degrade on failure rather than wait through the client's default five retries.
 *
 * Every request gets a deadline (REDIS_TIMEOUT_MS, cut short by the request's budget). The signal
 * is a function so that the client throws on abort: with a plain signal @upstash/redis answers an
 * aborted request with the result "Aborted" instead of an error (its HttpClient.request).
 * A Redis that is down, too slow or failing becomes DependencyUnavailable('cache'); after one such
 * failure the rest of the request skips Redis at once instead of waiting again, so an outage costs a
 * request at most one deadline. Redis's own command errors (WRONGTYPE, NOSCRIPT…) pass through
 * unchanged: they are bugs, and @upstash/ratelimit relies on reading NOSCRIPT.
 */
export function connectRedis(url: string, token: string, options: RedisOptions = DEFAULT_OPTIONS): Redis {
  const key = `${url} ${token} ${options.timeoutMs}`
  let redis = clients.get(key)
  if (!redis) {
    redis = new Redis({
      url,
      token,
      retry: { retries: 1, backoff: () => 25 },
      enableTelemetry: false,
      // Replies as plain JSON rather than base64-encoded strings (decoded on every reply): every value
      // Atrium stores is text (JSON, numbers, ids), so base64's protection of binary values is not needed.
      responseEncoding: false,
      signal: () => {
        const budget = currentBudget()
        if (budget?.cacheDown) return AbortSignal.abort(new DependencyUnavailable('cache', 'unreachable', 'Redis failed earlier in this request'))
        return callSignal(options.timeoutMs)
      },
    })
    redis.use(async (req, next) => {
      try {
        return await next(req)
      } catch (err) {
        const failure = cacheFailure(err, options.timeoutMs)
        if (!failure) throw err
        failures += 1
        const budget = currentBudget()
        if (budget) budget.cacheDown = true
        throw failure
      }
    })
    clients.set(key, redis)
  }
  return redis
}

/** Replies Redis itself gives for a wrong command: a bug in the caller, not an outage. */
const COMMAND_ERROR = /^(ERR|WRONGTYPE|NOSCRIPT|EXECABORT|NOPROTO|BUSYKEY)\b/
/** …except Upstash's quota replies, which mean "no service". */
const QUOTA = /max (daily )?request|limit exceeded/i

export function cacheFailure(err: unknown, timeoutMs: number): DependencyUnavailable | undefined {
  if (err instanceof DependencyUnavailable) return err
  if (!(err instanceof Error)) return new DependencyUnavailable('cache', 'unreachable', String(err))
  if (isDeadlineError(err)) return new DependencyUnavailable('cache', 'timeout', `no answer within ${timeoutMs} ms or the request budget`, { cause: err })
  if (err.name === 'UpstashError') {
    if (COMMAND_ERROR.test(err.message) && !QUOTA.test(err.message)) return undefined
    return new DependencyUnavailable('cache', 'server_error', err.message.slice(0, 200), { cause: err })
  }
  // UpstashJSONParseError (a proxy's HTML error page) and fetch's TypeError (no connection).
  return new DependencyUnavailable('cache', 'unreachable', err.message.slice(0, 200), { cause: err })
}

export type { Redis }
