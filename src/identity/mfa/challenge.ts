import type { Redis } from '../../platform/redis.ts'
import { hashToken, randomToken } from '../secrets.ts'

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

/** After a correct password, when MFA is on: an opaque, short-lived token for POST /v1/auth/mfa/verify. */
export async function createMfaChallenge(redis: Redis, challenge: Omit<MfaChallenge, 'attempts'>): Promise<string> {
  const token = randomToken()
  await redis.set(mfaChallengeKey(await hashToken(token)), { ...challenge, attempts: 0 } satisfies MfaChallenge, { ex: MFA_CHALLENGE_TTL_SECONDS })
  return token
}

/** Wrong codes a sign-in challenge survives; the next wrong one destroys it. */
export const MFA_MAX_ATTEMPTS = 5

/**
 * Counts one attempt on a challenge, atomically: concurrent guesses cannot share a count.
 * The challenge is the JSON `{userId, tenantId, attempts}` written by createMfaChallenge;
 * the script bumps `attempts` in place, keeping the TTL, and answers the new count — or -1
 * when the challenge is gone or already had its last attempt (it is then deleted).
 */
const COUNT_ATTEMPT = `
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local n = tonumber(string.match(v, '"attempts":(%d+)'))
if not n then return -1 end
n = n + 1
if n > tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return -1
end
redis.call('SET', KEYS[1], (string.gsub(v, '"attempts":%d+', '"attempts":' .. n, 1)), 'KEEPTTL')
return n
`

export interface OpenChallenge extends MfaChallenge {
  key: string
}

/** The challenge an mfa_token names, or null. */
export async function findChallenge(redis: Redis, token: string): Promise<OpenChallenge | null> {
  const key = mfaChallengeKey(await hashToken(token))
  const challenge = await redis.get<MfaChallenge>(key)
  return challenge ? { ...challenge, key } : null
}

/** This attempt's number (1…MFA_MAX_ATTEMPTS), or null if the challenge is spent. */
export async function countAttempt(redis: Redis, challenge: OpenChallenge): Promise<number | null> {
  const n = await redis.eval<[string], number>(COUNT_ATTEMPT, [challenge.key], [String(MFA_MAX_ATTEMPTS)])
  return n > 0 ? n : null
}

/** Ends a challenge. True for the one caller that actually removed it (consumption is single-use). */
export async function endChallenge(redis: Redis, challenge: OpenChallenge): Promise<boolean> {
  return (await redis.del(challenge.key)) === 1
}
