import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import { commonError } from '../../errors.ts'
import { hashToken } from '../../identity/secrets.ts'
import type { Tenant } from '../../tenancy/registry.ts'

/** A tenant's service account, authenticated by its API key. */
export interface ApiKeyPrincipal {
  id: string
  name: string
  roles: string[]
  expiresAt: string | null
}

export interface ApiKeyVariables {
  apiKey: ApiKeyPrincipal | null
}

export const API_KEY_PREFIX = 'atr_'
const KEY_SHAPE = /^atr_[A-Za-z0-9_-]{43}$/
const MEMORY_TTL_MS = 5_000
const REDIS_TTL_SECONDS = 60
const memory = new Map<string, { principal: ApiKeyPrincipal | null; expires: number }>()

/** Redis cache of a key's principal, by tenant and key hash; deleted when the key is revoked. */
export const apiKeyCacheKey = (tenantId: string, keyHash: string) => `apikey:${tenantId}:${keyHash}`

function presented(c: Context<AppEnv>): string | undefined {
  const header = c.req.header('x-api-key')?.trim()
  if (header) return header
  const bearer = c.req.header('authorization')?.match(/^Bearer\s+(atr_\S+)$/i)?.[1]
  return bearer
}

async function lookup(c: Context<AppEnv>, tenant: Tenant, keyHash: string): Promise<ApiKeyPrincipal | null> {
  const cacheKey = apiKeyCacheKey(tenant.id, keyHash)
  const hit = memory.get(cacheKey)
  if (hit && hit.expires > Date.now()) return hit.principal
  let principal: ApiKeyPrincipal | null | undefined
  try {
    const cached = await c.var.redis.get<{ principal: ApiKeyPrincipal | null }>(cacheKey)
    principal = cached?.principal
  } catch (err) {
    c.var.logger.warn('API key cache unavailable; reading the database', { err })
  }
  if (principal === undefined) {
    const k = tenantTables(tenant.schemaName).apiKeys
    const rows = await c.var.db
      .select({ id: k.id, name: k.name, roles: k.roles, expiresAt: k.expiresAt })
      .from(k)
      .where(and(eq(k.keyHash, keyHash), isNull(k.revokedAt)))
      .limit(1)
    principal = rows[0] ?? null
    try {
      await c.var.redis.set(cacheKey, { principal }, { ex: REDIS_TTL_SECONDS })
    } catch {
      // best effort
    }
  }
  if (memory.size > 10_000) memory.clear()
  memory.set(cacheKey, { principal, expires: Date.now() + MEMORY_TTL_MS })
  return principal
}

/** Forget a key everywhere it is cached (on revocation). */
export async function forgetApiKey(c: Context<AppEnv>, tenant: Pick<Tenant, 'id'>, keyHash: string) {
  const cacheKey = apiKeyCacheKey(tenant.id, keyHash)
  memory.delete(cacheKey)
  await c.var.redis.del(cacheKey)
}

/**
 * Authenticate an API key from `X-API-Key` or `Authorization: Bearer atr_…` for the tenant the
 * request is for (its host, or X-Tenant-ID on the platform host where ALLOW_TENANT_HEADER allows
 * it): the key is looked up in that tenant's schema, so another tenant's key is simply unknown
 * there. Sets `apiKey`; JWT bearers are left to the JWT middleware.
 */
export function authenticateApiKey(): MiddlewareHandler<AppEnv & { Variables: ApiKeyVariables }> {
  return async function authenticateApiKeyMiddleware(c, next) {
    const key = presented(c as unknown as Context<AppEnv>)
    if (!key) {
      c.set('apiKey', null)
      return next()
    }
    if (c.var.auth) throw commonError('validation_failed', 'Send either an access token or an API key, not both.')
    const tenant = c.var.tenant
    if (!tenant) throw commonError('invalid_token', 'An API key is accepted only for its tenant: on its host, or with X-Tenant-ID where allowed.')
    if (!KEY_SHAPE.test(key)) throw commonError('invalid_token', 'The API key is invalid.')
    const keyHash = await hashToken(key)
    const principal = await lookup(c as unknown as Context<AppEnv>, tenant, keyHash)
    if (!principal) throw commonError('invalid_token', 'The API key is invalid or revoked.')
    if (principal.expiresAt && new Date(principal.expiresAt).getTime() <= Date.now()) throw commonError('invalid_token', 'The API key has expired.')
    c.set('apiKey', principal)
    // Record use at most once a minute, after the answer.
    const k = tenantTables(tenant.schemaName).apiKeys
    c.executionCtx.waitUntil(
      c.var.db
        .update(k)
        .set({ lastUsedAt: sql`now()` as unknown as string })
        .where(and(eq(k.id, principal.id), sql`(${k.lastUsedAt} is null or ${k.lastUsedAt} < now() - interval '60 seconds')`))
        .then(() => undefined, (err: unknown) => c.var.logger.warn('could not record API key use', { err })),
    )
    await next()
  }
}
