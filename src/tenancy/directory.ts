import type { Database } from '../platform/database.ts'
import type { Logger } from '../platform/logger.ts'
import type { Redis } from '../platform/redis.ts'
import { fail } from '../errors.ts'
import type { RedisRound } from '../platform/redis-round.ts'
import { TenantErrors } from './errors.ts'
import { findTenantById, findTenantBySlug, type Tenant } from './registry.ts'

/**
 * Tenant lookups for every request, cached at two levels so a warm request needs no SQL:
 * an in-isolate map with a short TTL, then Redis. Every change to a tenant calls
 * `invalidate`, which clears both. Another isolate's copy is checked by `confirm` on every
 * request, in the request's Redis round (no request of its own): the Redis entry gone (a change
 * invalidated it) sends the request to the database, so a suspension or deletion is refused by
 * the next request in any isolate; other changes (settings) show there from the next request on,
 * or once the in-isolate entry expires (TENANT_CACHE_TTL_SECONDS, 5 s by default). Misses are
 * cached too, briefly, so a flood of unknown subdomains does not reach the database.
 */
export interface TenantDirectory {
  find(key: TenantKey): Promise<Tenant | undefined>
  invalidate(tenant: Pick<Tenant, 'id' | 'slug'>): Promise<void>
  /** Check `tenant` (as found for this request) against Redis in `round`: its check refuses a tenant suspended or deleted since. */
  confirm(tenant: Tenant, round: RedisRound): void
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

/**
 * Drop every copy this isolate holds: after it could not trust Redis (src/changes/drain.ts), a
 * change may have been applied by another isolate meanwhile, which this one cannot know of.
 */
export function forgetAllTenantsLocally(): void {
  memory.clear()
}

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
      // Only an active tenant is kept in the isolate: a suspended or deleted one is read from Redis on
      // each request, so its resumption elsewhere (which invalidates Redis) shows at once here too.
      if (!tenant) remember(cacheKey, null, Math.min(memoryTtlMs, MISS_TTL_SECONDS * 1000))
      else if (tenant.status === 'active') remember(cacheKey, tenant, memoryTtlMs)
      return tenant ?? undefined
    },

    confirm(tenant, round) {
      const key = keyOf({ id: tenant.id })
      round.prefetch(key)
      round.check(async () => {
        let entry: { tenant: Tenant | null } | null
        try {
          entry = await round.get<{ tenant: Tenant | null }>(key)
        } catch {
          return // Redis down: the isolate's copy stands, as for a lookup
        }
        let current = entry?.tenant
        if (entry === null) {
          // Invalidated by a change (or expired): the database decides, and the caches are refilled.
          current = (await findTenantById(deps.db, tenant.id)) ?? null
          await toRedis(key, current)
        }
        if (current?.updatedAt !== tenant.updatedAt || current?.status !== tenant.status) {
          for (const k of [key, keyOf({ slug: tenant.slug })]) memory.delete(k)
          if (current?.status === 'active') {
            remember(key, current, memoryTtlMs)
            remember(keyOf({ slug: current.slug }), current, memoryTtlMs)
          }
        }
        if (!current || current.status === 'deleted') throw fail(TenantErrors, 'tenant_not_found')
        if (current.status === 'suspended') throw fail(TenantErrors, 'tenant_suspended')
      })
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
