import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/**
 * Refresh grace: a used refresh token remembers its successor (hash, and the token itself
 * encrypted under DATA_ENCRYPTION_KEY) so that a request racing the rotation gets the same
 * successor back instead of being taken for a replay.
 */
export default {
  version: 8,
  name: 'refresh_grace',
  up: (s) => [
    `alter table ${s}.refresh_tokens add column successor_hash text, add column successor_enc text`,
  ],
} satisfies TenantMigration
