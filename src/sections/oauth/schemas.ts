import { z } from '@hono/zod-openapi'

export const PROVIDERS = ['google', 'github', 'facebook', 'tiktok'] as const
export type ProviderId = (typeof PROVIDERS)[number]

export const isProviderId = (value: string): value is ProviderId => (PROVIDERS as readonly string[]).includes(value)

/** Any string, so an unknown provider answers 404 unknown_provider rather than a validation error. */
export const ProviderParam = z.object({
  provider: z.string().max(32).openapi({ param: { name: 'provider', in: 'path' }, example: 'google', description: `One of ${PROVIDERS.join(', ')}` }),
})

export const StartQuery = z.object({
  redirect_to: z.string().min(1).max(2048).optional().openapi({
    description: 'Where to send the browser after the callback, on this tenant’s own host (a path such as /app, or a full URL). With it the callback redirects there with the result in the URL fragment; without it the callback answers JSON.',
    example: '/app/welcome',
  }),
  session: z.literal('cookie').optional().openapi({
    description: 'With redirect_to: the refresh token goes into the browser session cookie (docs/browser-sessions.md) instead of the fragment.',
  }),
})

export const CallbackQuery = z.object({
  state: z.string().min(1).max(512),
  code: z.string().min(1).max(4096).optional(),
  // Sent by the provider instead of `code` when the user cancels or the provider refuses.
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
})

export const ProviderSettingsBody = z
  .strictObject({
    client_id: z.string().trim().min(1).max(512),
    client_secret: z.string().min(1).max(2048).optional().openapi({ format: 'password', description: 'Stored encrypted, never returned. May be left out to keep the stored secret when client_id is unchanged.' }),
    enabled: z.boolean().default(true),
  })
  .openapi('OAuthProviderSettings')

export const ProviderView = z
  .object({
    provider: z.enum(PROVIDERS),
    /** Whether sign-in with this provider works on this tenant now. */
    available: z.boolean(),
    /** Whose OAuth app answers: the tenant's own, the platform's default, or none. */
    source: z.enum(['tenant', 'platform']).nullable(),
    enabled: z.boolean(),
    client_id: z.string().nullable(),
    has_client_secret: z.boolean(),
    redirect_uri: z.string(),
    updated_at: z.string().nullable(),
  })
  .openapi('OAuthProvider')

export const LinkStartBody = z
  .strictObject({ redirect_to: z.string().min(1).max(2048).optional().openapi({ description: 'Where the browser returns after linking, on this tenant’s own host (default /account)', example: '/account' }) })
  .openapi('IdentityLinkBody')

export const IdentityView = z
  .object({ provider: z.enum(PROVIDERS), email: z.string().nullable(), created_at: z.string() })
  .openapi('LinkedIdentity')

/**
 * What a tenant's settings hold for one provider (settings.oauth.<provider>): the secret only
 * as AES-GCM ciphertext bound to the tenant and provider (see providers.ts).
 */
export const StoredProviderSettings = z.object({
  client_id: z.string().min(1),
  client_secret_enc: z.string().min(1),
  enabled: z.boolean().default(true),
  updated_at: z.string().optional(),
})
export type StoredProviderSettings = z.infer<typeof StoredProviderSettings>
