import type { Redis } from '../platform/redis.ts'
import type { EffectiveSettings } from '../tenancy/settings.ts'
import { hashToken } from './secrets.ts'

/**
 * Per-account lockout, per tenant, kept in Redis and keyed by a hash of the email, so that an
 * address with no account locks exactly like one with an account (no enumeration).
 * After `max_attempts` failures the account is locked for base·2^(n−1) seconds (n = how many
 * times it was locked in the last 24 h), capped at `max_seconds`.
 *
 *   lockout:fail:<tenant>:<email hash>   failure counter          TTL max_seconds
 *   lockout:lock:<tenant>:<email hash>   present while locked      TTL the cool-down
 *   lockout:level:<tenant>:<email hash>  locks in the last day     TTL 24 h
 */
type Policy = EffectiveSettings['lockout']

async function keys(tenantId: string, email: string) {
  const id = `${tenantId}:${(await hashToken(email.trim().toLowerCase())).slice(0, 32)}`
  return { fail: `lockout:fail:${id}`, lock: `lockout:lock:${id}`, level: `lockout:level:${id}` }
}

/** Seconds left on a lock, or 0. */
export async function lockedFor(redis: Redis, tenantId: string, email: string): Promise<number> {
  const k = await keys(tenantId, email)
  const ttl = await redis.ttl(k.lock)
  return ttl > 0 ? ttl : 0
}

/** Count a failure; returns the cool-down in seconds when this failure locks the account. */
export async function recordFailure(redis: Redis, tenantId: string, email: string, policy: Policy): Promise<number> {
  const k = await keys(tenantId, email)
  const failures = await redis.incr(k.fail)
  if (failures === 1) await redis.expire(k.fail, policy.maxSeconds)
  if (failures < policy.maxAttempts) return 0
  const level = await redis.incr(k.level)
  if (level === 1) await redis.expire(k.level, 24 * 3600)
  const seconds = Math.min(policy.baseSeconds * 2 ** (level - 1), policy.maxSeconds)
  const pipe = redis.pipeline()
  pipe.set(k.lock, 1, { ex: seconds })
  pipe.del(k.fail)
  await pipe.exec()
  return seconds
}

/** A successful sign-in clears the counters; answers whether the account had been locked before. */
export async function recordSuccess(redis: Redis, tenantId: string, email: string): Promise<boolean> {
  const k = await keys(tenantId, email)
  const pipe = redis.pipeline()
  pipe.del(k.fail)
  pipe.del(k.level)
  const [, levels] = await pipe.exec<[number, number]>()
  return levels > 0
}

/** Lift any lock and forget past failures (after a password reset proves the mailbox). */
export async function clearLockout(redis: Redis, tenantId: string, email: string): Promise<void> {
  const k = await keys(tenantId, email)
  await redis.del(k.fail, k.level, k.lock)
}
