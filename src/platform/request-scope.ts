import type { Config } from '../config.ts'
import type { Database } from './database.ts'
import type { Logger } from './logger.ts'
import type { Redis } from './redis.ts'

/** The platform clients every request carries (set first in the chain, by middleware/request-context). */
export interface Services {
  config: Config
  db: Database
  redis: Redis
  logger: Logger
}

/**
 * What domain modules (src/identity, src/tenancy, src/webhooks…) may use of a request: its
 * services, its headers and URL, answer headers, and work after the answer. Any Hono context of
 * the app fits it, so domain code never depends on the HTTP layer's `AppEnv`.
 */
export interface RequestScope {
  readonly var: Readonly<Services>
  readonly req: { readonly url: string; header(name: string): string | undefined }
  header(name: string, value: string): void
  readonly executionCtx: Pick<ExecutionContext, 'waitUntil'>
}
