import { z } from '@hono/zod-openapi'

export const SigningKey = z
  .object({
    kid: z.string().openapi({ description: 'RFC 7638 thumbprint; the `kid` header of the tokens it signs' }),
    status: z.enum(['current', 'previous', 'retired']).openapi({ description: 'current signs; previous still verifies; retired does neither' }),
    created_at: z.string(),
    rotated_at: z.string().nullable(),
    retired_at: z.string().nullable(),
    public_jwk: z.record(z.string(), z.unknown()),
  })
  .openapi('SigningKey')

export const SigningKeyList = z.object({ data: z.array(SigningKey) }).openapi('SigningKeyList')

export interface SigningKeyRow {
  kid: string
  status: 'current' | 'previous' | 'retired'
  publicJwk: JsonWebKey
  createdAt: string
  rotatedAt: string | null
  retiredAt: string | null
}

const iso = (t: string | null) => (t === null ? null : new Date(t).toISOString())

export function present(row: SigningKeyRow): z.infer<typeof SigningKey> {
  return { kid: row.kid, status: row.status, created_at: iso(row.createdAt)!, rotated_at: iso(row.rotatedAt), retired_at: iso(row.retiredAt), public_jwk: { ...row.publicJwk } }
}
