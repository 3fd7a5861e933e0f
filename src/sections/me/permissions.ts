import { createRoute, z } from '@hono/zod-openapi'
import { ATRIUM_RESOURCE_TYPES } from '../../authz/atrium-types.ts'
import type { AuthzEngine, Subject } from '../../authz/engine.ts'
import { selfService } from '../../middleware/membership/index.ts'
import { callerCheck, requestAuthz } from '../../middleware/permission/index.ts'
import { errorResponses, type sectionRouter } from '../../openapi.ts'

const MyPermissions = z
  .object({
    permissions: z.array(z.string()).openapi({
      description: 'Every `type:action` of Atrium’s own resource types the caller may do tenant-wide now, decided one by one by the engine behind every endpoint (roles, bindings, policies; deny wins)',
      example: ['members:read', 'members:invite'],
    }),
    authz_version: z.number().int().openapi({ description: 'The version of the tenant’s authorization model the answer was decided on' }),
  })
  .openapi('MyPermissions')

/**
 * What the caller may do tenant-wide: each of Atrium's own permissions asked of the engine as the
 * caller's own request would be (its address, now, no resource instance), so the answer never
 * comes from role names and a deny policy or an expired binding counts exactly as on the endpoint.
 * Instance-scoped bindings grant nothing here: they apply to one resource, not to a screen.
 */
export function effectivePermissions(engine: AuthzEngine, subject: Subject, check: (type: string, action: string) => ReturnType<typeof callerCheck>): string[] {
  const allowed: string[] = []
  for (const [type, { actions }] of Object.entries(ATRIUM_RESOURCE_TYPES)) {
    for (const action of actions) if (engine.decide(check(type, action)).allowed) allowed.push(`${type}:${action}`)
  }
  return allowed
}

/** GET /v1/me/permissions: for a UI that shows what the caller may do (the server refuses anyway). */
export function registerMyPermissions(router: ReturnType<typeof sectionRouter>) {
  router.openapi(
    createRoute({
      method: 'get', path: '/permissions', middleware: selfService(), tags: ['Me'], security: [{ bearer: [] }],
      summary: 'The caller’s effective permissions in this tenant (Atrium’s own types), decided by the authorization engine',
      responses: { 200: { description: 'The permissions', content: { 'application/json': { schema: MyPermissions } } }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const engine = await requestAuthz(c)
      const subject: Subject = { type: 'user', id: c.var.auth.sub }
      c.header('Cache-Control', 'no-store')
      return c.json({ permissions: effectivePermissions(engine, subject, (type, action) => callerCheck(c, subject, type, action)), authz_version: engine.version }, 200)
    },
  )
}
