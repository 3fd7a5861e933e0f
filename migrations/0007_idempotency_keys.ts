import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/**
 * Idempotency-Key claims and first answers of the tenant's creation endpoints
 * (src/middleware/idempotency). One row per caller and key; `expires_at` 24 h after the first
 * request; `response` holds the first answer encrypted (it may carry a secret shown once).
 */
export default {
  version: 7,
  name: 'idempotency_keys',
  up: (s) => [
    `create table ${s}.idempotency_keys (
      scope text not null,
      key text not null,
      fingerprint text not null,
      claim_id uuid not null,
      state text not null check (state in ('started', 'committed', 'done')),
      location text,
      response text,
      locked_until timestamptz not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      primary key (scope, key)
    )`,
    `create index idempotency_keys_expires_idx on ${s}.idempotency_keys (expires_at)`,
  ],
} satisfies TenantMigration
