import type { Logger } from './logger.ts'
import type { RedisRound } from './redis-round.ts'
import type { Redis } from './redis.ts'

/** A sliding-window limit: at most `max` hits per `windowSeconds`. */
export interface RateLimit {
  max: number
  windowSeconds: number
}

export interface Verdict {
  success: boolean
  limit: number
  remaining: number
  /** When the current window ends (ms since the epoch). */
  reset: number
}

/**
 * The sliding window of @upstash/ratelimit (`Ratelimit.slidingWindow`, single region), with its
 * keys (`<prefix>:<max>/<window>:<identifier>:<window index>`) and its arithmetic, so counters
 * carry over from it. Run here rather than through the library so that its one command can share
 * a pipeline with the request's other reads (src/platform/redis-round.ts).
 * KEYS current, previous; ARGV max, now (ms), window (ms). Answers the tokens left (−1: refused).
 */
const SLIDING_WINDOW = `
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
local previous = tonumber(redis.call("GET", KEYS[2]) or "0")
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
local inCurrent = (tonumber(ARGV[2]) % window) / window
previous = math.floor((1 - inCurrent) * previous)
if previous + current >= max then return -1 end
local count = redis.call("INCRBY", KEYS[1], 1)
if count == 1 then redis.call("PEXPIRE", KEYS[1], window * 2 + 1000) end
return max - (count + previous)
`
let scriptSha: Promise<string> | undefined
function slidingWindowSha(): Promise<string> {
  scriptSha ??= crypto.subtle.digest('SHA-1', new TextEncoder().encode(SLIDING_WINDOW)).then((d) => [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join(''))
  return scriptSha
}

/** The command for one hit on `limit`, ready to add to a pipeline, and how to read its reply. */
async function slidingWindowHit(limit: RateLimit, prefix: string, identifier: string) {
  const windowMs = limit.windowSeconds * 1000
  const now = Date.now()
  const index = Math.floor(now / windowMs)
  const base = `${prefix}:${limit.max}/${limit.windowSeconds}:${identifier}`
  const keys = [`${base}:${index}`, `${base}:${index - 1}`]
  const args = [String(limit.max), String(now), String(windowMs)]
  const sha = await slidingWindowSha()
  return {
    add: (pipe: ReturnType<Redis['pipeline']>, withScript = false) => (withScript ? pipe.eval(SLIDING_WINDOW, keys, args) : pipe.evalsha(sha, keys, args)),
    verdict: (left: unknown): Verdict => ({ success: Number(left) >= 0, limit: limit.max, remaining: Math.max(0, Number(left)), reset: (index + 1) * windowMs }),
  }
}

/**
 * One hit, sent in `round` when given (with whatever reads it carries) or alone. A Redis that
 * does not know the script yet answers NOSCRIPT: then it is sent once more with its text.
 */
export async function hit(redis: Redis, round: RedisRound | undefined, limit: RateLimit, prefix: string, identifier: string): Promise<Verdict> {
  const command = await slidingWindowHit(limit, prefix, identifier)
  let reply: { result: unknown; error?: string } | undefined
  if (round) [reply] = await round.run((pipe) => (command.add(pipe), 1))
  else [reply] = (await command.add(redis.pipeline()).exec({ keepErrors: true })) as { result: unknown; error?: string }[]
  if (reply?.error?.startsWith('NOSCRIPT')) {
    const [again] = (await command.add(redis.pipeline(), true).exec({ keepErrors: true })) as { result: unknown; error?: string }[]
    if (again?.error) throw new Error(`rate limiter: ${again.error}`)
    return command.verdict(again!.result)
  }
  if (!reply || reply.error) throw new Error(`rate limiter: ${reply?.error ?? 'no reply'}`)
  return command.verdict(reply.result)
}

/**
 * One hit on a sliding-window limit outside the middleware (e.g. tenant creation): the limiter's
 * answer, or null when Redis is unreachable (logged; the caller lets the request through, as the
 * middleware does).
 */
export async function consumeRateLimit(
  deps: { redis: Redis; logger: Logger },
  limit: RateLimit,
  prefix: string,
  identifier: string,
): Promise<{ success: boolean; limit: number; remaining: number; reset: number } | null> {
  try {
    return await hit(deps.redis, undefined, limit, prefix, identifier)
  } catch (err) {
    deps.logger.warn('rate limiter unavailable; request let through', { err, prefix })
    return null
  }
}
