import { createRoute, z } from '@hono/zod-openapi'
import type { AppScope } from '../../app-env.ts'
import { inAdoptionWindow, tenantKeyDeps } from '../../identity/context.ts'
import type { sectionRouter } from '../../openapi.ts'
import { signingKeys, type PublicJwk } from '../../platform/signing-keys.ts'
import { tenantKeys } from '../../tenancy/signing-keys.ts'
import { json } from '../../openapi.ts'

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('JWKS')

/**
 * On a tenant host: the tenant's own keys (current, and previous after a rotation) — plus the
 * platform key while tokens it signed for a tenant that predates per-tenant keys may still be
 * live. On the platform host: the platform key (and JWT_PREVIOUS_PUBLIC_KEYS).
 */
async function publishedKeys(c: AppScope): Promise<readonly PublicJwk[]> {
  const config = c.var.config
  const platform = () => signingKeys(config.JWT_PRIVATE_KEY, config.JWT_PREVIOUS_PUBLIC_KEYS)
  const tenant = c.var.tenant
  if (!tenant) return (await platform()).publicJwks
  const keys = await tenantKeys(tenantKeyDeps(c), tenant)
  return inAdoptionWindow(c, keys) ? [...keys.publicJwks, ...(await platform()).publicJwks] : keys.publicJwks
}

/** GET /.well-known/jwks.json: the public keys that verify this host's access tokens. */
export function registerJwksRoutes(app: ReturnType<typeof sectionRouter>) {
  app.openapi(
    createRoute({
      method: 'get', path: '/.well-known/jwks.json', tags: ['Auth'], summary: "Public keys of this host's access tokens (a tenant's own keys on its host)",
      responses: { 200: json(Jwks, 'JWK Set (RFC 7517)') },
    }),
    async (c) => {
      const keys = await publishedKeys(c)
      // Short enough that a verifier sees a rotated key soon; verifiers refetch on an unknown kid anyway.
      c.header('Cache-Control', 'public, max-age=60')
      return c.json({ keys: keys.map((k) => ({ ...k })) }, 200)
    },
  )
}
