import type { Context } from 'hono'
import type { Env } from './config.ts'
import type { ApiKeyVariables } from './middleware/api-key/index.ts'
import type { AuthVariables } from './middleware/auth/index.ts'
import type { IdempotencyVariables } from './middleware/idempotency/index.ts'
import type { RequestContextVariables } from './middleware/request-context/index.ts'
import type { TenantHostVariables, TenantVariables } from './middleware/tenant/index.ts'

/** Everything a handler can read from the context, set by the middleware chain in app.ts. */
export type AppVariables = RequestContextVariables & TenantVariables & AuthVariables & ApiKeyVariables & IdempotencyVariables

export interface AppEnv {
  Bindings: Env
  Variables: AppVariables
}

/**
 * What a function called by a route may use of the route's context: its variables (read-only),
 * the request, answer headers, the bindings and `waitUntil`. Every route's context fits, whatever
 * its middleware added to the type (`V`: e.g. `{ tenant: Tenant }` behind `tenantHostOnly`, the
 * permission variables behind `requirePermission`); Hono's own `Context` does not, since `set`
 * makes it invariant in its variables.
 */
export type AppScope<V extends object = {}> = Pick<Context<AppEnv>, 'req' | 'header' | 'executionCtx' | 'env'> & {
  readonly var: Readonly<AppVariables & V>
}

/** A route's context on a tenant host (behind `tenantHostOnly`, or a gate that implies it), as the functions it calls see it. */
export type TenantScope<V extends object = {}> = AppScope<TenantHostVariables & V>
