import type { Context } from 'hono'
import type { AppEnv } from '../app-env.ts'
import { signingKeys } from '../platform/signing-keys.ts'
import type { Tenant } from '../tenancy/registry.ts'
import type { SessionDeps } from './sessions.ts'

/** The URL of a tenant as seen from this request: same scheme, the tenant's label on the platform host. */
export function tenantUrl(c: Context<AppEnv>, tenant: Pick<Tenant, 'slug'>): string {
  const url = new URL(c.req.url)
  const config = c.var.config
  const host = url.hostname.toLowerCase()
  const base = config.BASE_DOMAINS.find((b) => host === b || host.endsWith(`.${b}`)) ?? config.BASE_DOMAINS[0]!
  return `${url.protocol}//${tenant.slug}.${base}${url.port ? `:${url.port}` : ''}`
}

/** What session functions need, for tokens issued by (and for) `tenant`. */
export async function sessionDeps(c: Context<AppEnv>, tenant: Pick<Tenant, 'slug'>): Promise<SessionDeps> {
  const config = c.var.config
  return {
    db: c.var.db,
    redis: c.var.redis,
    logger: c.var.logger,
    keys: await signingKeys(config.JWT_PRIVATE_KEY, config.JWT_PREVIOUS_PUBLIC_KEYS),
    accessTtl: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtl: config.REFRESH_TOKEN_TTL_SECONDS,
    refreshGrace: config.REFRESH_GRACE_SECONDS,
    dataKey: config.DATA_ENCRYPTION_KEY,
    issuer: tenantUrl(c, tenant),
  }
}
