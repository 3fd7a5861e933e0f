import type { MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { commonError } from '../../errors.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Redis } from '../../platform/redis.ts'
import type { RedisRound } from '../../platform/redis-round.ts'
import type { ApiKeyVariables } from '../api-key/index.ts'
import type { AuthVariables } from '../auth/index.ts'
import type { TenantVariables } from '../tenant/index.ts'

export interface RateLimit {
  max: number
  windowSeconds: number
}

interface Verdict {
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

/** One hit, sent in `round` when given (with whatever reads it carries) or alone. */
async function hit(redis: Redis, round: RedisRound | undefined, limit: RateLimit, prefix: string, identifier: string): Promise<Verdict> {
  const command = await slidingWindowHit(limit, prefix, identifier)
  let reply: Reply | undefined
  if (round) [reply] = await round.run((pipe) => (command.add(pipe), 1))
  else [reply] = (await command.add(redis.pipeline()).exec({ keepErrors: true })) as Reply[]
  return verdictOf(redis, command, reply)
}

type Reply = { result: unknown; error?: string }

/** The verdict in a reply; a Redis that does not know the script yet answers NOSCRIPT: then it is sent once more with its text. */
async function verdictOf(redis: Redis, command: Awaited<ReturnType<typeof slidingWindowHit>>, reply: Reply | undefined): Promise<Verdict> {
  if (reply?.error?.startsWith('NOSCRIPT')) {
    const [again] = (await command.add(redis.pipeline(), true).exec({ keepErrors: true })) as Reply[]
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

/** The caller: the user when a token was verified, the API key when one was, otherwise the client IP. */
export function callerOf(c: { var: AuthVariables & Partial<ApiKeyVariables>; req: { header(name: string): string | undefined } }): string {
  const { auth, apiKey } = c.var
  if (auth) return `user:${auth.sub}`
  if (apiKey) return `key:${apiKey.id}`
  return `ip:${c.req.header('cf-connecting-ip') ?? c.req.header('x-real-ip') ?? 'unknown'}`
}

interface LimitSpec {
  limitFor: (c: Parameters<MiddlewareHandler>[0]) => RateLimit
  prefix: string
  byIp: boolean
}

/** Marks a rate-limit middleware, so the global one can find the route's own limits among the matched handlers. */
const LIMIT_SPEC = Symbol('rate limit')
/** Verdicts of route-level limits, hit in the global limiter's round trip: by request, then by limit (null: Redis failed, let through). */
const settledInRound = new WeakMap<Request, Map<LimitSpec, Verdict | null>>()

function identifierOf(c: Parameters<MiddlewareHandler>[0], spec: LimitSpec): string {
  const caller = spec.byIp ? `ip:${c.req.header('cf-connecting-ip') ?? 'unknown'}` : callerOf(c as never)
  return `${(c.get('tenant') as TenantVariables['tenant'] | undefined)?.id ?? 'platform'}:${caller}`
}

/**
 * The global limiter's round trip also hits the limits the matched route declares for itself
 * (the credential throttle of /v1/auth/login, say): one Redis request for both, in the request's
 * round. Their verdicts wait on the request until the route's own middleware applies them.
 */
async function hitWithRouteLimits(c: Parameters<MiddlewareHandler>[0], own: LimitSpec, round: RedisRound | undefined): Promise<Verdict> {
  const routeSpecs = matchedRoutes(c)
    .map((route) => (route.handler as { [LIMIT_SPEC]?: LimitSpec })[LIMIT_SPEC])
    .filter((spec): spec is LimitSpec => spec !== undefined && spec !== own)
  const redis = c.get('redis') as Redis
  if (!round || routeSpecs.length === 0) return hit(redis, round, own.limitFor(c), own.prefix, identifierOf(c, own))
  const specs = [own, ...routeSpecs]
  const commands = await Promise.all(specs.map((spec) => slidingWindowHit(spec.limitFor(c), spec.prefix, identifierOf(c, spec))))
  const settled = new Map<LimitSpec, Verdict | null>(routeSpecs.map((spec) => [spec, null]))
  settledInRound.set(c.req.raw, settled)
  const replies = await round.run((pipe) => (commands.forEach((command) => command.add(pipe)), commands.length))
  const verdicts = await Promise.all(commands.map((command, i) => verdictOf(redis, command, replies[i])))
  routeSpecs.forEach((spec, i) => settled.set(spec, verdicts[i + 1]!))
  return verdicts[0]!
}

/**
 * Sliding-window limit per tenant and per caller, in Redis (the algorithm of @upstash/ratelimit).
 * The hit goes in the request's Redis round (`c.var.round`) with the reads earlier middleware
 * queued, whose checks (a revoked session…) answer before the limit's own verdict; the global
 * limiter also hits the route's own limits there (see hitWithRouteLimits).
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
  const spec: LimitSpec = { limitFor: options.limitFor, prefix: options.prefix ?? 'rl', byIp: options.byIp ?? false }
  const rateLimitMiddleware: MiddlewareHandler<{ Variables: AuthVariables & TenantVariables & { redis: Redis; logger: Logger; round?: RedisRound } }> = async (c, next) => {
    const limit = spec.limitFor(c)
    let result: Verdict | null = null
    const round = c.get('round')
    const settled = settledInRound.get(c.req.raw)
    if (settled?.has(spec)) result = settled.get(spec)!
    else {
      try {
        result = await hitWithRouteLimits(c, spec, round)
      } catch (err) {
        c.get('logger').warn('rate limiter unavailable; request let through', { err })
      }
    }
    await round?.settle()
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
  return Object.assign(rateLimitMiddleware, { [LIMIT_SPEC]: spec })
}

/**
 * Per-IP throttle on every credential endpoint (on top of the general rate limit), so one
 * address cannot try passwords against many accounts. 20 attempts a minute per tenant.
 */
export const credentialThrottle = rateLimit({ limitFor: () => ({ max: 20, windowSeconds: 60 }), prefix: 'cred', byIp: true })
