import { createRoute } from '@hono/zod-openapi'
import { requirePermission } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, json, security, body } from '../../openapi.ts'
import { memberActor } from './actor.ts'
import { registerInvitationRoutes } from './invitations.ts'
import { changeRole, removeMember } from './member-changes.ts'
import { listMembers, presentMember } from './member-store.ts'
import { requireSelfOrPermission } from '../../middleware/permission/self-or-permission.ts'
import { MemberListQuery, MemberPage, MemberSchema, UpdateMemberBody, UserIdParam } from './schemas.ts'

const tags = ['Members']

/** Members of the host's tenant (/v1/members) and invitations to join it (/v1/invitations). */
export function registerMemberRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('members:read')] as const,
      summary: 'List the members of the tenant (members:read, which the member role holds), in the order they joined; q searches email and name',
      request: { query: MemberListQuery },
      responses: { 200: json(MemberPage, 'A page of members'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const page = await listMembers(c.var.db, c.var.tenant, c.req.valid('query'))
      return c.json({ data: page.data.map(presentMember), next_cursor: page.nextCursor }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/{userId}', tags, security, middleware: [requirePermission('members:update')] as const,
      summary: 'Change a member’s role (members:update; granting or taking away owner: owners only; never to a role holding more than the caller; the last owner keeps the role)',
      request: { params: UserIdParam, ...body(UpdateMemberBody) },
      responses: { 200: json(MemberSchema, 'The member with the new role'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const member = await changeRole(c, c.var.tenant, memberActor(c), c.req.valid('param').userId, c.req.valid('json').role)
      return c.json(presentMember(member), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{userId}', tags, security, middleware: [requireSelfOrPermission('members:remove', 'userId')] as const,
      summary: 'Remove a member (members:remove; owners only for an owner), or leave with one’s own id (no permission needed); their sessions in this tenant end',
      request: { params: UserIdParam },
      responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      await removeMember(c, c.var.tenant, memberActor(c), c.req.valid('param').userId)
      return c.body(null, 204)
    },
  )

  app.route('/v1/members', router)
  registerInvitationRoutes(app)
}
