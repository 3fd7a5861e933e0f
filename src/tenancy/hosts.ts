import type { RequestScope } from '../platform/request-scope.ts'
import type { Tenant } from './registry.ts'

export type HostKind = { kind: 'platform' } | { kind: 'tenant'; slug: string } | { kind: 'unknown' }

/**
 * Read the subdomain from the request URL (test requests carry no Host header, and Workers
 * put the real host in the URL). `acme.example.com` with base `example.com` names the
 * tenant `acme`; the base itself is the platform host; a host outside every base is unknown.
 */
export function classifyHost(hostname: string, baseDomains: readonly string[]): HostKind {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  for (const base of baseDomains) {
    if (host === base) return { kind: 'platform' }
    if (host.endsWith(`.${base}`)) {
      // A nested label (`a.b.example.com`) is kept whole: it is no valid slug, so it answers 404.
      return { kind: 'tenant', slug: host.slice(0, -(base.length + 1)) }
    }
  }
  return { kind: 'unknown' }
}

/** The URL of a tenant as seen from this request: same scheme, the tenant's label on the platform host. */
export function tenantUrl(c: RequestScope, tenant: Pick<Tenant, 'slug'>): string {
  const url = new URL(c.req.url)
  const config = c.var.config
  const host = url.hostname.toLowerCase()
  const base = config.BASE_DOMAINS.find((b) => host === b || host.endsWith(`.${b}`)) ?? config.BASE_DOMAINS[0]!
  return `${url.protocol}//${tenant.slug}.${base}${url.port ? `:${url.port}` : ''}`
}
