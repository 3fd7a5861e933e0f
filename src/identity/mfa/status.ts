import { and, eq, isNotNull } from 'drizzle-orm'
import { userMfa } from '../../db/public-schema.ts'
import type { Database } from '../../platform/database.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Redis } from '../../platform/redis.ts'

/** Whether the user has confirmed a TOTP authenticator (the database's answer). */
export async function hasTotpEnabled(db: Database, userId: string): Promise<boolean> {
  const rows = await db.select({ userId: userMfa.userId }).from(userMfa).where(and(eq(userMfa.userId, userId), isNotNull(userMfa.enabledAt))).limit(1)
  return rows.length > 0
}

/**
 * "This user has TOTP on", cached in Redis so a tenant with `require_mfa` pays one Redis read
 * per request instead of a query. Only the positive answer is cached (a user who just enrolled
 * is never held back by a stale "no"); it is deleted when MFA is turned off.
 */
export const mfaEnabledKey = (userId: string) => `mfa:enabled:${userId}`
const CACHE_TTL_SECONDS = 300

type Deps = { db: Database; redis: Redis; logger: Logger }

export async function userHasMfa(deps: Deps, userId: string): Promise<boolean> {
  try {
    if (await deps.redis.get(mfaEnabledKey(userId))) return true
  } catch (err) {
    deps.logger.warn('MFA status cache unavailable; reading the database', { err })
  }
  const enabled = await hasTotpEnabled(deps.db, userId)
  if (enabled) await rememberMfaEnabled(deps, userId)
  return enabled
}

/** After enrolment: the next request need not read the database. Best effort. */
export async function rememberMfaEnabled(deps: Pick<Deps, 'redis' | 'logger'>, userId: string) {
  try {
    await deps.redis.set(mfaEnabledKey(userId), 1, { ex: CACHE_TTL_SECONDS })
  } catch (err) {
    deps.logger.warn('could not cache MFA status', { err })
  }
}

/**
 * After MFA is turned off. Best effort, logged as an error on failure: the stale "yes" then lets
 * the user past require_mfa until it expires (CACHE_TTL_SECONDS at most).
 */
export async function forgetMfaEnabled(deps: Pick<Deps, 'redis' | 'logger'>, userId: string) {
  try {
    await deps.redis.del(mfaEnabledKey(userId))
  } catch (err) {
    deps.logger.error('could not clear the cached MFA status', { err, user: userId })
  }
}
