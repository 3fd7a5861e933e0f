import type { Config } from '../config.ts'
import { hashToken, randomToken } from './secrets.ts'
import type { Redis } from '../platform/redis.ts'

/** What an emailed link lets its holder do. */
export type LinkPurpose = 'verify_email' | 'password_reset' | 'magic_link'

/** What a link token stands for, kept in Redis under the token's hash (docs/storage.md). */
export interface LinkGrant {
  purpose: LinkPurpose
  tenantId: string
  userId: string
  /** The address the link was sent to: the link is void once the account's email has changed. */
  email: string
  /** Password resets: the account's password_changed_at when the link was sent; any password change voids it. */
  passwordChangedAt?: string | null
  /**
   * Password resets of an account whose address is not verified, for someone who is not (yet) a
   * member of the link's tenant: the address's owner contesting the claim (src/identity/claims.ts).
   */
  claim?: boolean
}

/**
 * The key names the purpose and the tenant as well as the token's hash: a reset token looked up
 * as a magic link, or on another tenant's host, misses (and is not consumed), and the token
 * itself is never stored.
 */
export const linkTokenKey = (purpose: LinkPurpose, tenantId: string, tokenHash: string) => `link:${purpose}:${tenantId}:${tokenHash}`

export function linkTtlSeconds(config: Config, purpose: LinkPurpose): number {
  if (purpose === 'verify_email') return config.EMAIL_VERIFICATION_TTL_SECONDS
  if (purpose === 'password_reset') return config.PASSWORD_RESET_TTL_SECONDS
  return config.MAGIC_LINK_TTL_SECONDS
}

/** Store a grant under a fresh random token; answers the token (it goes into the link, nowhere else). */
export async function issueLinkToken(redis: Redis, grant: LinkGrant, ttlSeconds: number): Promise<string> {
  const token = randomToken()
  await redis.set(linkTokenKey(grant.purpose, grant.tenantId, await hashToken(token)), grant, { ex: ttlSeconds })
  return token
}

/** Read and delete in one step (GETDEL): a link works once, even when it is followed twice at the same time. */
export async function takeLinkToken(redis: Redis, purpose: LinkPurpose, tenantId: string, token: string): Promise<LinkGrant | null> {
  const grant = await redis.getdel<LinkGrant>(linkTokenKey(purpose, tenantId, await hashToken(token)))
  if (!grant || grant.purpose !== purpose || grant.tenantId !== tenantId) return null
  return grant
}

/** At most this many emails per address, per tenant and hour (all purposes together); more are dropped. */
export const MAILS_PER_ADDRESS_PER_HOUR = 5

export const mailQuotaKey = (tenantId: string, emailHash: string) => `mail:quota:${tenantId}:${emailHash}`

/**
 * Count one mail to `email` in this tenant's hourly window (fixed window, started by the first
 * mail); answers false once the address has had its share, so nobody can flood a mailbox
 * through the forgot-password or magic-link forms.
 */
export async function takeMailQuota(redis: Redis, tenantId: string, email: string): Promise<boolean> {
  const key = mailQuotaKey(tenantId, (await hashToken(email.trim().toLowerCase())).slice(0, 32))
  const sent = await redis.incr(key)
  // The window starts with the first mail; a counter left without expiry (a failed EXPIRE) gets one late.
  if (sent === 1 || (sent > MAILS_PER_ADDRESS_PER_HOUR && (await redis.ttl(key)) < 0)) await redis.expire(key, 3600)
  return sent <= MAILS_PER_ADDRESS_PER_HOUR
}
