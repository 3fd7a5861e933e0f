import type { sectionRouter } from '../../openapi.ts'
import { checkRoutes } from './check.ts'
import { policyRoutes } from './policies.ts'
import { resourceTypeRoutes } from './resource-types.ts'
import { roleBindingRoutes } from './role-bindings.ts'
import { roleRoutes } from './roles.ts'

/**
 * The authorization section (docs/api/authorization.md): the tenant's model (resource types,
 * roles, role bindings, policies) and the decisions made from it. Every change goes through
 * `modelChange` (changes.ts) through `commitChange`: one batch with the version bump, audit entry, event and the version's publication.
 */
export function registerAuthzRoutes(app: ReturnType<typeof sectionRouter>) {
  app.route('/v1/resource-types', resourceTypeRoutes())
  app.route('/v1/roles', roleRoutes())
  app.route('/v1/role-bindings', roleBindingRoutes())
  app.route('/v1/policies', policyRoutes())
  app.route('/v1/authz', checkRoutes())
}
