import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/**
 * The tenant's own ES512 signing keys for access tokens (src/tenancy/signing-keys.ts): one
 * `current` key (a partial unique index makes a second one impossible), the `previous` one
 * still accepted after a rotation, and `retired` ones kept without their private half.
 */
export default {
  version: 9,
  name: 'signing_keys',
  up: (s) => [
    `create table ${s}.signing_keys (
      kid text primary key,
      status text not null check (status in ('current', 'previous', 'retired')),
      public_jwk jsonb not null,
      private_key_enc text,
      created_at timestamptz not null default now(),
      adopted_at timestamptz,
      rotated_at timestamptz,
      retired_at timestamptz,
      check ((status = 'retired') = (private_key_enc is null))
    )`,
    `create unique index signing_keys_one_current on ${s}.signing_keys (status) where status = 'current'`,
  ],
} satisfies TenantMigration
