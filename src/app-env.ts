import type { Env } from './config.ts'
import type { ApiKeyVariables } from './middleware/api-key/index.ts'
import type { AuthVariables } from './middleware/auth/index.ts'
import type { IdempotencyVariables } from './middleware/idempotency/index.ts'
import type { RequestContextVariables } from './middleware/request-context/index.ts'
import type { TenantVariables } from './middleware/tenant/index.ts'

/** Everything a handler can read from the context, set by the middleware chain in app.ts. */
export type AppVariables = RequestContextVariables & TenantVariables & AuthVariables & ApiKeyVariables & IdempotencyVariables

export interface AppEnv {
  Bindings: Env
  Variables: AppVariables
}
