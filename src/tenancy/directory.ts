import type { Database } from '../platform/database.ts'
import type { Logger } from '../platform/logger.ts'
import type { Redis } from '../platform/redis.ts'
import { findTenantById, findTenantBySlug, type Tenant } from './registry.ts'

/**
 * Tenant lookups for every request, cached at two levels so a warm request needs no SQL:
 * an in-isolate map with a short TTL, then Redis. Every change to a tenant calls
 * `invalidate`, which clears both; other isolates see the change once their in-isolate
 * entry expires (TENANT_CACHE_TTL_SECONDS, 5 s by default). Misses are cached too, briefly,
 * so a flood of unknown subdomains does not reach the database.
 */
export interface TenantDirectory {
  find(key: TenantKey): Promise<Tenant | undefined>
  invalidate(tenant: Pick<Tenant, 'id' | 'slug'>): Promise<void>
}

export type TenantKey = { slug: string } | { id: string }

interface Entry {
  tenant: Tenant | null
  expires: number
}

const MAX_ENTRIES = 10_000
const memory = new Map<string, Entry>()
const MISS_TTL_SECONDS = 30

const keyOf = (key: TenantKey) => ('slug' in key ? `tenant:slug:${key.slug}` : `tenant:id:${key.id}`)

/** The Redis keys of a tenant's cached copies (the `tenant_changed` effect deletes them). */
export const tenantCacheKeys = (tenant: Pick<Tenant, 'id' | 'slug'>) => [keyOf({ slug: tenant.slug }), keyOf({ id: tenant.id })]

/** Drop this isolate's copies of a tenant (other isolates' expire within TENANT_CACHE_TTL_SECONDS). */
export function forgetTenantLocally(tenant: Pick<Tenant, 'id' | 'slug'>): void {
  for (const key of tenantCacheKeys(tenant)) memory.delete(key)
}

function remember(key: string, tenant: Tenant | null, ttlMs: number) {
  if (ttlMs <= 0) return
  if (memory.size >= MAX_ENTRIES) memory.delete(memory.keys().next().value!)
  memory.set(key, { tenant, expires: Date.now() + ttlMs })
}

export function tenantDirectory(deps: {
  db: Database
  redis: Redis
  logger: Logger
  memoryTtlSeconds: number
  redisTtlSeconds: number
}): TenantDirectory {
  const memoryTtlMs = deps.memoryTtlSeconds * 1000

  async function fromRedis(key: string): Promise<Tenant | null | undefined> {
    try {
      const cached = await deps.redis.get<{ tenant: Tenant | null }>(key)
      return cached === null ? undefined : cached.tenant
    } catch (err) {
      deps.logger.warn('tenant cache read failed; falling back to the database', { err, key })
      return undefined
    }
  }

  async function toRedis(key: string, tenant: Tenant | null) {
    try {
      await deps.redis.set(key, { tenant }, { ex: tenant ? deps.redisTtlSeconds : MISS_TTL_SECONDS })
    } catch (err) {
      deps.logger.warn('tenant cache write failed', { err, key })
    }
  }

  return {
    async find(key) {
      const cacheKey = keyOf(key)
      const hit = memory.get(cacheKey)
      if (hit && hit.expires > Date.now()) return hit.tenant ?? undefined
      let tenant = await fromRedis(cacheKey)
      if (tenant === undefined) {
        tenant = ('slug' in key ? await findTenantBySlug(deps.db, key.slug) : await findTenantById(deps.db, key.id)) ?? null
        await toRedis(cacheKey, tenant)
      }
      remember(cacheKey, tenant, tenant ? memoryTtlMs : Math.min(memoryTtlMs, MISS_TTL_SECONDS * 1000))
      return tenant ?? undefined
    },

    async invalidate(tenant) {
      const keys = [keyOf({ slug: tenant.slug }), keyOf({ id: tenant.id })]
      for (const key of keys) memory.delete(key)
      try {
        await deps.redis.del(...keys)
      } catch (err) {
        // The entry would outlive the change by up to TENANT_REDIS_CACHE_TTL_SECONDS: say so loudly.
        deps.logger.error('tenant cache invalidation failed', { err, keys })
      }
    },
  }
}
