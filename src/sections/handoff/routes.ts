import { createRoute, z } from '@hono/zod-openapi'
import { requireAuth } from '../../middleware/auth/index.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, security, body, json } from '../../openapi.ts'
import { createHandoff, handoffTarget, sourceSession } from './handoff.ts'

export const HandoffBody = z.strictObject({ tenant: z.string().min(1).max(63).openapi({ description: 'Slug or id of the tenant to switch to' }) }).openapi('CreateHandoff')
export const Handoff = z
  .object({
    tenant: z.object({ id: z.uuid(), slug: z.string(), name: z.string() }),
    url: z.string().openapi({ description: 'The page on the target host that redeems the code (the code is in the fragment)' }),
    expires_in: z.number(),
  })
  .openapi('Handoff')

/**
 * POST /v1/auth/handoff on a tenant host (org switcher): a single-use, 60-second code for
 * another tenant of the user, redeemed on that tenant's host for its own session cookie
 * (POST /v1/auth/session/handoff). No cookie is ever shared across hosts.
 */
export function registerHandoffRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/auth/handoff', tags: ['Browser session'], security,
      middleware: [tenantHostOnly(), requireAuth()] as const,
      summary: 'Switch organization: a single-use, 60-second code to sign in on another tenant’s host',
      request: body(HandoffBody),
      responses: {
        201: json(Handoff, 'The code, in the URL of the page that redeems it'),
        ...errorResponses(400, 401, 403, 404, 503),
      },
    }),
    async (c) => {
      const userId = c.var.auth.sub
      const target = await handoffTarget(c, c.req.valid('json').tenant, userId)
      c.header('Cache-Control', 'no-store')
      const source = await sourceSession(c)
      return c.json(await createHandoff(c, target, userId, source.mfa, source.expiresAt), 201)
    },
  )
}
