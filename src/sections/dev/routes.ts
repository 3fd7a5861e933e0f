import { createRoute, z } from '@hono/zod-openapi'
import type { sectionRouter } from '../../openapi.ts'
import { readOutbox } from '../../platform/mail/outbox.ts'
import { json } from '../../openapi.ts'

const Message = z.object({ to: z.string(), subject: z.string(), text: z.string(), html: z.string(), created_at: z.string() })

/**
 * GET /dev/outbox?to=<email>: mail kept by the outbox transport, newest first.
 * It answers only outside production with MAIL_TRANSPORT=outbox (elsewhere the same 404 as an unknown path), so it is
 * left out of /openapi.json (`hide`), the contract of production; docs/api/email-flows.md documents it.
 */
export function registerDevRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/dev/outbox', hide: true, tags: ['Development'], summary: 'Messages in the development outbox (not in production)',
      request: { query: z.object({ to: z.email() }) },
      responses: { 200: json(z.object({ messages: z.array(Message) }), 'Newest first') },
    }),
    async (c) => {
      const config = c.var.config
      if (config.ENVIRONMENT === 'production' || config.MAIL_TRANSPORT !== 'outbox') return c.json({ error: { code: 'not_found', message: 'No route for GET /dev/outbox.' } }, 404) as never
      return c.json({ messages: await readOutbox(c.var.redis, c.req.valid('query').to) }, 200)
    },
  )
}
