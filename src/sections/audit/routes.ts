import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, gte, like, lt } from 'drizzle-orm'
import { tenantTables } from '../../db/tenant-schema.ts'
import { requirePermission } from '../../middleware/permission/index.ts'
import { errorResponses, sectionRouter, security, json } from '../../openapi.ts'

const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.uuid().optional().openapi({ description: 'next_cursor of the previous page' }),
  actor: z.string().max(100).optional().openapi({ description: 'Actor id (a user id, or an API key id)' }),
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, 'an action such as member.invited, or a prefix such as member.*')
    .optional()
    .openapi({ example: 'member.*' }),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Inclusive lower bound (ISO 8601)' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Exclusive upper bound (ISO 8601)' }),
})

const AuditEntry = z
  .object({
    id: z.uuid(),
    actor_type: z.string(),
    actor_id: z.string().nullable(),
    action: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    outcome: z.string(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .openapi('AuditEntry')

/** GET /v1/audit: the tenant's audit log, newest first, for callers holding audit:read. */
export function registerAuditRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/audit', tags: ['Audit'], security,
      summary: 'Audit log of the tenant (audit:read): filters by actor, action (or prefix.*) and time range; cursor pagination, newest first',
      middleware: [requirePermission('audit:read')] as const,
      request: { query: AuditQuery },
      responses: {
        200: json(z.object({ data: z.array(AuditEntry), next_cursor: z.string().nullable() }), 'A page of entries'),
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const q = c.req.valid('query')
      const log = tenantTables(c.var.tenant.schemaName).auditLog
      const where = and(
        q.cursor ? lt(log.id, q.cursor) : undefined,
        q.actor ? eq(log.actorId, q.actor) : undefined,
        q.action ? (q.action.endsWith('.*') ? like(log.action, `${q.action.slice(0, -1).replace(/_/g, '\\_')}%`) : eq(log.action, q.action)) : undefined,
        q.from ? gte(log.createdAt, new Date(q.from).toISOString()) : undefined,
        q.to ? lt(log.createdAt, new Date(q.to).toISOString()) : undefined,
      )
      const rows = await c.var.db.select().from(log).where(where).orderBy(desc(log.id)).limit(q.limit + 1)
      const page = rows.slice(0, q.limit)
      return c.json({
        data: page.map((e) => ({
          id: e.id,
          actor_type: e.actorType,
          actor_id: e.actorId,
          action: e.action,
          target_type: e.targetType,
          target_id: e.targetId,
          outcome: e.outcome,
          ip: e.ip,
          user_agent: e.userAgent,
          details: e.details,
          created_at: new Date(e.createdAt).toISOString(),
        })),
        next_cursor: rows.length > q.limit ? page.at(-1)!.id : null,
      }, 200)
    },
  )
}
