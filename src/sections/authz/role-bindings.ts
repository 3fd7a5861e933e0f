import { sectionRouter } from '../../openapi.ts'

/** /v1/role-bindings (built in a later change). */
export function roleBindingRoutes() {
  return sectionRouter()
}
