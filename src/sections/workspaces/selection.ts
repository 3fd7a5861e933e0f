import { hashToken, randomToken } from '../../identity/secrets.ts'
import type { Redis } from '../../platform/redis.ts'

/** How long the workspace picker may wait for the user's choice. */
export const SELECTION_TTL_SECONDS = 300

/** What a selection credential stands for, kept in Redis under the credential's hash (docs/storage.md). */
export interface SelectionGrant {
  userId: string
  /** The account's password_changed_at at sign-in: a password change since voids the credential. */
  passwordChangedAt: string | null
}

export const selectionKey = (tokenHash: string) => `workspace:selection:${tokenHash}`

/** After a correct password on the platform host: a short-lived, single-use credential bound to the user. */
export async function issueSelection(redis: Redis, grant: SelectionGrant): Promise<string> {
  const token = randomToken()
  await redis.set(selectionKey(await hashToken(token)), grant, { ex: SELECTION_TTL_SECONDS })
  return token
}

/** The grant a credential names, without using it up (the checks of the exchange run first). */
export async function peekSelection(redis: Redis, token: string): Promise<SelectionGrant | null> {
  return redis.get<SelectionGrant>(selectionKey(await hashToken(token)))
}

/** Use the credential up (GETDEL): of two concurrent exchanges, exactly one gets the grant. */
export async function takeSelection(redis: Redis, token: string): Promise<SelectionGrant | null> {
  return redis.getdel<SelectionGrant>(selectionKey(await hashToken(token)))
}
