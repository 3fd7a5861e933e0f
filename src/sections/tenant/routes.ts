import { createRoute } from '@hono/zod-openapi'
import type { AppScope } from '../../app-env.ts'
import { changeDeps } from '../../changes/commit.ts'
import { ATRIUM_RESOURCE_TYPES } from '../../authz/atrium-types.ts'
import { requestMeta } from '../../identity/audit.ts'
import { callerCheck, callerSubject, requestAuthz, requirePermission, type AuthzHolder } from '../../middleware/permission/index.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, type sectionRouter, json, security, body } from '../../openapi.ts'
import { changeTenant } from '../../tenancy/change-tenant.ts'
import { CurrentTenant, ownSettingsView, presentCurrentTenant, UpdateOwnTenantBody } from './schemas.ts'

const tags = ['Tenant']

/**
 * What the signed-in caller (user or API key) is here: its built-in role and which of Atrium's own
 * permissions it holds tenant-wide, decided by the same engine as requirePermission (policies
 * included). The model is already in the isolate or one Redis read away; the decisions are in-process.
 */
async function callerView(c: AppScope & AuthzHolder) {
  const subject = callerSubject(c)
  if (!subject) return {}
  const engine = await requestAuthz(c)
  if (!engine.isSubject(subject)) return { role: null, permissions: [] as string[] }
  const permissions = Object.entries(ATRIUM_RESOURCE_TYPES).flatMap(([type, { actions }]) =>
    actions.filter((action) => engine.decide(callerCheck(c, subject, type, action)).allowed).map((action) => `${type}:${action}`),
  )
  return { role: subject.type === 'user' ? (engine.memberRole(subject.id) ?? null) : null, permissions }
}

/** GET and PATCH /v1/tenant on a tenant host: the tenant the host names. */
export function registerCurrentTenantRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/tenant', tags, summary: 'The tenant this host belongs to; signed in, also the caller’s role and permissions here',
      middleware: [tenantHostOnly()] as const,
      responses: { 200: json(CurrentTenant, 'The tenant'), ...errorResponses(401, 403, 404, 429) },
    }),
    async (c) => {
      const tenant = c.get('tenant')
      const caller = await callerView(c)
      const settings = caller.permissions?.includes('tenant:update') ? { settings: ownSettingsView(tenant) } : {}
      return c.json({ ...presentCurrentTenant(tenant), ...caller, ...settings }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch', path: '/v1/tenant', tags, security,
      summary: 'Change the tenant’s own name and settings (tenant:update; settings merge per RFC 7396, validated as on the platform API)',
      middleware: [requirePermission('tenant:update')] as const,
      request: body(UpdateOwnTenantBody),
      responses: { 200: json(CurrentTenant, 'The updated tenant'), ...errorResponses(400, 401, 403, 404, 409, 415) },
    }),
    async (c) => {
      const subject = c.var.subject
      const updated = await changeTenant(changeDeps(c), c.var.tenant.id, c.req.valid('json'), { actorType: subject.type, actorId: subject.id, ...requestMeta(c) })
      return c.json({ ...presentCurrentTenant(updated), settings: ownSettingsView(updated) }, 200)
    },
  )
}
