import type { AppScope, TenantScope } from '../../app-env.ts'
import { changeDeps } from '../../changes/commit.ts'
import { fail } from '../../errors.ts'
import { auditInsert, requestMeta } from '../../identity/audit.ts'
import { tenantUrl } from '../../tenancy/hosts.ts'
import { encryptSecret } from '../../identity/secrets.ts'
import { callerSubject } from '../../middleware/permission/index.ts'
import { changeTenant } from '../../tenancy/change-tenant.ts'
import { findTenantById, type Tenant } from '../../tenancy/registry.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { OAuthErrors } from './errors.ts'
import { ownSettings, ownSettingsValue, platformCredentials, secretContext } from './providers.ts'
import { PROVIDERS, type ProviderId, type ProviderSettingsBody, type ProviderView } from './schemas.ts'
import type { z } from '@hono/zod-openapi'

/** Where the provider sends the browser back: registered with the provider as the app's redirect URI. */
export const callbackUrl = (c: AppScope, tenant: Pick<Tenant, 'slug'>, provider: ProviderId) =>
  `${tenantUrl(c, tenant)}/v1/auth/oauth/${provider}/callback`

/** A provider as the tenant's admins see it: never a secret, not even encrypted. */
export function presentProvider(c: AppScope, tenant: Tenant, provider: ProviderId): z.infer<typeof ProviderView> {
  const raw = ownSettingsValue(tenant, provider)
  const hasOwn = raw !== undefined && raw !== null
  const own = ownSettings(tenant, provider)
  const platform = platformCredentials(c.var.config, provider)
  const enabled = hasOwn ? Boolean(own?.enabled) : Boolean(platform)
  return {
    provider,
    available: enabled,
    source: hasOwn ? 'tenant' : platform ? 'platform' : null,
    enabled,
    client_id: hasOwn ? (own?.client_id ?? null) : (platform?.clientId ?? null),
    has_client_secret: hasOwn ? Boolean(own?.client_secret_enc) : Boolean(platform),
    redirect_uri: callbackUrl(c, tenant, provider),
    updated_at: own?.updated_at ?? null,
  }
}

export const presentProviders = (c: AppScope, tenant: Tenant) => PROVIDERS.map((p) => presentProvider(c, tenant, p))

/** The tenant as stored now: the request's copy may come from a cache a few seconds old. */
async function freshTenant(c: TenantScope): Promise<Tenant> {
  const tenant = await findTenantById(c.var.db, c.var.tenant.id)
  if (!tenant) throw fail(TenantErrors, 'tenant_not_found')
  return tenant
}

async function writeProviderSettings(c: AppScope, tenant: Tenant, provider: ProviderId, value: Record<string, unknown> | null, action: string, details: Record<string, unknown>) {
  const meta = requestMeta(c)
  // Behind requirePermission: a signed-in user or an API key.
  const actor = callerSubject(c)!
  const updated = await changeTenant(changeDeps(c), tenant.id, { settings: { oauth: { [provider]: value } } }, { actorType: actor.type, actorId: actor.id, ...meta })
  await auditInsert(c.var.db, updated.schemaName, meta, { action, actorType: actor.type, actorId: actor.id, targetType: 'oauth_provider', targetId: null, details: { provider, ...details } })
  return updated
}

/**
 * Set the tenant's own OAuth app for a provider. The secret is encrypted (AES-256-GCM under
 * DATA_ENCRYPTION_KEY, bound to tenant and provider) before it reaches the settings; left out,
 * the stored one is kept if the client_id is the same.
 */
export async function putProviderSettings(c: TenantScope, provider: ProviderId, body: z.infer<typeof ProviderSettingsBody>) {
  const tenant = await freshTenant(c)
  const current = ownSettings(tenant, provider)
  let secretEnc: string
  if (body.client_secret !== undefined) {
    secretEnc = await encryptSecret(c.var.config.DATA_ENCRYPTION_KEY, body.client_secret, secretContext(tenant.id, provider))
  } else if (current && current.client_id === body.client_id) {
    secretEnc = current.client_secret_enc
  } else {
    throw fail(OAuthErrors, 'client_secret_required')
  }
  // A merge patch keeps keys it does not name: null out any other key (a plaintext secret
  // written by hand through the platform API, say) so the entry is exactly what we store.
  const previous = ownSettingsValue(tenant, provider)
  const stale = typeof previous === 'object' && previous !== null ? Object.fromEntries(Object.keys(previous).map((k) => [k, null])) : {}
  const value = { ...stale, client_id: body.client_id, client_secret_enc: secretEnc, enabled: body.enabled, updated_at: new Date().toISOString() }
  const updated = await writeProviderSettings(c, tenant, provider, value, 'oauth.provider_updated', {
    client_id: body.client_id,
    enabled: body.enabled,
    secret_changed: body.client_secret !== undefined,
  })
  return presentProvider(c, updated, provider)
}

/** Remove the tenant's own app for a provider: sign-in falls back to the platform's default, if any. */
export async function deleteProviderSettings(c: TenantScope, provider: ProviderId) {
  const tenant = await freshTenant(c)
  const previous = ownSettingsValue(tenant, provider)
  if (previous === undefined || previous === null) throw fail(OAuthErrors, 'provider_settings_not_found')
  await writeProviderSettings(c, tenant, provider, null, 'oauth.provider_removed', {})
}
