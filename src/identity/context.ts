import { changeDeps } from '../changes/commit.ts'
import type { RequestScope } from '../platform/request-scope.ts'
import type { VerificationKey } from '../platform/signing-keys.ts'
import { classifyHost, tenantUrl } from '../tenancy/hosts.ts'
import { signingKeys } from '../platform/signing-keys.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { tenantAudience, tenantKeys, type TenantKeyDeps, type TenantKeySet } from '../tenancy/signing-keys.ts'
import type { SessionDeps } from './sessions.ts'

export function tenantKeyDeps(c: RequestScope): TenantKeyDeps {
  return { db: c.var.db, dataKey: c.var.config.DATA_ENCRYPTION_KEY, cacheTtlSeconds: c.var.config.SIGNING_KEY_CACHE_TTL_SECONDS }
}

/** What session functions need, for tokens issued by (and for) `tenant`. */
export async function sessionDeps(c: RequestScope, tenant: Pick<Tenant, 'id' | 'slug' | 'schemaName'>): Promise<SessionDeps> {
  const config = c.var.config
  return {
    db: c.var.db,
    redis: c.var.redis,
    logger: c.var.logger,
    signer: async () => (await tenantKeys(tenantKeyDeps(c), tenant)).signer,
    audience: tenantAudience(tenant.id),
    accessTtl: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtl: config.REFRESH_TOKEN_TTL_SECONDS,
    refreshGrace: config.REFRESH_GRACE_SECONDS,
    dataKey: config.DATA_ENCRYPTION_KEY,
    issuer: tenantUrl(c, tenant),
    defer: changeDeps(c).defer,
    config,
  }
}

/**
 * Tokens signed with the platform key before a tenant adopted its own key: accepted on that
 * tenant's host if issued before the adoption (plus this slack for clocks and isolates still
 * running the previous version), so at most an access-token lifetime after it.
 */
const ADOPTION_SLACK_SECONDS = 60

/** Whether platform-signed tokens issued before the tenant's own key may still be live (the rotation window). */
export function inAdoptionWindow(c: RequestScope, keys: TenantKeySet): boolean {
  if (keys.adoptedAt === null) return false
  return Date.now() < keys.adoptedAt + (ADOPTION_SLACK_SECONDS + c.var.config.ACCESS_TOKEN_TTL_SECONDS) * 1000
}

/** An `iss` naming this tenant's origin on one of the base domains (scheme and port are the deployment's). */
function namesTenant(c: RequestScope, tenant: Pick<Tenant, 'slug'>) {
  return (iss: unknown) => {
    if (typeof iss !== 'string' || !URL.canParse(iss)) return false
    const host = classifyHost(new URL(iss).hostname, c.var.config.BASE_DOMAINS)
    return host.kind === 'tenant' && host.slug === tenant.slug
  }
}

/**
 * The key that may verify an access token naming `kid`, with what the token must also satisfy.
 * On a tenant host: the tenant's own current or previous key, with `aud` and `iss` of this
 * tenant — or, for a tenant that predates per-tenant keys, the platform key for tokens issued
 * before it adopted its own. On the platform host: the platform key (JWT_PRIVATE_KEY, and
 * JWT_PREVIOUS_PUBLIC_KEYS during its rotation).
 */
export async function accessTokenKey(c: RequestScope, tenant: Tenant | null, kid: string | undefined): Promise<VerificationKey | undefined> {
  const config = c.var.config
  const platform = await signingKeys(config.JWT_PRIVATE_KEY, config.JWT_PREVIOUS_PUBLIC_KEYS)
  const platformKey = platform.verifyKeys.get(kid ?? platform.kid)
  if (!tenant) return platformKey && { key: platformKey }
  const keys = await tenantKeys(tenantKeyDeps(c), tenant, kid)
  const own = kid === undefined ? undefined : keys.verifyKeys.get(kid)
  if (own) return { key: own, audience: tenantAudience(tenant.id), issuer: namesTenant(c, tenant) }
  if (platformKey && keys.adoptedAt !== null) return { key: platformKey, issuedBefore: Math.floor(keys.adoptedAt / 1000) + ADOPTION_SLACK_SECONDS }
  return undefined
}
