import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { vouchForCache } from '../../changes/drain.ts'

/**
 * Before anything reads Redis as the truth (tenant lookup, session revocation, authorization
 * version): an isolate that cannot vouch for Redis — new, after a Redis failure, after a batch
 * without an answer, or EFFECTS_FENCE_SECONDS after its last check — first applies the effects
 * committed changes still owe it (src/changes/drain.ts). Free when it can: no I/O at all.
 */
export function cacheTrust(): MiddlewareHandler<AppEnv> {
  return async function cacheTrustMiddleware(c, next) {
    await vouchForCache(c.var, c.var.config.EFFECTS_FENCE_SECONDS * 1000)
    return next()
  }
}
