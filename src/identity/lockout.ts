import type { Logger } from '../platform/logger.ts'
import type { Redis } from '../platform/redis.ts'
import type { EffectiveSettings } from '../tenancy/settings.ts'
import { hashToken, randomToken } from './secrets.ts'

/**
 * Per-account lockout, per tenant, kept in Redis and keyed by a hash of the email, so that an
 * address with no account locks exactly like one with an account (no enumeration).
 *
 * An attempt is *reserved* before its password (or second factor) is evaluated: one script
 * checks the lock and takes the next of the window's `max_attempts` slots, so however many
 * requests arrive at once, at most `max_attempts` credentials are ever evaluated per window.
 * A request that finds the lock, or no slot left, is refused without evaluating anything. When
 * the attempt holding the last slot fails, a second script locks the account for
 * base·2^(n−1) seconds (n = locks in the last 24 h), capped at `max_seconds`: only that one
 * attempt can lock, so one burst gives exactly one lock and one length. A success clears the
 * window (and the lock history). Every write carries its TTL in the same script: no key is
 * ever left without expiry, whatever fails between two requests.
 *
 *   lockout:attempts:<tenant>:<email hash>  hash {n: slots taken, w: window id}   TTL max_seconds;
 *                                           from the last slot on, the lock length it would cause
 *   lockout:lock:<tenant>:<email hash>      present while locked                  TTL the cool-down
 *   lockout:level:<tenant>:<email hash>     locks in the last day                 TTL 24 h
 *
 * Redis is a cache: the callers treat an unreachable Redis as "no lockout" (logged), so Redis
 * trouble neither locks everyone out nor stops sign-in (docs/api/auth.md).
 */
type Policy = EffectiveSettings['lockout']

const LEVEL_TTL_SECONDS = 24 * 3600

async function keys(tenantId: string, email: string) {
  const id = `${tenantId}:${(await hashToken(email.trim().toLowerCase())).slice(0, 32)}`
  return [`lockout:attempts:${id}`, `lockout:lock:${id}`, `lockout:level:${id}`]
}

/**
 * KEYS attempts, lock, level; ARGV max_attempts, window_seconds, new window id, base_seconds,
 * max_seconds. Answers {slot, 0, window, locked in the last day (0/1)} or {0, retry_after, ''} when refused.
 * (Integer arithmetic through math.floor: SET/EXPIRE refuse "60.0" under Lua 5.3 engines.)
 */
const RESERVE = `
local locked = redis.call('TTL', KEYS[2])
if locked == -1 then
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  locked = tonumber(ARGV[5])
end
if locked > 0 then return {0, locked, ''} end
local max = tonumber(ARGV[1])
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n == 1 then
  redis.call('HSET', KEYS[1], 'w', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if n > max then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    ttl = tonumber(ARGV[2])
  end
  return {0, ttl, ''}
end
if n == max then
  local level = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
  redis.call('EXPIRE', KEYS[1], math.floor(math.min(tonumber(ARGV[4]) * 2 ^ level, tonumber(ARGV[5]))))
end
return {n, 0, redis.call('HGET', KEYS[1], 'w'), redis.call('EXISTS', KEYS[3])}
`

/**
 * KEYS attempts, lock, level; ARGV window id, base_seconds, max_seconds, level TTL. Locks only
 * if the window is still the one whose last slot failed (a success in between cleared it).
 */
const LOCK = `
if redis.call('HGET', KEYS[1], 'w') ~= ARGV[1] then return 0 end
local level = redis.call('INCR', KEYS[3])
if level == 1 or redis.call('TTL', KEYS[3]) < 0 then redis.call('EXPIRE', KEYS[3], ARGV[4]) end
local seconds = math.floor(math.min(tonumber(ARGV[2]) * 2 ^ (level - 1), tonumber(ARGV[3])))
redis.call('SET', KEYS[2], '1', 'EX', seconds)
redis.call('DEL', KEYS[1])
return seconds
`

/** A reserved attempt: its slot in the window (1…max_attempts) and the window it belongs to. */
export interface Reservation {
  slot: number
  window: string
  /** Whether the account was locked in the last day (what `recordSuccess` answers), known before the credential is evaluated. */
  lockedRecently: boolean
}

/** Either a slot to evaluate one credential in, or a refusal with the seconds to wait. */
export type AttemptBudget = { ok: true; reservation: Reservation } | { ok: false; retryAfter: number }

/** Reserve one attempt for `email` in this tenant, before evaluating its credential. */
export async function reserveAttempt(redis: Redis, tenantId: string, email: string, policy: Policy): Promise<AttemptBudget> {
  const k = await keys(tenantId, email)
  const args = [policy.maxAttempts, policy.maxSeconds, `w${randomToken().slice(0, 16)}`, policy.baseSeconds, policy.maxSeconds].map(String)
  const [slot, retryAfter, window, level] = await redis.createScript<[number, number, string, number?]>(RESERVE).exec(k, args)
  if (slot > 0) return { ok: true, reservation: { slot, window: String(window), lockedRecently: Number(level ?? 0) > 0 } }
  return { ok: false, retryAfter: Math.max(1, retryAfter) }
}

/**
 * The reserved attempt failed. Answers the cool-down in seconds when this failure locks the
 * account (it held the window's last slot), else 0: the slot itself already counts the failure.
 */
export async function recordFailure(redis: Redis, tenantId: string, email: string, policy: Policy, reservation: Reservation): Promise<number> {
  if (reservation.slot < policy.maxAttempts) return 0
  const k = await keys(tenantId, email)
  const args = [reservation.window, policy.baseSeconds, policy.maxSeconds, LEVEL_TTL_SECONDS].map(String)
  return Number(await redis.createScript<number>(LOCK).exec(k, args))
}

/** A successful sign-in clears the window and the lock history; answers whether the account had been locked before. */
export async function recordSuccess(redis: Redis, tenantId: string, email: string): Promise<boolean> {
  const [attempts, , level] = await keys(tenantId, email)
  const pipe = redis.pipeline()
  pipe.del(attempts!)
  pipe.del(level!)
  const [, levels] = await pipe.exec<[number, number]>()
  return levels > 0
}

/** Seconds left on a lock, or 0. Read-only: for a step that evaluates no credential (the workspace picker's exchange). */
export async function lockedFor(redis: Redis, tenantId: string, email: string): Promise<number> {
  const [, lock] = await keys(tenantId, email)
  const ttl = await redis.ttl(lock!)
  return ttl > 0 ? ttl : 0
}

/** Lift any lock and forget past failures (after a password reset proves the mailbox). */
export async function clearLockout(redis: Redis, tenantId: string, email: string): Promise<void> {
  await redis.del(...(await keys(tenantId, email)))
}

/**
 * Runs a lockout step. Redis trouble must not open or close the door by itself: without Redis
 * there is no attempt budget (every attempt is evaluated, behind the password hash's cost), so
 * the step answers `fallback` and the failure is logged as a warning.
 */
export async function lockoutSafely<T>(logger: Logger, what: 'reserve' | 'count' | 'reset', run: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await run()
  } catch (err) {
    logger.warn(`lockout ${what} unavailable`, { err })
    return fallback
  }
}
