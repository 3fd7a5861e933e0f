import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const TenantErrors = {
  tenant_not_found: [404, 'No tenant answers at this address.'],
  tenant_suspended: [403, 'This tenant is suspended.'],
  tenant_required: [404, 'This endpoint is served on a tenant host (https://<tenant>.<domain>).'],
  platform_host_required: [404, 'This endpoint is served on the platform host only.'],
  tenant_header_not_allowed: [400, 'The X-Tenant-ID header is not accepted by this deployment.'],
  slug_taken: [409, 'A tenant with this slug already exists.'],
  tenant_conflict: [409, 'The tenant changed meanwhile; read it again and retry.'],
  tenant_not_active: [409, 'The tenant is not active: resume it first.'],
  invalid_transition: [409, 'The tenant cannot make this change from its current status.'],
  purge_requires_deleted: [409, 'Only a deleted tenant can be purged.'],
  tenant_creation_disabled: [403, 'Creating organizations is turned off on this deployment; ask the platform operator.'],
  tenant_limit_reached: [409, 'This account owns as many organizations as it may.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
