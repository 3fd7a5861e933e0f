import { bigint, boolean, index, inet, integer, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core'

/**
 * Every table a tenant owns, defined once as a function of the tenant's schema name.
 * The DDL that creates them lives in migrations/ (one file per version); a test checks
 * that the two agree column by column.
 */

const SCHEMA_NAME = /^tenant_[0-9a-f]{32}$/

/** The schema name is derived from the tenant id by the system, never from user input. */
export function schemaNameFor(tenantId: string): string {
  const name = `tenant_${tenantId.replaceAll('-', '').toLowerCase()}`
  assertSchemaName(name)
  return name
}

export function assertSchemaName(name: string): void {
  if (!SCHEMA_NAME.test(name)) throw new Error(`refusing an invalid tenant schema name: ${JSON.stringify(name)}`)
}

/** The quoted identifier, for DDL only (DDL cannot take parameters); the name is checked first. */
export function quotedSchema(name: string): string {
  assertSchemaName(name)
  return `"${name}"`
}

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' })

function defineTenantTables(schemaName: string) {
  const schema = pgSchema(schemaName)
  return {
    schemaMigrations: schema.table('schema_migrations', {
      version: integer('version').primaryKey(),
      name: text('name').notNull(),
      appliedAt: timestamp('applied_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
    }),
    auditLog: schema.table(
      'audit_log',
      {
        id: uuid('id').primaryKey(),
        actorType: text('actor_type').notNull(),
        actorId: text('actor_id'),
        action: text('action').notNull(),
        targetType: text('target_type'),
        targetId: text('target_id'),
        outcome: text('outcome').notNull().default('success'),
        ip: inet('ip'),
        userAgent: text('user_agent'),
        details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
        createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
      },
      (t) => [index('audit_log_action_idx').on(t.action, t.id), index('audit_log_actor_idx').on(t.actorId, t.id)],
    ),
    members: schema.table('members', {
      userId: uuid('user_id').primaryKey(),
      role: text('role').notNull(),
      // 'pending': a domain sign-up waiting for its address to be verified (src/identity/memberships.ts).
      status: text('status', { enum: ['active', 'disabled', 'pending'] }).notNull().default('active'),
      joinedAt: ts('joined_at').notNull().defaultNow(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    invitations: schema.table('invitations', {
      id: uuid('id').primaryKey(),
      email: text('email').notNull(),
      role: text('role').notNull(),
      tokenHash: text('token_hash').notNull().unique(),
      invitedBy: uuid('invited_by'),
      createdAt: ts('created_at').notNull().defaultNow(),
      expiresAt: ts('expires_at').notNull(),
      acceptedAt: ts('accepted_at'),
      acceptedBy: uuid('accepted_by'),
      revokedAt: ts('revoked_at'),
    }),
    sessions: schema.table('sessions', {
      id: uuid('id').primaryKey(),
      userId: uuid('user_id').notNull(),
      createdAt: ts('created_at').notNull().defaultNow(),
      lastUsedAt: ts('last_used_at').notNull().defaultNow(),
      expiresAt: ts('expires_at').notNull(),
      ip: inet('ip'),
      userAgent: text('user_agent'),
      mfa: boolean('mfa').notNull().default(false),
      revokedAt: ts('revoked_at'),
      revokedReason: text('revoked_reason'),
    }),
    apiKeys: schema.table('api_keys', {
      id: uuid('id').primaryKey(),
      name: text('name').notNull(),
      prefix: text('prefix').notNull(),
      keyHash: text('key_hash').notNull().unique(),
      roles: text('roles').array().notNull().default([]),
      createdBy: uuid('created_by'),
      createdAt: ts('created_at').notNull().defaultNow(),
      expiresAt: ts('expires_at'),
      lastUsedAt: ts('last_used_at'),
      revokedAt: ts('revoked_at'),
    }),
    webhooks: schema.table('webhooks', {
      id: uuid('id').primaryKey(),
      url: text('url').notNull(),
      events: text('events').array().notNull(),
      secretEnc: text('secret_enc').notNull(),
      enabled: boolean('enabled').notNull().default(true),
      description: text('description'),
      createdAt: ts('created_at').notNull().defaultNow(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    webhookEvents: schema.table('webhook_events', {
      id: uuid('id').primaryKey(),
      type: text('type').notNull(),
      payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
      actorType: text('actor_type'),
      actorId: text('actor_id'),
      createdAt: ts('created_at').notNull().defaultNow(),
    }),
    webhookDeliveries: schema.table('webhook_deliveries', {
      id: uuid('id').primaryKey(),
      webhookId: uuid('webhook_id').notNull(),
      eventId: uuid('event_id').notNull(),
      status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull().default('pending'),
      attempts: integer('attempts').notNull().default(0),
      nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
      lastStatusCode: integer('last_status_code'),
      lastError: text('last_error'),
      deliveredAt: ts('delivered_at'),
      createdAt: ts('created_at').notNull().defaultNow(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    // Authorization model (migrations/0003_authorization.ts, src/authz/).
    resourceTypes: schema.table('resource_types', {
      name: text('name').primaryKey(),
      description: text('description'),
      actions: text('actions').array().notNull(),
      attributes: jsonb('attributes').$type<Record<string, { type: string; description?: string }>>(),
      createdAt: ts('created_at').notNull().defaultNow(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    roles: schema.table('roles', {
      id: uuid('id').primaryKey(),
      name: text('name').notNull().unique(),
      description: text('description'),
      permissions: text('permissions').array().notNull().default([]),
      builtIn: boolean('built_in').notNull().default(false),
      createdAt: ts('created_at').notNull().defaultNow(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    roleBindings: schema.table('role_bindings', {
      id: uuid('id').primaryKey(),
      subjectType: text('subject_type', { enum: ['user', 'api_key'] }).notNull(),
      subjectId: uuid('subject_id').notNull(),
      roleId: uuid('role_id').notNull(),
      resourceType: text('resource_type'),
      resourceId: text('resource_id'),
      expiresAt: ts('expires_at'),
      createdBy: uuid('created_by'),
      createdAt: ts('created_at').notNull().defaultNow(),
    }),
    policies: schema.table('policies', {
      id: uuid('id').primaryKey(),
      name: text('name').notNull().unique(),
      description: text('description'),
      effect: text('effect', { enum: ['allow', 'deny'] }).notNull(),
      permission: text('permission').notNull(),
      conditions: jsonb('conditions').$type<unknown>(),
      createdBy: uuid('created_by'),
      createdAt: ts('created_at').notNull().defaultNow(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    authzState: schema.table('authz_state', {
      id: boolean('id').primaryKey().default(true),
      version: bigint('version', { mode: 'number' }).notNull(),
      updatedAt: ts('updated_at').notNull().defaultNow(),
    }),
    signingKeys: schema.table('signing_keys', {
      kid: text('kid').primaryKey(),
      status: text('status').notNull().$type<'current' | 'previous' | 'retired'>(),
      publicJwk: jsonb('public_jwk').notNull().$type<JsonWebKey>(),
      /** The private JWK, AES-256-GCM under DATA_ENCRYPTION_KEY (additional data `signing_key:<tenant id>:<kid>`); null once retired. */
      privateKeyEnc: text('private_key_enc'),
      createdAt: ts('created_at').notNull().defaultNow(),
      /** Set on the key a tenant created before per-tenant keys got on first use: tokens of the platform key issued before it still verify. */
      adoptedAt: ts('adopted_at'),
      rotatedAt: ts('rotated_at'),
      retiredAt: ts('retired_at'),
    }),
    refreshTokens: schema.table('refresh_tokens', {
      tokenHash: text('token_hash').primaryKey(),
      sessionId: uuid('session_id').notNull(),
      createdAt: ts('created_at').notNull().defaultNow(),
      usedAt: ts('used_at'),
      /** Set when the token is used: its successor's hash, and the successor encrypted (the refresh grace). */
      successorHash: text('successor_hash'),
      successorEnc: text('successor_enc'),
    }),
  }
}

export type TenantTables = ReturnType<typeof defineTenantTables>

const MAX_CACHED = 1000
const cache = new Map<string, TenantTables>()

/** Table objects for one tenant schema, cached (bounded, oldest evicted first). */
export function tenantTables(schemaName: string): TenantTables {
  let tables = cache.get(schemaName)
  if (tables) return tables
  assertSchemaName(schemaName)
  tables = defineTenantTables(schemaName)
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
  cache.set(schemaName, tables)
  return tables
}
