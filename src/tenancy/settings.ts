import { z } from 'zod'
import { allowedOriginProblem } from './cors-origins.ts'

/**
 * The tenant settings Atrium itself reads, with their defaults. Validated wherever settings are
 * written, through `Settings` (sections/tenants/schemas.ts); unknown keys are kept for the tenant's own use.
 */
export const KnownSettings = z.object({
  rate_limit: z.object({ max: z.number().int().min(1).max(1_000_000), window_seconds: z.number().int().min(1).max(86_400) }).nullable().optional(),
  /** Who may create an account on the tenant host: anyone, only invitees (default), or given email domains. */
  signup_policy: z.enum(['open', 'invite_only', 'domain']).optional(),
  signup_domains: z.array(z.string().toLowerCase().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'a domain such as example.com')).max(100).optional(),
  password_policy: z.object({ min_length: z.number().int().min(8).max(128) }).partial().optional(),
  lockout: z
    .object({
      max_attempts: z.number().int().min(1).max(100),
      base_seconds: z.number().int().min(1).max(3600),
      max_seconds: z.number().int().min(1).max(86_400),
    })
    .partial()
    .optional(),
  require_mfa: z.boolean().optional(),
  /** Origins of the tenant's own browser apps that may call its host (src/middleware/cors). */
  cors: z
    .object({
      allowed_origins: z
        .array(z.string().max(300).superRefine((origin, ctx) => {
          const problem = allowedOriginProblem(origin)
          if (problem) ctx.addIssue({ code: 'custom', message: problem })
        }))
        .max(100),
    })
    .optional(),
  /** What the tenant's pages show: its logo (an https URL, as the pages' CSP admits images from https only). */
  branding: z.object({ logo_url: z.url({ protocol: /^https$/ }).max(2048).nullable() }).partial().optional(),
})

export interface EffectiveSettings {
  signupPolicy: 'open' | 'invite_only' | 'domain'
  signupDomains: string[]
  passwordMinLength: number
  lockout: { maxAttempts: number; baseSeconds: number; maxSeconds: number }
  requireMfa: boolean
  corsAllowedOrigins: string[]
  logoUrl: string | null
}

/**
 * By settings object: a tenant from the directory's cache keeps the same object across requests,
 * and several middleware read its settings on every request (CORS, MFA, limits): parsed once.
 */
const effective = new WeakMap<object, Readonly<EffectiveSettings>>()

/** Settings with defaults filled in; a malformed stored value falls back to the default. Read-only: shared between callers. */
export function effectiveSettings(raw: Record<string, unknown> | undefined): Readonly<EffectiveSettings> {
  if (!raw) return parseSettings(raw)
  let settings = effective.get(raw)
  if (!settings) {
    settings = Object.freeze(parseSettings(raw))
    effective.set(raw, settings)
  }
  return settings
}

function parseSettings(raw: Record<string, unknown> | undefined): EffectiveSettings {
  const parsed = KnownSettings.safeParse(raw ?? {})
  const s = parsed.success ? parsed.data : {}
  return {
    signupPolicy: s.signup_policy ?? 'invite_only',
    signupDomains: s.signup_domains ?? [],
    passwordMinLength: s.password_policy?.min_length ?? 10,
    lockout: {
      maxAttempts: s.lockout?.max_attempts ?? 5,
      baseSeconds: s.lockout?.base_seconds ?? 60,
      maxSeconds: s.lockout?.max_seconds ?? 3600,
    },
    requireMfa: s.require_mfa ?? false,
    corsAllowedOrigins: s.cors?.allowed_origins ?? [],
    logoUrl: s.branding?.logo_url ?? null,
  }
}
