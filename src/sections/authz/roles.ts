import { sectionRouter } from '../../openapi.ts'

/** /v1/roles (built in a later change). */
export function roleRoutes() {
  return sectionRouter()
}
