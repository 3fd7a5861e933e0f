import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/** Members (role, status), invitations, sessions and their refresh tokens. */
export default {
  version: 2,
  name: 'identity',
  up: (s) => [
    `create table ${s}.members (
      user_id uuid primary key,
      role text not null,
      status text not null default 'active',
      joined_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create index members_role_idx on ${s}.members (role)`,
    `create table ${s}.invitations (
      id uuid primary key,
      email text not null,
      role text not null,
      token_hash text not null unique,
      invited_by uuid,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      accepted_at timestamptz,
      accepted_by uuid,
      revoked_at timestamptz
    )`,
    `create index invitations_email_idx on ${s}.invitations (email)`,
    `create table ${s}.sessions (
      id uuid primary key,
      user_id uuid not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz not null default now(),
      expires_at timestamptz not null,
      ip inet,
      user_agent text,
      mfa boolean not null default false,
      revoked_at timestamptz,
      revoked_reason text
    )`,
    `create index sessions_user_idx on ${s}.sessions (user_id, id)`,
    `create table ${s}.refresh_tokens (
      token_hash text primary key,
      session_id uuid not null references ${s}.sessions (id) on delete cascade,
      created_at timestamptz not null default now(),
      used_at timestamptz
    )`,
    `create index refresh_tokens_session_idx on ${s}.refresh_tokens (session_id)`,
  ],
} satisfies TenantMigration
