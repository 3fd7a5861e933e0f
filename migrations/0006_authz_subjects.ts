import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/**
 * Members and API keys are subjects of the authorization model: the compiled model holds the
 * active members with their built-in role and the live API keys with their roles
 * (src/authz/snapshot.ts). Any change to who they are or what they hold bumps the model's
 * version in the same transaction as the change, whichever code made it, so no cached copy of
 * the model outlives it. The code that made the change then publishes the new version
 * (`publishDatabaseVersion` in src/authz/cache.ts) so other isolates see it on their next check.
 *
 * Only the columns that matter to decisions fire the trigger (not api_keys.last_used_at, which
 * every request with the key updates).
 */
export default {
  version: 6,
  name: 'authz_subjects',
  up: (s) => [
    `create function ${s}.authz_bump_version() returns trigger language plpgsql as $$
      begin
        update ${s}.authz_state set version = version + 1, updated_at = now();
        return null;
      end $$`,
    `create trigger members_bump_authz after insert or delete or update of role, status on ${s}.members
      for each statement execute function ${s}.authz_bump_version()`,
    `create trigger api_keys_bump_authz after insert or delete or update of roles, revoked_at, expires_at on ${s}.api_keys
      for each statement execute function ${s}.authz_bump_version()`,
  ],
} satisfies TenantMigration
