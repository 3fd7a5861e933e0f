import { authzVersionKey } from '../authz/cache.ts'
import { commonError } from '../errors.ts'
import type { RedisRound } from '../platform/redis-round.ts'
import type { Services } from '../platform/request-scope.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { isSessionRevoked, revokedKey } from './sessions.ts'

/**
 * What a request with a verified access token needs from Redis, queued in the request's Redis
 * round (src/platform/redis-round.ts) so that it travels with the rate limiter's command: one
 * request to Redis, not one per question.
 *
 * - The session's revocation marker, read on every request (never cached: a session revoked a
 *   moment ago is refused by the next request, in any isolate). The check answers 401 before the
 *   rate limiter's verdict, as if it had run first; with Redis down, the session row decides.
 * - The tenant's authorization version, which every change to members, roles, bindings,
 *   policies and API keys bumps: membership (`requireMember`) and permissions
 *   (`requirePermission`) are answered from the isolate's cached model at that version
 *   (src/authz/cache.ts), so a warm request reads no SQL for them.
 */
export function queueSessionChecks(c: { var: Services & { round: RedisRound } }, tenant: Tenant | null, claims: { sid?: string }): void {
  if (!tenant) return
  const round = c.var.round
  round.prefetch(authzVersionKey(tenant.id))
  const sessionId = claims.sid
  if (!sessionId) return
  round.prefetch(revokedKey(sessionId))
  round.check(async () => {
    if (await isSessionRevoked({ ...c.var, round }, tenant, sessionId)) {
      throw commonError('invalid_token', 'The session of this access token has ended.')
    }
  })
}
