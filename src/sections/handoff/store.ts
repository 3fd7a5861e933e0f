import { hashToken, randomToken } from '../../identity/secrets.ts'
import type { Redis } from '../../platform/redis.ts'

/** How long a handoff code lives: long enough for one redirect, too short to be of use later. */
export const HANDOFF_TTL_SECONDS = 60

/** What a handoff code stands for (docs/storage.md). */
export interface HandoffGrant {
  userId: string
  /** The tenant whose host may redeem it. */
  tenantId: string
  /** Whether the session it came from passed MFA. */
  mfa: boolean
  /** When the session it came from ends: the session it opens may not outlive it (a switch never extends a session). */
  sessionExpiresAt?: string
}

/**
 * The key names the target tenant as well as the code's hash: the code looked up on another
 * host misses (and is not used up there), and the code itself is never stored.
 */
export const handoffKey = (tenantId: string, codeHash: string) => `handoff:${tenantId}:${codeHash}`

export async function issueHandoff(redis: Redis, grant: HandoffGrant): Promise<string> {
  const code = randomToken()
  await redis.set(handoffKey(grant.tenantId, await hashToken(code)), grant, { ex: HANDOFF_TTL_SECONDS })
  return code
}

/** Read and delete in one step (GETDEL): a code works once, even when redeemed twice at the same time. */
export async function takeHandoff(redis: Redis, tenantId: string, code: string): Promise<HandoffGrant | null> {
  const grant = await redis.getdel<HandoffGrant>(handoffKey(tenantId, await hashToken(code)))
  return grant && grant.tenantId === tenantId ? grant : null
}
