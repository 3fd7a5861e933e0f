import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/**
 * Webhooks: endpoints (signing secret encrypted, it is read back to sign), the outbox of events
 * written in the same batch as the change that caused them, and one delivery row per endpoint
 * and event (its retry state). See src/webhooks/ and docs/api/webhooks.md.
 */
export default {
  version: 4,
  name: 'webhooks',
  up: (s) => [
    `create table ${s}.webhooks (
      id uuid primary key,
      url text not null,
      events text[] not null,
      secret_enc text not null,
      enabled boolean not null default true,
      description text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table ${s}.webhook_events (
      id uuid primary key,
      type text not null,
      payload jsonb not null,
      actor_type text,
      actor_id text,
      created_at timestamptz not null default now()
    )`,
    `create index webhook_events_created_idx on ${s}.webhook_events (created_at)`,
    `create table ${s}.webhook_deliveries (
      id uuid primary key,
      webhook_id uuid not null references ${s}.webhooks (id) on delete cascade,
      event_id uuid not null references ${s}.webhook_events (id) on delete cascade,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_status_code integer,
      last_error text,
      delivered_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (webhook_id, event_id)
    )`,
    // What the scheduler scans: only pending rows, by due time.
    `create index webhook_deliveries_due_idx on ${s}.webhook_deliveries (next_attempt_at) where status = 'pending'`,
    `create index webhook_deliveries_webhook_idx on ${s}.webhook_deliveries (webhook_id, id)`,
    `create index webhook_deliveries_event_idx on ${s}.webhook_deliveries (event_id)`,
  ],
} satisfies TenantMigration
