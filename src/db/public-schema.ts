import { sql } from 'drizzle-orm'
import { bigint, check, index, inet, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'

/**
 * The `public` schema: what is shared by every tenant. Migrations are generated from this
 * file by Drizzle Kit into drizzle/ (`npm run db:generate`). See docs/storage.md.
 */

export const TENANT_STATUSES = ['active', 'suspended', 'deleted'] as const
export type TenantStatus = (typeof TENANT_STATUSES)[number]

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey(),
    slug: text('slug').notNull().unique('tenants_slug_unique'),
    name: text('name').notNull(),
    status: text('status', { enum: TENANT_STATUSES }).notNull().default('active'),
    plan: text('plan').notNull().default('free'),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    // Generated from the id by the system (src/db/tenant-schema.ts), never from input.
    schemaName: text('schema_name').notNull().unique('tenants_schema_name_unique'),
    // Which database holds the schema; resolved through configuration (src/db/placement.ts).
    placement: text('placement').notNull().default('primary'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [
    check('tenants_status_check', sql`${t.status} in ('active', 'suspended', 'deleted')`),
    check('tenants_schema_name_check', sql`${t.schemaName} ~ '^tenant_[0-9a-f]{32}$'`),
  ],
)

export type TenantRow = typeof tenants.$inferSelect

/**
 * Identities are global: one account per email. A person joins tenants through memberships;
 * the tenant's own member record (role, status) lives in its schema, and `memberships` here is
 * the index that answers "which tenants does this user belong to" without visiting every schema.
 * Both are written in the same batch.
 */
export const users = pgTable('users', {
  id: uuid('id').primaryKey(),
  // Stored lowercased and trimmed: one account per address.
  email: text('email').notNull().unique('users_email_unique'),
  emailVerifiedAt: timestamp('email_verified_at', { withTimezone: true, mode: 'string' }),
  name: text('name'),
  // Algorithm and parameters are encoded in the hash (src/identity/passwords.ts); null for social-only accounts.
  passwordHash: text('password_hash'),
  passwordChangedAt: timestamp('password_changed_at', { withTimezone: true, mode: 'string' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
})

export type UserRow = typeof users.$inferSelect

export const memberships = pgTable(
  'memberships',
  {
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index('memberships_user_idx').on(t.userId)],
)

/** Social identities linked to an account (provider + the provider's user id). */
export const userIdentities = pgTable(
  'user_identities',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    providerUserId: text('provider_user_id').notNull(),
    email: text('email'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    unique('user_identities_provider_unique').on(t.provider, t.providerUserId),
    unique('user_identities_user_provider_unique').on(t.userId, t.provider),
  ],
)

/** TOTP enrolment: the secret is encrypted at rest (AES-GCM, src/identity/secrets.ts). */
export const userMfa = pgTable('user_mfa', {
  userId: uuid('user_id').primaryKey().references(() => users.id, { onDelete: 'cascade' }),
  totpSecretEnc: text('totp_secret_enc').notNull(),
  enabledAt: timestamp('enabled_at', { withTimezone: true, mode: 'string' }),
  // The last accepted time step: a code from that step or earlier is refused (no replay).
  lastUsedStep: bigint('last_used_step', { mode: 'number' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
})

export const userBackupCodes = pgTable(
  'user_backup_codes',
  {
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.codeHash] })],
)

/** Platform-level events kept for the user (account created, password changed…). */
export const userEvents = pgTable(
  'user_events',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    action: text('action').notNull(),
    ip: inet('ip'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('user_events_user_idx').on(t.userId, t.id)],
)

/**
 * Idempotency-Key claims and first answers of the platform routes (POST /v1/tenants); tenant
 * routes keep theirs in the tenant schema. See src/middleware/idempotency.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    claimId: uuid('claim_id').notNull(),
    state: text('state', { enum: ['started', 'committed', 'done'] }).notNull(),
    location: text('location'),
    response: text('response'),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'string' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'string' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
    check('idempotency_keys_state_check', sql`${t.state} in ('started', 'committed', 'done')`),
  ],
)

/**
 * What committed changes still owe to the caches (docs/architecture.md, "The one way to write a
 * change"): a row is written in the change's own batch (`commitChange`, src/changes), applied to
 * Redis right after the commit, and by every drain until `applied_at` is set — an isolate that
 * cannot vouch for Redis drains before trusting it, and so does the cron. Applying is idempotent.
 * Applied session revocations stay until their access tokens have expired (`keep_until`), to be
 * written again into a Redis that lost its data; the cron prunes the rest.
 */
export const pendingEffects = pgTable(
  'pending_effects',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind').notNull(),
    tenantId: uuid('tenant_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    keepUntil: timestamp('keep_until', { withTimezone: true, mode: 'string' }),
    appliedAt: timestamp('applied_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [
    index('pending_effects_pending_idx').on(t.id).where(sql`${t.appliedAt} is null`),
    index('pending_effects_keep_idx').on(t.keepUntil),
  ],
)
