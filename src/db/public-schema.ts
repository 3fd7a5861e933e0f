import { sql } from 'drizzle-orm'
import { check, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core'

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
