import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/** Service accounts: API keys stored as SHA-256, with the roles they hold tenant-wide. */
export default {
  version: 5,
  name: 'api_keys',
  up: (s) => [
    `create table ${s}.api_keys (
      id uuid primary key,
      name text not null,
      prefix text not null,
      key_hash text not null unique,
      roles text[] not null default '{}',
      created_by uuid,
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz
    )`,
  ],
} satisfies TenantMigration
