import { z } from '@hono/zod-openapi'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { isSubscribable, SUBSCRIBABLE_EVENT_TYPES } from '../../webhooks/outbox.ts'
import { MAX_WEBHOOK_URL_LENGTH } from '../../webhooks/url.ts'

export const WebhookErrors = {
  webhook_not_found: [404, 'No such webhook.'],
  delivery_not_found: [404, 'No such delivery for this webhook.'],
  invalid_webhook_url: [400, 'This URL cannot receive webhooks.'],
  webhook_limit_reached: [409, 'This organization has reached its number of webhooks.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>

/** Endpoints per tenant: each event fans out to every subscribed endpoint, so the fan-out stays bounded. */
export const MAX_WEBHOOKS_PER_TENANT = 20

const Url = z.string().trim().min(1).max(MAX_WEBHOOK_URL_LENGTH).openapi({
  description: 'Where deliveries are POSTed: https (http only in development); no private or loopback address in production',
  example: 'https://hooks.example.com/atrium',
})

const Events = z
  .array(
    z.string().min(1).max(100).refine(isSubscribable, {
      error: (issue) => `unknown event type ${JSON.stringify(issue.input)}: use ${SUBSCRIBABLE_EVENT_TYPES.join(', ')}, a group such as member.*, or *`,
    }),
  )
  .min(1)
  .max(50)
  .transform((names) => [...new Set(names)])
  .openapi({ description: 'Event types, groups (`member.*`) or `*` for every event', example: ['member.joined', 'role.*'] })

const Description = z.string().trim().max(500).openapi({ example: 'CRM sync' })

export const CreateWebhook = z
  .strictObject({ url: Url, events: Events, description: Description.optional() })
  .openapi('CreateWebhook')

export const UpdateWebhook = z
  .strictObject({ url: Url.optional(), events: Events.optional(), enabled: z.boolean().optional(), description: Description.nullable().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one of url, events, enabled, description')
  .openapi('UpdateWebhook')

export const Webhook = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Webhook')

export const CreatedWebhook = Webhook.extend({
  secret: z.string().openapi({ description: 'The signing secret (`whsec_…`), in this answer only', example: 'whsec_3q2-7wAbCd…' }),
}).openapi('CreatedWebhook')

export const Delivery = z
  .object({
    id: z.uuid(),
    webhook_id: z.uuid(),
    event_id: z.uuid().openapi({ description: 'Sent as Atrium-Webhook-Id; the same on every attempt' }),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable().openapi({ description: 'When the next attempt is due (pending only)' }),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('WebhookDelivery')

export const AttemptResult = z
  .object({
    delivered: z.boolean(),
    status_code: z.number().int().nullable().openapi({ description: "The receiver's HTTP status, null when it did not answer" }),
    error: z.string().nullable(),
    delivery: Delivery,
  })
  .openapi('WebhookAttempt')

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Page size (1–100, default 20)' }),
  cursor: z.uuid().optional().openapi({ description: 'next_cursor of the previous page' }),
})

export const DeliveryQuery = PageQuery.extend({ status: z.enum(['pending', 'delivered', 'failed']).optional() })

export const WebhookIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })
export const DeliveryIdParam = WebhookIdParam.extend({ deliveryId: z.uuid().openapi({ param: { name: 'deliveryId', in: 'path' } }) })

export const page = <T extends z.ZodType>(item: T, name: string) => z.object({ data: z.array(item), next_cursor: z.string().nullable() }).openapi(name)
