/**
 * Atrium's own resource types and their actions: the permissions its endpoints require
 * (`requirePermission('members:invite')`). They are checked like the types a tenant registers,
 * cannot be registered, changed or deleted by a tenant, and `*` patterns reach them too
 * (`*:*` held by owner and admin covers every Atrium endpoint).
 */
export const ATRIUM_RESOURCE_TYPES = {
  tenant: { description: 'The tenant itself', actions: ['read', 'update'] },
  members: { description: 'Members of the tenant', actions: ['read', 'invite', 'update', 'remove'] },
  invitations: { description: 'Pending invitations', actions: ['read', 'revoke'] },
  roles: { description: 'Roles and their permissions', actions: ['read', 'create', 'update', 'delete'] },
  role_bindings: { description: 'Who holds which role, tenant-wide or on one resource', actions: ['read', 'create', 'delete'] },
  resource_types: { description: 'Resource types registered by the tenant’s apps', actions: ['read', 'create', 'update', 'delete'] },
  policies: { description: 'ABAC allow and deny policies', actions: ['read', 'create', 'update', 'delete'] },
  authz: { description: 'Authorization decisions for the tenant’s apps (/v1/authz/check)', actions: ['check'] },
  api_keys: { description: 'API keys (service accounts)', actions: ['read', 'create', 'revoke'] },
  webhooks: { description: 'Webhook endpoints and their deliveries', actions: ['read', 'create', 'update', 'delete', 'test'] },
  oauth_providers: { description: 'The tenant’s own OAuth apps for social login', actions: ['read', 'update', 'delete'] },
  audit: { description: 'The tenant’s audit log', actions: ['read'] },
  signing_keys: { description: 'The tenant’s access-token signing keys', actions: ['read', 'rotate'] },
} as const satisfies Record<string, { description: string; actions: readonly string[] }>

export type AtriumResourceType = keyof typeof ATRIUM_RESOURCE_TYPES

/** Every `type:action` of Atrium's own types, as a union type (for `requirePermission`). */
export type AtriumPermission = {
  [T in AtriumResourceType]: `${T}:${(typeof ATRIUM_RESOURCE_TYPES)[T]['actions'][number]}`
}[AtriumResourceType]

export const isAtriumResourceType = (name: string): name is AtriumResourceType => Object.hasOwn(ATRIUM_RESOURCE_TYPES, name)

/** The built-in roles, seeded in every tenant by migrations/0003_authorization.ts. */
export const BUILT_IN_ROLE_NAMES = ['owner', 'admin', 'member'] as const

/** Built-in roles whose permissions are fixed (they hold every permission of the tenant). */
export const FIXED_ROLES: readonly string[] = ['owner', 'admin']
