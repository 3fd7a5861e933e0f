import { eq, isNotNull, and } from 'drizzle-orm'
import { userMfa } from '../db/public-schema.ts'
import type { Database } from '../platform/database.ts'
import type { Redis } from '../platform/redis.ts'
import { hashToken, randomToken } from './secrets.ts'

/** How long a password-verified login may wait for its second factor. */
export const MFA_CHALLENGE_TTL_SECONDS = 300

export interface MfaChallenge {
  userId: string
  tenantId: string
  attempts: number
  /** Set by a tenant switch: the session opened by this challenge ends when the switch's source session does. */
  sessionExpiresAt?: string
}

export const mfaChallengeKey = (tokenHash: string) => `mfa:challenge:${tokenHash}`

export async function hasTotpEnabled(db: Database, userId: string): Promise<boolean> {
  const rows = await db.select({ userId: userMfa.userId }).from(userMfa).where(and(eq(userMfa.userId, userId), isNotNull(userMfa.enabledAt))).limit(1)
  return rows.length > 0
}

/** After a correct password, when MFA is on: an opaque, short-lived token for POST /v1/auth/mfa/verify. */
export async function createMfaChallenge(redis: Redis, challenge: Omit<MfaChallenge, 'attempts'>): Promise<string> {
  const token = randomToken()
  await redis.set(mfaChallengeKey(await hashToken(token)), { ...challenge, attempts: 0 } satisfies MfaChallenge, { ex: MFA_CHALLENGE_TTL_SECONDS })
  return token
}
