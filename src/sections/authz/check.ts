import { createRoute } from '@hono/zod-openapi'
import type { AuthzEngine, CheckInput, Decision } from '../../authz/engine.ts'
import { AppError } from '../../errors.ts'
import { requirePermission } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, body, json, security } from '../../openapi.ts'
import { Check, CheckBatch, Decision as DecisionSchema, DecisionBatch } from './schemas.ts'

const tags = ['Authorization: checks']

/**
 * Answer one check against the tenant's compiled model. A subject that is not a member or a live
 * API key of THIS tenant is never allowed (its id is simply not in this tenant's model), whatever
 * roles or policies say. Unknown resource types and actions are the caller's mistake: 400.
 */
function answer(engine: AuthzEngine, check: CheckInput, now: number): Decision {
  engine.assertCheckable(check)
  return engine.decide(check, now)
}

/** /v1/authz: decisions for the tenant's own applications, by the engine Atrium's endpoints use. */
export function checkRoutes() {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/check', tags, security, middleware: [requirePermission('authz:check')] as const,
      summary: 'May this subject do this action on this resource? Answers allowed and the binding, role or policy that decided',
      request: body(Check),
      responses: { 200: json(DecisionSchema, 'The decision'), ...errorResponses(400, 401, 403, 404, 429) },
    }),
    async (c) => {
      const engine = c.var.authz
      return c.json(answer(engine, c.req.valid('json') as CheckInput, Date.now()), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/check-batch', tags, security, middleware: [requirePermission('authz:check')] as const,
      summary: 'Up to 100 checks, answered in order against one version of the model; one invalid check refuses the batch (400, details.index)',
      request: body(CheckBatch),
      responses: { 200: json(DecisionBatch, 'One decision per check, in order'), ...errorResponses(400, 401, 403, 404, 429) },
    }),
    async (c) => {
      const engine = c.var.authz
      const checks = c.req.valid('json').checks as CheckInput[]
      const now = Date.now()
      const results = checks.map((check, index) => {
        try {
          return answer(engine, check, now)
        } catch (err) {
          if (err instanceof AppError) {
            const details = { index, ...(typeof err.details === 'object' && err.details !== null ? err.details : {}) }
            throw new AppError(err.status, err.code, `checks[${index}]: ${err.message}`, details)
          }
          throw err
        }
      })
      return c.json({ results }, 200)
    },
  )

  return router
}
