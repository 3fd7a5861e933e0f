import { authzSnapshotKey } from '../../authz/cache.ts'
import { compileAuthz } from '../../authz/engine.ts'
import type { AuthzSnapshot } from '../../authz/snapshot.ts'
import type { Database } from '../../platform/database.ts'
import type { Logger } from '../../platform/logger.ts'
import type { Redis } from '../../platform/redis.ts'
import type { Tenant } from '../../tenancy/registry.ts'

/*
 * Stand-ins for the middleware tests that read the tenant's authorization model
 * (src/middleware/permission, src/middleware/membership): the request's model compiled from a
 * snapshot (as the cache would hand it over), and a recording database and Redis that answer the
 * one re-check a stranger costs: the database's model version (SQL) and the snapshot at that
 * version (Redis).
 */
export const ALICE = '018f0000-0000-7000-8000-00000000a11c'
export const BOB = '018f0000-0000-7000-8000-000000000b0b'
export const CAROL = '018f0000-0000-7000-8000-0000000ca201'
export const KEY = '018f0000-0000-7000-8000-0000000000ee'
export const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent }

export function snapshot(version: number, overrides: Partial<AuthzSnapshot> = {}): AuthzSnapshot {
  return {
    version,
    builtAt: Date.now(),
    types: [['invoice', ['read', 'approve'], null]],
    roles: [
      ['r-owner', 'owner', ['*:*']],
      ['r-member', 'member', ['members:read']],
      ['r-inviter', 'inviter', ['members:invite']],
    ],
    bindings: [],
    policies: [],
    members: [[ALICE, 'member'], [BOB, 'owner']],
    apiKeys: [[KEY, ['inviter'], null]],
    ...overrides,
  }
}

/** A tenant of its own (the engine cache is per isolate), the cached model, and the stand-ins answering a re-check from `database`. */
export function authzStandIns(cached: AuthzSnapshot, database: AuthzSnapshot = cached) {
  const reads = { sql: 0 }
  const tenantId = crypto.randomUUID()
  const tenant = { id: tenantId, schemaName: `tenant_${tenantId.replaceAll('-', '')}`, settings: {} } as unknown as Tenant
  const store = new Map<string, unknown>([[authzSnapshotKey(tenantId), database]])
  const redis = {
    get: async (key: string) => store.get(key) ?? null,
    set: async (key: string, value: unknown) => (store.set(key, value), 'OK'),
  } as unknown as Redis
  // databaseVersion: select version from authz_state limit 1
  const chain = { from: () => chain, where: () => chain, limit: async () => (reads.sql++, [{ version: database.version }]) }
  const db = { select: () => chain } as unknown as Database
  /** What the request context and the model cache put on the context before the middleware runs. */
  const vars = { db, redis, logger: silent, authz: compileAuthz(cached) }
  return { reads, tenant, vars }
}
