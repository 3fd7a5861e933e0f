import { createRoute, z } from '@hono/zod-openapi'
import type { sectionRouter } from '../../openapi.ts'
import { signingKeys } from '../../platform/signing-keys.ts'

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('JWKS')

/** GET /.well-known/jwks.json: the public keys that verify access tokens (current and, during a rotation, previous). */
export function registerJwksRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/.well-known/jwks.json', tags: ['Auth'], summary: 'Public keys of the access-token signer',
      responses: { 200: { description: 'JWK Set (RFC 7517)', content: { 'application/json': { schema: Jwks } } } },
    }),
    async (c) => {
      const keys = await signingKeys(c.var.config.JWT_PRIVATE_KEY, c.var.config.JWT_PREVIOUS_PUBLIC_KEYS)
      c.header('Cache-Control', 'public, max-age=300')
      return c.json({ keys: keys.publicJwks.map((k) => ({ ...k })) }, 200)
    },
  )
}
