import type { Context } from 'hono'
import type { AppEnv } from '../app-env.ts'

/**
 * THE HOOK for the self-service tenant creation limiter (issue 8, security item 8: a platform
 * setting that turns self-service creation off or caps it per account, plus per-IP and global
 * limits). Every path that creates a tenant on a user's own initiative calls this first, before
 * anything is written: `POST /v1/me/tenants` and `POST /v1/auth/workspaces`
 * (src/sections/workspaces/create.ts). Until the limiter lands here, those routes are limited
 * only by the per-IP credential throttle they sit behind (20 a minute per address).
 *
 * To refuse, throw an AppError (e.g. 403 `tenant_creation_refused` or 429 `rate_limited`).
 */
export async function assertSelfServiceCreationAllowed(_c: Context<AppEnv>, _userId: string): Promise<void> {}
