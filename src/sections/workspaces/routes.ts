import { createRoute, z } from '@hono/zod-openapi'
import { platformHostOnly, tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, json, body } from '../../openapi.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { MfaRequired, TokenResponse } from '../../identity/schemas.ts'
import { Handoff } from '../handoff/routes.ts'
import { createWithSelection, exchangeSelection, handOffSelection } from './select.ts'
import { CreatedWorkspace, CreateWithSelectionBody, SelectBody, SelectHandoffBody } from './schemas.ts'

const tags = ['Auth: workspaces']

/**
 * The second step of a platform sign-in (POST /v1/auth/login on the platform host answers the
 * workspaces and a selection credential): /v1/auth/select on the chosen tenant's host, or
 * /v1/auth/workspaces on the platform host to create a new organization.
 */
export function registerWorkspaceRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/select', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Exchange the selection credential of a platform sign-in for a sign-in on this tenant (tokens, or an MFA challenge)',
      request: body(SelectBody),
      responses: { 200: json(z.union([TokenResponse, MfaRequired]), 'Tokens, or mfa_required with an mfa_token'), ...errorResponses(400, 401, 403, 404, 429, 503) },
    }),
    async (c) => c.json(await exchangeSelection(c, c.var.tenant, c.req.valid('json').selection_token), 200),
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/select/handoff', tags, middleware: [platformHostOnly(), credentialThrottle] as const,
      summary: 'The web app’s workspace picker: the selection credential of a platform sign-in for a single-use, 60-second handoff code to the chosen tenant’s host',
      request: body(SelectHandoffBody),
      responses: { 201: json(Handoff, 'The code, in the URL of the tenant’s page that redeems it (MFA, if on, is asked there)'), ...errorResponses(400, 401, 403, 404, 429, 503) },
    }),
    async (c) => {
      const { selection_token: token, tenant } = c.req.valid('json')
      c.header('Cache-Control', 'no-store')
      return c.json(await handOffSelection(c, token, tenant), 201)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/workspaces', tags, middleware: [platformHostOnly(), credentialThrottle] as const,
      summary: 'Create a new organization with the selection credential of a platform sign-in; the user owns it and is signed in there',
      request: body(CreateWithSelectionBody),
      responses: { 201: json(CreatedWorkspace, 'The new organization, with tokens or an MFA challenge for it'), ...errorResponses(400, 401, 403, 404, 409, 429, 503) },
    }),
    async (c) => {
      const { selection_token: token, ...input } = c.req.valid('json')
      return c.json(await createWithSelection(c, token, input), 201)
    },
  )

  app.route('/v1/auth', router)
}
