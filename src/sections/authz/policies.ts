import { sectionRouter } from '../../openapi.ts'

/** /v1/policies (built in a later change). */
export function policyRoutes() {
  return sectionRouter()
}
