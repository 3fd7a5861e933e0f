import { and, eq, isNull, sql } from 'drizzle-orm'
import { tenantTables } from '../db/tenant-schema.ts'
import type { Services } from '../platform/request-scope.ts'
import type { Tenant } from '../tenancy/registry.ts'

/** A tenant's service account, authenticated by its API key. */
export interface ApiKeyPrincipal {
  id: string
  name: string
  roles: string[]
  expiresAt: string | null
}

export const API_KEY_PREFIX = 'atr_'
/** `atr_` and 32 random bytes, base64url. */
export const API_KEY_SHAPE = /^atr_[A-Za-z0-9_-]{43}$/
const MEMORY_TTL_MS = 5_000
const REDIS_TTL_SECONDS = 60
const memory = new Map<string, { principal: ApiKeyPrincipal | null; expires: number }>()

/** Redis cache of a key's principal, by tenant and key hash; deleted when the key is revoked. */
export const apiKeyCacheKey = (tenantId: string, keyHash: string) => `apikey:${tenantId}:${keyHash}`

type Deps = Pick<Services, 'db' | 'redis' | 'logger'>

/**
 * The live (unrevoked) key with this hash in the tenant's schema, or null. Cached per isolate for
 * a few seconds and in Redis for a minute (both dropped by `forgetApiKey` on revocation); Redis
 * trouble falls back to the database.
 */
export async function findApiKey(deps: Deps, tenant: Pick<Tenant, 'id' | 'schemaName'>, keyHash: string): Promise<ApiKeyPrincipal | null> {
  const cacheKey = apiKeyCacheKey(tenant.id, keyHash)
  const hit = memory.get(cacheKey)
  if (hit && hit.expires > Date.now()) return hit.principal
  let principal: ApiKeyPrincipal | null | undefined
  try {
    const cached = await deps.redis.get<{ principal: ApiKeyPrincipal | null }>(cacheKey)
    principal = cached?.principal
  } catch (err) {
    deps.logger.warn('API key cache unavailable; reading the database', { err })
  }
  if (principal === undefined) {
    const k = tenantTables(tenant.schemaName).apiKeys
    const rows = await deps.db
      .select({ id: k.id, name: k.name, roles: k.roles, expiresAt: k.expiresAt })
      .from(k)
      .where(and(eq(k.keyHash, keyHash), isNull(k.revokedAt)))
      .limit(1)
    principal = rows[0] ?? null
    try {
      await deps.redis.set(cacheKey, { principal }, { ex: REDIS_TTL_SECONDS })
    } catch {
      // best effort
    }
  }
  if (memory.size > 10_000) memory.clear()
  memory.set(cacheKey, { principal, expires: Date.now() + MEMORY_TTL_MS })
  return principal
}

/** Drop this isolate's copy of a key (the `api_key_revoked` effect drops the Redis one, src/changes/effects.ts). */
export function forgetApiKeyLocally(tenantId: string, keyHash: string): void {
  memory.delete(apiKeyCacheKey(tenantId, keyHash))
}

/** Forget a key everywhere it is cached (on revocation). */
export async function forgetApiKey(deps: Pick<Services, 'redis'>, tenant: Pick<Tenant, 'id'>, keyHash: string) {
  const cacheKey = apiKeyCacheKey(tenant.id, keyHash)
  memory.delete(cacheKey)
  await deps.redis.del(cacheKey)
}

/** Record that the key was used, at most once a minute (a conditional UPDATE). */
export function recordApiKeyUse(deps: Pick<Services, 'db'>, tenant: Pick<Tenant, 'schemaName'>, keyId: string) {
  const k = tenantTables(tenant.schemaName).apiKeys
  return deps.db
    .update(k)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(k.id, keyId), sql`(${k.lastUsedAt} is null or ${k.lastUsedAt} < now() - interval '60 seconds')`))
}
