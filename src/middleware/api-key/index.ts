import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { commonError } from '../../errors.ts'
import { API_KEY_SHAPE, findApiKey, recordApiKeyUse, type ApiKeyPrincipal } from '../../identity/api-keys.ts'
import { hashToken } from '../../identity/secrets.ts'

export interface ApiKeyVariables {
  apiKey: ApiKeyPrincipal | null
}

function presented(req: { header(name: string): string | undefined }): string | undefined {
  const header = req.header('x-api-key')?.trim()
  if (header) return header
  const bearer = req.header('authorization')?.match(/^Bearer\s+(atr_\S+)$/i)?.[1]
  return bearer
}

/**
 * Authenticate an API key from `X-API-Key` or `Authorization: Bearer atr_…` for the tenant the
 * request is for (its host, or X-Tenant-ID on the platform host where ALLOW_TENANT_HEADER allows
 * it): the key is looked up in that tenant's schema, so another tenant's key is simply unknown
 * there. Sets `apiKey`; JWT bearers are left to the JWT middleware.
 */
export function authenticateApiKey(): MiddlewareHandler<AppEnv> {
  return async function authenticateApiKeyMiddleware(c, next) {
    const key = presented(c.req)
    if (!key) {
      c.set('apiKey', null)
      return next()
    }
    if (c.var.auth) throw commonError('validation_failed', 'Send either an access token or an API key, not both.')
    const tenant = c.var.tenant
    if (!tenant) throw commonError('invalid_token', 'An API key is accepted only for its tenant: on its host, or with X-Tenant-ID where allowed.')
    if (!API_KEY_SHAPE.test(key)) throw commonError('invalid_token', 'The API key is invalid.')
    const principal = await findApiKey(c.var, tenant, await hashToken(key))
    if (!principal) throw commonError('invalid_token', 'The API key is invalid or revoked.')
    if (principal.expiresAt && new Date(principal.expiresAt).getTime() <= Date.now()) throw commonError('invalid_token', 'The API key has expired.')
    c.set('apiKey', principal)
    // Record use at most once a minute, after the answer.
    c.executionCtx.waitUntil(
      recordApiKeyUse(c.var, tenant, principal.id).then(() => undefined, (err: unknown) => c.var.logger.warn('could not record API key use', { err })),
    )
    await next()
  }
}
