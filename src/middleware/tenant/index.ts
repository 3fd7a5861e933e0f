import type { MiddlewareHandler } from 'hono'
import { UUID_PATTERN } from '../../db/ids.ts'
import { fail } from '../../errors.ts'
import type { RedisRound } from '../../platform/redis-round.ts'
import type { TenantDirectory } from '../../tenancy/directory.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { slugProblem } from '../../tenancy/slug.ts'
import { classifyHost } from '../../tenancy/hosts.ts'

export interface TenantVariables {
  /** The tenant this request is for, or null on the platform (apex) host. */
  tenant: Tenant | null
}

/** Behind `tenantHostOnly` (and the gates that imply it): the tenant is there. */
export interface TenantHostVariables {
  tenant: Tenant
}

export interface TenantResolutionOptions {
  baseDomains: readonly string[]
  /** Whether non-browser clients may name the tenant with X-Tenant-ID on the platform host. */
  allowHeader: boolean
}

async function lookup(directory: TenantDirectory, key: string): Promise<Tenant | undefined> {
  if (UUID_PATTERN.test(key)) return directory.find({ id: key })
  // A string that cannot be a slug cannot name a tenant: answer without a lookup.
  if (slugProblem(key) && slugProblem(key) !== 'reserved') return undefined
  return directory.find({ slug: key })
}

export function resolveTenant(
  options: (c: Parameters<MiddlewareHandler>[0]) => TenantResolutionOptions,
): MiddlewareHandler<{ Variables: TenantVariables & { tenants: TenantDirectory; round?: RedisRound } }> {
  return async function resolveTenantMiddleware(c, next) {
    const { baseDomains, allowHeader } = options(c)
    const host = classifyHost(new URL(c.req.url).hostname, baseDomains)
    const header = c.req.header('x-tenant-id')?.trim().toLowerCase()

    let key: string | undefined
    if (host.kind === 'tenant') key = host.slug
    else if (header) {
      if (!allowHeader) throw fail(TenantErrors, 'tenant_header_not_allowed')
      key = header
    }
    // Hosts outside the base domains (the workers.dev name, a bare IP) serve the platform.
    if (key === undefined) {
      c.set('tenant', null)
      return next()
    }

    const directory = c.get('tenants')
    const tenant = await lookup(directory, key)
    if (!tenant || tenant.status === 'deleted') throw fail(TenantErrors, 'tenant_not_found')
    if (tenant.status === 'suspended') throw fail(TenantErrors, 'tenant_suspended')
    // This isolate's copy may predate a change made elsewhere: checked in the request's Redis round
    // (sent by the rate limiter, before any route), a suspension refused there.
    const round = c.get('round')
    if (round) directory.confirm(tenant, round)
    c.set('tenant', tenant)
    await next()
  }
}

/** Routes that exist only on a tenant host; gives the route's context a non-null `tenant`. */
export function tenantHostOnly(): MiddlewareHandler<{ Variables: TenantHostVariables }> {
  return async function tenantHostOnlyMiddleware(c, next) {
    if (!c.get('tenant')) throw fail(TenantErrors, 'tenant_required')
    await next()
  }
}

/** Routes that exist only on the platform host. */
export function platformHostOnly(): MiddlewareHandler<{ Variables: TenantVariables }> {
  return async function platformHostOnlyMiddleware(c, next) {
    if (c.get('tenant')) throw fail(TenantErrors, 'platform_host_required')
    await next()
  }
}
