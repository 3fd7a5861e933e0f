import { z } from 'zod'

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))

const positiveInt = z.coerce.number().int().positive()

/**
 * Every variable the Worker reads. Documented in README.md and .dev.vars.example;
 * keep the three in step.
 */
const EnvSchema = z.object({
  ENVIRONMENT: z.enum(['development', 'test', 'production']).default('production'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string'),
  NEON_FETCH_ENDPOINT: z.url().optional(),
  UPSTASH_REDIS_REST_URL: z.url(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  JWT_PRIVATE_KEY: z.string().min(1),
  JWT_PREVIOUS_PUBLIC_KEYS: z.string().optional(),
  PLATFORM_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters'),
  BASE_DOMAINS: csv.pipe(z.array(z.string().min(1)).min(1)).default(['localhost']),
  ALLOW_TENANT_HEADER: bool.default(false),
  RATE_LIMIT_MAX: positiveInt.default(600),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(60),
  TENANT_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(5),
  TENANT_REDIS_CACHE_TTL_SECONDS: positiveInt.default(300),
  /**
   * How long an isolate trusts Redis after it last checked that no committed change still owes it
   * an effect (src/changes/drain.ts): the bound on a stale cache entry in an isolate that saw no
   * Redis failure itself. Any Redis failure it sees ends the trust at once.
   */
  EFFECTS_FENCE_SECONDS: positiveInt.default(30),
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** Self-service tenant creation (src/tenancy/creation-limits.ts): on/off, per-account cap, hourly limits per IP and overall. */
  SELF_SERVICE_TENANTS: bool.default(true),
  MAX_TENANTS_PER_ACCOUNT: positiveInt.default(10),
  TENANT_CREATION_PER_IP_PER_HOUR: positiveInt.default(10),
  TENANT_CREATION_PER_HOUR: positiveInt.default(1000),
  /** Deadlines (src/platform/deadline.ts): one SQL request, one Redis request, all backend calls of one request. */
  SQL_TIMEOUT_MS: positiveInt.default(10_000),
  REDIS_TIMEOUT_MS: positiveInt.default(2_000),
  REQUEST_BUDGET_MS: positiveInt.default(20_000),
  /** GET /health reports a dependency `slow` (and itself `degraded`) above this latency. */
  HEALTH_SLOW_MS: positiveInt.default(1_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  DATA_ENCRYPTION_KEY: z.string().regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be 32 random bytes, base64 or base64url'),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(900),
  /** How long an isolate keeps a tenant's signing keys: another isolate's rotation reaches its signing within this. */
  SIGNING_KEY_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),
  /** How long a used refresh token still answers the request racing its rotation (same successor); 0 turns it off. */
  REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  /** `outbox` keeps mail in Redis for GET /dev/outbox (development and tests only); `sendgrid` sends it. */
  MAIL_TRANSPORT: z.enum(['outbox', 'sendgrid']).default('sendgrid'),
  MAIL_FROM: z.string().min(3).default('Atrium <no-reply@atrium.localhost>'),
  SENDGRID_API_KEY: z.string().optional(),
  SENDGRID_API_URL: z.url().default('https://api.sendgrid.com/v3/mail/send'),
  /** Lifetimes of the single-use links sent by mail (sections/auth-email), capped so a typo cannot make them long-lived. */
  EMAIL_VERIFICATION_TTL_SECONDS: positiveInt.max(7 * 24 * 3600).default(24 * 3600),
  PASSWORD_RESET_TTL_SECONDS: positiveInt.max(3600).default(30 * 60),
  MAGIC_LINK_TTL_SECONDS: positiveInt.max(3600).default(15 * 60),
  /** `test` makes new password hashes cheap for the test suite (identity/passwords.ts); refused in production. */
  PASSWORD_HASH_PROFILE: z.enum(['production', 'test']).default('production'),
  /**
   * Where emailed links point (src/tenancy/app-links.ts): a URL pattern with `{slug}` and/or `{host}`
   * (the tenant's host, port included), e.g. `https://{slug}.app.example.com`. Unset: the tenant's own origin.
   */
  APP_URL: z
    .string()
    .refine((p) => p.includes('{slug}') || p.includes('{host}'), 'must contain {slug} or {host}: links are redeemed on a tenant')
    .refine((p) => {
      try {
        const url = new URL(p.replaceAll('{slug}', 'acme').replaceAll('{host}', 'acme.example.com'))
        return (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash && !url.username && !url.password
      } catch {
        return false
      }
    }, 'must be an http(s) URL without query, fragment or credentials once {slug}/{host} are filled in')
    .optional(),
  /** Platform-wide OAuth apps for social login, used by tenants that have not set their own (sections/oauth). */
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GITHUB_CLIENT_ID: z.string().min(1).optional(),
  GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  FACEBOOK_CLIENT_ID: z.string().min(1).optional(),
  FACEBOOK_CLIENT_SECRET: z.string().min(1).optional(),
  TIKTOK_CLIENT_KEY: z.string().min(1).optional(),
  TIKTOK_CLIENT_SECRET: z.string().min(1).optional(),
}).superRefine((env, ctx) => {
  if (env.MAIL_TRANSPORT === 'sendgrid' && !env.SENDGRID_API_KEY) {
    ctx.addIssue({ code: 'custom', path: ['SENDGRID_API_KEY'], message: 'required when MAIL_TRANSPORT is sendgrid' })
  }
  if (env.MAIL_TRANSPORT === 'outbox' && env.ENVIRONMENT === 'production') {
    ctx.addIssue({ code: 'custom', path: ['MAIL_TRANSPORT'], message: 'the outbox transport is for development and tests only' })
  }
  if (env.PASSWORD_HASH_PROFILE === 'test' && env.ENVIRONMENT === 'production') {
    ctx.addIssue({ code: 'custom', path: ['PASSWORD_HASH_PROFILE'], message: 'the test profile is for the test suite only' })
  }
  // An OAuth app needs both halves: half a pair is a mistake, not "not configured".
  for (const [id, secret] of [['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET'], ['GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET'], ['FACEBOOK_CLIENT_ID', 'FACEBOOK_CLIENT_SECRET'], ['TIKTOK_CLIENT_KEY', 'TIKTOK_CLIENT_SECRET']] as const) {
    if (Boolean(env[id]) !== Boolean(env[secret])) ctx.addIssue({ code: 'custom', path: [env[id] ? secret : id], message: `${id} and ${secret} are set together` })
  }
})

export type Env = z.input<typeof EnvSchema>
export type Config = z.output<typeof EnvSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parse the Worker env once; a missing or malformed variable fails with a message naming it. */
export function parseConfig(env: Record<string, unknown>): Config {
  const result = EnvSchema.safeParse(env)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`)
  throw new ConfigError(`Invalid configuration — ${problems.join('; ')}`)
}

const parsed = new WeakMap<object, Config>()

/** The env object is stable within an isolate, so the parse runs once per isolate. */
export function configFor(env: object): Config {
  let config = parsed.get(env)
  if (!config) {
    config = parseConfig(env as Record<string, unknown>)
    parsed.set(env, config)
  }
  return config
}
