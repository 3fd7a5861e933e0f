import { createRoute, z } from '@hono/zod-openapi'
import { requirePermission } from '../../middleware/permission/index.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { ErrorSchema, errorResponses, sectionRouter, json, body, security } from '../../openapi.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { acceptInvitation } from './accept.ts'
import { memberActor } from './actor.ts'
import { createInvitation, listPendingInvitations, presentInvitation, revokeInvitation } from './invite.ts'
import { AcceptedInvitation, AcceptedNeedsMfa, AcceptInvitationBody, CreateInvitationBody, InvitationIdParam, InvitationPage, InvitationSchema, PageQuery } from './schemas.ts'
import { idempotent, IdempotencyKeyHeader } from '../../middleware/idempotency/index.ts'

const tags = ['Invitations']

/** Invitations to join the host's tenant: /v1/invitations (members:invite, invitations:read|revoke) and /v1/invitations/accept (the invitee). */
export function registerInvitationRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/', tags, security, middleware: [requirePermission('members:invite'), idempotent()] as const,
      summary: 'Invite someone by email (members:invite; an owner invitation: owners only; never a role holding more than the caller). Mails a single-use accept link valid 7 days.',
      request: { ...body(CreateInvitationBody), headers: IdempotencyKeyHeader },
      responses: { 201: json(InvitationSchema, 'The invitation (the token is only in the email)'), ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
    }),
    async (c) => {
      const row = await createInvitation(c, c.var.tenant, memberActor(c), c.req.valid('json'))
      return c.json(presentInvitation(row), 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/', tags, security, middleware: [requirePermission('invitations:read')] as const,
      summary: 'Pending invitations (invitations:read), newest first',
      request: { query: PageQuery },
      responses: { 200: json(InvitationPage, 'A page of pending invitations'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const page = await listPendingInvitations(c, c.var.tenant, c.req.valid('query'))
      return c.json({ data: page.data.map(presentInvitation), next_cursor: page.nextCursor }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/{id}', tags, security, middleware: [requirePermission('invitations:revoke')] as const,
      summary: 'Revoke a pending invitation (invitations:revoke): its link stops working',
      request: { params: InvitationIdParam },
      responses: { 200: json(InvitationSchema, 'The revoked invitation'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const row = await revokeInvitation(c, c.var.tenant, memberActor(c), c.req.valid('param').id)
      return c.json(presentInvitation(row), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/accept', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Accept an invitation with the token of its link: creates the account (new email, with password) or proves it (existing account, its password), joins the tenant and signs in',
      request: body(AcceptInvitationBody),
      responses: {
        200: json(z.union([AcceptedInvitation, AcceptedNeedsMfa]), 'Joined: tokens, or mfa_required with an mfa_token when the account has TOTP on'),
        ...errorResponses(400, 401, 403, 404, 409, 429),
        410: json(ErrorSchema, 'invitation_used, invitation_revoked or invitation_expired'),
      },
    }),
    async (c) => c.json(await acceptInvitation(c, c.var.tenant, c.req.valid('json')), 200),
  )

  app.route('/v1/invitations', router)
}
