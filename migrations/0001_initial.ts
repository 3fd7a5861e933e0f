import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/** The tenant's own audit log (who did what to what, from where, with what outcome). */
export default {
  version: 1,
  name: 'initial',
  up: (s) => [
    `create table ${s}.audit_log (
      id uuid primary key,
      actor_type text not null,
      actor_id text,
      action text not null,
      target_type text,
      target_id text,
      outcome text not null default 'success',
      ip inet,
      user_agent text,
      details jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now()
    )`,
    `create index audit_log_action_idx on ${s}.audit_log (action, id)`,
    `create index audit_log_actor_idx on ${s}.audit_log (actor_id, id)`,
  ],
} satisfies TenantMigration
