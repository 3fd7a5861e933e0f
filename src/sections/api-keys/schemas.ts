import { z } from '@hono/zod-openapi'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { tenantTables } from '../../db/tenant-schema.ts'

/** Codes of this section; unknown roles and grants beyond one's own answer AuthzErrors' codes. */
export const ApiKeyErrors = {
  api_key_not_found: [404, 'No such API key.'],
  invalid_role: [400, 'The owner role stays with people: an API key cannot hold it.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>

export type ApiKeyRow = ReturnType<typeof tenantTables>['apiKeys']['$inferSelect']

export const CreateApiKey = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    roles: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(20)
      .openapi({ description: 'Roles of the tenant (admin, member or custom roles; never owner), granting no more than the caller holds', example: ['invoice-reader'] }),
    expires_at: z.iso.datetime({ offset: true }).optional().refine((v) => !v || new Date(v).getTime() > Date.now(), 'must be in the future'),
  })
  .openapi('CreateApiKey')

export const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the secret, to recognise it' }),
    roles: z.array(z.string()),
    created_by: z.string().nullable().openapi({ description: 'The user or API key that created it' }),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey')

export const ApiKeyPage = z.object({ data: z.array(ApiKey), next_cursor: z.string().nullable() }).openapi('ApiKeyPage')

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional(),
  include_revoked: z.enum(['true', 'false']).default('false'),
})

export const IdParam = z.object({ id: z.uuid() })

export const iso = (v: string | null) => (v ? new Date(v).toISOString() : null)

export function present(k: ApiKeyRow): z.infer<typeof ApiKey> {
  return {
    id: k.id, name: k.name, prefix: k.prefix, roles: k.roles, created_by: k.createdBy, created_at: iso(k.createdAt)!,
    expires_at: iso(k.expiresAt), last_used_at: iso(k.lastUsedAt), revoked_at: iso(k.revokedAt),
  }
}
