import type { TenantMigration } from '../src/db/tenant-migrations.ts'

/**
 * The authorization model (src/authz/, docs/api/authorization.md): resource types registered by
 * the tenant's apps, roles (the built-in owner/admin/member seeded here), role bindings
 * (tenant-wide or on one resource instance, optionally expiring), ABAC policies, and the model's
 * version, bumped in the same batch as every change so caches can tell they are stale.
 *
 * The built-in `member` role holds read access to the tenant, its members and its model; owner
 * and admin hold every permission (`*:*`). A member's `members.role` counts as a tenant-wide
 * binding of that role, and an API key's `roles` as tenant-wide bindings of those roles.
 */
export default {
  version: 3,
  name: 'authorization',
  up: (s) => [
    `create table ${s}.resource_types (
      name text primary key,
      description text,
      actions text[] not null,
      attributes jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table ${s}.roles (
      id uuid primary key,
      name text not null unique,
      description text,
      permissions text[] not null default '{}',
      built_in boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `insert into ${s}.roles (id, name, description, permissions, built_in) values
      (gen_random_uuid(), 'owner', 'Owns the tenant: every permission.', '{*:*}', true),
      (gen_random_uuid(), 'admin', 'Administers the tenant: every permission.', '{*:*}', true),
      (gen_random_uuid(), 'member', 'Reads the tenant, its members, roles and resource types.', '{tenant:read,members:read,roles:read,resource_types:read}', true)`,
    // No foreign key on resource_type: bindings may name Atrium's own types, which live in code.
    `create table ${s}.role_bindings (
      id uuid primary key,
      subject_type text not null check (subject_type in ('user', 'api_key')),
      subject_id uuid not null,
      role_id uuid not null references ${s}.roles (id) on delete cascade,
      resource_type text,
      resource_id text,
      expires_at timestamptz,
      created_by uuid,
      created_at timestamptz not null default now(),
      check ((resource_type is null) = (resource_id is null))
    )`,
    // One binding per (subject, role, resource); also the index of a subject's bindings.
    `create unique index role_bindings_subject_idx on ${s}.role_bindings (subject_type, subject_id, role_id, coalesce(resource_type, ''), coalesce(resource_id, ''))`,
    `create index role_bindings_role_idx on ${s}.role_bindings (role_id)`,
    `create index role_bindings_resource_idx on ${s}.role_bindings (resource_type, resource_id) where resource_type is not null`,
    `create table ${s}.policies (
      id uuid primary key,
      name text not null unique,
      description text,
      effect text not null check (effect in ('allow', 'deny')),
      permission text not null,
      conditions jsonb,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    `create table ${s}.authz_state (
      id boolean primary key default true check (id),
      version bigint not null,
      updated_at timestamptz not null default now()
    )`,
    `insert into ${s}.authz_state (id, version) values (true, 1)`,
    // A member who leaves or is removed loses their bindings with the row: rejoining starts afresh.
    `create function ${s}.authz_forget_member() returns trigger language plpgsql as $$
      begin
        delete from ${s}.role_bindings where subject_type = 'user' and subject_id = old.user_id;
        return null;
      end $$`,
    `create trigger members_forget_bindings after delete on ${s}.members for each row execute function ${s}.authz_forget_member()`,
  ],
} satisfies TenantMigration
