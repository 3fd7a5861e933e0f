import type { MiddlewareHandler } from 'hono'
import { commonError } from '../../errors.ts'
import { hit, type RateLimit, type Verdict } from '../../platform/rate-limiter.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Redis } from '../../platform/redis.ts'
import type { RedisRound } from '../../platform/redis-round.ts'
import type { ApiKeyVariables } from '../api-key/index.ts'
import type { AuthVariables } from '../auth/index.ts'
import type { TenantVariables } from '../tenant/index.ts'

/** The caller: the user when a token was verified, the API key when one was, otherwise the client IP. */
export function callerOf(c: { var: AuthVariables & Partial<ApiKeyVariables>; req: { header(name: string): string | undefined } }): string {
  if (c.var.auth) return `user:${c.var.auth.sub}`
  if (c.var.apiKey) return `key:${c.var.apiKey.id}`
  return `ip:${c.req.header('cf-connecting-ip') ?? c.req.header('x-real-ip') ?? 'unknown'}`
}

/**
 * Sliding-window limit per tenant and per caller, in Redis (the algorithm of @upstash/ratelimit).
 * The hit goes in the request's Redis round (`c.var.round`) with the reads earlier middleware
 * queued, whose checks (a revoked session…) answer before the limit's own verdict.
 * Answers carry RateLimit-Limit/-Remaining/-Reset (draft-ietf-httpapi-ratelimit-headers);
 * a refusal is 429 with Retry-After. If Redis is unreachable the request goes through and
 * the failure is logged: losing the limiter must not take the API down with it.
 */
export function rateLimit(options: {
  limitFor: (c: Parameters<MiddlewareHandler>[0]) => RateLimit
  /** Key prefix in Redis; separate limits need separate prefixes. */
  prefix?: string
  /** Count per IP even for signed-in callers (credential endpoints). */
  byIp?: boolean
}): MiddlewareHandler<{ Variables: AuthVariables & TenantVariables & { redis: Redis; logger: Logger; round?: RedisRound } }> {
  return async function rateLimitMiddleware(c, next) {
    const limit = options.limitFor(c)
    const caller = options.byIp ? `ip:${c.req.header('cf-connecting-ip') ?? 'unknown'}` : callerOf(c)
    const identifier = `${c.var.tenant?.id ?? 'platform'}:${caller}`
    let result: Verdict | null = null
    try {
      result = await hit(c.var.redis, c.var.round, limit, options.prefix ?? 'rl', identifier)
    } catch (err) {
      c.var.logger.warn('rate limiter unavailable; request let through', { err })
    }
    await c.var.round?.settle()
    if (!result) return next()
    const resetSeconds = Math.max(0, Math.ceil((result.reset - Date.now()) / 1000))
    const headers = {
      'RateLimit-Limit': String(result.limit),
      'RateLimit-Remaining': String(result.remaining),
      'RateLimit-Reset': String(resetSeconds),
    }
    if (!result.success) {
      for (const [name, value] of Object.entries(headers)) c.header(name, value)
      c.header('Retry-After', String(Math.max(1, resetSeconds)))
      throw commonError('rate_limited', `Too many requests; retry in ${Math.max(1, resetSeconds)} s.`, {
        limit: result.limit,
        window_seconds: limit.windowSeconds,
      })
    }
    await next()
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  }
}

/**
 * Per-IP throttle on every credential endpoint (on top of the general rate limit), so one
 * address cannot try passwords against many accounts. 20 attempts a minute per tenant.
 */
export const credentialThrottle = rateLimit({ limitFor: () => ({ max: 20, windowSeconds: 60 }), prefix: 'cred', byIp: true })
