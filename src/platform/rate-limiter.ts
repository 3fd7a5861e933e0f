import { Ratelimit } from '@upstash/ratelimit'
import type { Logger } from './logger.ts'
import type { Redis } from './redis.ts'

/** A sliding-window limit: at most `max` hits per `windowSeconds`. */
export interface RateLimit {
  max: number
  windowSeconds: number
}

const limiters = new Map<string, Ratelimit>()

export function limiterFor(redis: Redis, limit: RateLimit, prefix: string): Ratelimit {
  const key = `${prefix}:${limit.max}/${limit.windowSeconds}`
  let limiter = limiters.get(key)
  if (!limiter) {
    limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(limit.max, `${limit.windowSeconds} s`),
      prefix: key,
      // A slow Redis must not hold requests up: past this the request is let through.
      timeout: 1000,
      analytics: false,
    })
    limiters.set(key, limiter)
  }
  return limiter
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
    const result = await limiterFor(deps.redis, limit, prefix).limit(identifier)
    return { success: result.success, limit: result.limit, remaining: result.remaining, reset: result.reset }
  } catch (err) {
    deps.logger.warn('rate limiter unavailable; request let through', { err, prefix })
    return null
  }
}
