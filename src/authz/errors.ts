import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Error codes of the authorization section (docs/api/authorization.md lists them). */
export const AuthzErrors = {
  unknown_resource_type: [400, 'Unknown resource type.'],
  unknown_action: [400, 'This resource type has no such action.'],
  invalid_permission: [400, 'A permission names an unknown resource type or action.'],
  invalid_resource_attributes: [400, 'The resource attributes do not match the resource type’s attribute schema.'],
  invalid_conditions: [400, 'The policy conditions are not valid.'],
  unknown_role: [400, 'Unknown role.'],
  unknown_subject: [400, 'The subject is not a member or an active API key of this organization.'],
  reserved_resource_type: [400, 'This name belongs to one of Atrium’s own resource types.'],
  built_in_resource_type: [400, 'Atrium’s own resource types cannot be changed.'],
  built_in_role: [400, 'Built-in roles cannot be renamed or deleted, and owner and admin keep every permission.'],
  grant_exceeds_own: [403, 'You cannot grant permissions you do not hold yourself.'],
  permission_denied: [403, 'You are not allowed to do this.'],
  resource_type_not_found: [404, 'No such resource type.'],
  role_not_found: [404, 'No such role.'],
  role_binding_not_found: [404, 'No such role binding.'],
  policy_not_found: [404, 'No such policy.'],
  resource_type_exists: [409, 'A resource type with this name already exists.'],
  role_exists: [409, 'A role with this name already exists.'],
  role_binding_exists: [409, 'This subject already holds this role on this resource.'],
  policy_exists: [409, 'A policy with this name already exists.'],
  resource_type_in_use: [409, 'Roles, policies or bindings use this resource type; remove them first or pass force=true.'],
  role_in_use: [409, 'Role bindings or API keys use this role; remove them first or pass force=true.'],
  resource_type_limit_reached: [409, 'This organization has reached its number of resource types.'],
  policy_limit_reached: [409, 'This organization has reached its number of policies.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
