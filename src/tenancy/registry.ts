import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { tenantMigrations } from '../../migrations/index.ts'
import { commitChange, type ChangeDeps } from '../changes/commit.ts'
import { tenantChanged } from '../changes/effects.ts'
import { uuidv7 } from '../db/ids.ts'
import { isPgError, UNIQUE_VIOLATION } from '../db/pg-errors.ts'
import { tenants, type TenantRow, type TenantStatus } from '../db/public-schema.ts'
import { schemaCreation, type TenantMigration } from '../db/tenant-migrations.ts'
import { quotedSchema, schemaNameFor, tenantTables } from '../db/tenant-schema.ts'
import type { Database } from '../platform/database.ts'
import { fail } from '../errors.ts'
import { TenantErrors } from './errors.ts'
import { currentKeyInsert, newTenantKey, rememberProvisionedKey } from './signing-keys.ts'

export type Tenant = TenantRow

export interface AuditContext {
  actorType: 'platform_admin' | 'user' | 'api_key' | 'system'
  actorId?: string | null
  ip?: string | null
  userAgent?: string | null
}

const audit = (db: Database, tenant: Pick<Tenant, 'id' | 'schemaName'>, ctx: AuditContext, action: string, details: Record<string, unknown> = {}) =>
  db.insert(tenantTables(tenant.schemaName).auditLog).values({
    id: uuidv7(),
    actorType: ctx.actorType,
    actorId: ctx.actorId ?? null,
    action,
    targetType: 'tenant',
    targetId: tenant.id,
    ip: ctx.ip ?? null,
    userAgent: ctx.userAgent ?? null,
    details,
  })

/** The registry row was changed by this transaction (its updated_at is the transaction's time). */
const changedNow = (id: string) => sql`exists (select 1 from ${tenants} where ${tenants.id} = ${id} and ${tenants.updatedAt} = now())`

const metaOf = (ctx: AuditContext) => ({ ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null })
const auditActorOf = (ctx: AuditContext) => ({ actorType: ctx.actorType, actorId: ctx.actorId ?? null })

export async function findTenantBySlug(db: Database, slug: string): Promise<Tenant | undefined> {
  const rows = await db.select().from(tenants).where(eq(tenants.slug, slug)).limit(1)
  return rows[0]
}

export async function findTenantById(db: Database, id: string): Promise<Tenant | undefined> {
  const rows = await db.select().from(tenants).where(eq(tenants.id, id)).limit(1)
  return rows[0]
}

export interface ListTenantsQuery {
  limit: number
  after?: string
  status?: TenantStatus
}

export async function listTenants(db: Database, q: ListTenantsQuery): Promise<Tenant[]> {
  const where = and(q.after ? gt(tenants.id, q.after) : undefined, q.status ? eq(tenants.status, q.status) : undefined)
  return db.select().from(tenants).where(where).orderBy(asc(tenants.id)).limit(q.limit)
}

export interface NewTenant {
  slug: string
  name: string
  plan?: string
  settings?: Record<string, unknown>
  placement?: string
}

/**
 * The statements that create a tenant: its registry row (returned first), its schema with
 * every tenant migration, its own signing key, and its first audit entry. Run them in one
 * batch, alone (`provisionTenant`) or with the change that needs the tenant (registration);
 * once it committed, `rememberProvisionedKey(id, signingKey)` spares the first token a read.
 */
export async function provisioningStatements(
  db: Database,
  input: NewTenant,
  ctx: AuditContext,
  secrets: { dataKey: string },
  migrations: readonly TenantMigration[] = tenantMigrations,
) {
  const id = uuidv7()
  const schemaName = schemaNameFor(id)
  const signingKey = await newTenantKey(secrets.dataKey, id)
  const insert = db
    .insert(tenants)
    .values({
      id,
      slug: input.slug,
      name: input.name,
      plan: input.plan ?? 'free',
      settings: input.settings ?? {},
      schemaName,
      placement: input.placement ?? 'primary',
    })
    .returning()
  const statements = [
    insert,
    ...schemaCreation(db, schemaName, migrations),
    currentKeyInsert(db, schemaName, signingKey),
    audit(db, { id, schemaName }, ctx, 'tenant.created', { slug: input.slug, plan: input.plan ?? 'free' }),
  ] as [typeof insert, ...BatchItem<'pg'>[]]
  return { id, schemaName, signingKey, statements }
}

/** The one batch of `provisioningStatements`: a failure anywhere leaves neither schema nor row. */
export async function provisionTenant(
  db: Database,
  input: NewTenant,
  ctx: AuditContext,
  secrets: { dataKey: string },
  migrations: readonly TenantMigration[] = tenantMigrations,
  /** Statements that belong to the same transaction, given the new tenant's id (an idempotency key's mark). */
  alsoInBatch: (id: string) => BatchItem<'pg'>[] = () => [],
): Promise<Tenant> {
  try {
    const { id, signingKey, statements } = await provisioningStatements(db, input, ctx, secrets, migrations)
    const [rows] = await db.batch([...statements, ...alsoInBatch(id)] as typeof statements)
    await rememberProvisionedKey(id, signingKey)
    return rows[0]!
  } catch (err) {
    if (isPgError(err, UNIQUE_VIOLATION, 'tenants_slug_unique')) {
      throw fail(TenantErrors, 'slug_taken', undefined, { slug: input.slug })
    }
    throw err
  }
}

export interface TenantPatch {
  name?: string
  plan?: string
  /** JSON merge patch (RFC 7396) over the current settings: null removes a key. */
  settings?: Record<string, unknown>
}

function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target }
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else if (typeof value === 'object' && !Array.isArray(value) && typeof out[key] === 'object' && out[key] !== null && !Array.isArray(out[key]))
      out[key] = mergePatch(out[key] as Record<string, unknown>, value as Record<string, unknown>)
    else out[key] = value
  }
  return out
}

/**
 * Update name, plan and settings. The settings merge is computed here and written only if
 * `updated_at` has not moved since the read (optimistic concurrency): a concurrent update
 * answers 409 instead of being silently overwritten.
 */
export async function updateTenant(deps: ChangeDeps, id: string, patch: TenantPatch, ctx: AuditContext): Promise<Tenant> {
  const { db } = deps
  const current = await findTenantById(db, id)
  if (!current || current.status === 'deleted') throw fail(TenantErrors, 'tenant_not_found')
  const values: Omit<Partial<Tenant>, 'updatedAt'> & { updatedAt: SQL } = { updatedAt: sql`now()` }
  if (patch.name !== undefined) values.name = patch.name
  if (patch.plan !== undefined) values.plan = patch.plan
  if (patch.settings !== undefined) values.settings = mergePatch(current.settings, patch.settings)
  const { results } = await commitChange(deps, {
    tenant: current,
    meta: metaOf(ctx),
    statements: [
      db
        .update(tenants)
        .set(values)
        .where(and(eq(tenants.id, id), eq(tenants.updatedAt, current.updatedAt), inArray(tenants.status, ['active', 'suspended'])))
        .returning(),
    ],
    audit: { ...auditActorOf(ctx), action: 'tenant.updated', targetType: 'tenant', targetId: id, details: { fields: Object.keys(patch) }, when: changedNow(id) },
    effects: [tenantChanged(current)],
  })
  const updated = (results[0] as Tenant[])[0]
  if (!updated) throw fail(TenantErrors, 'tenant_conflict')
  return updated
}

const TRANSITIONS: Record<'suspend' | 'resume' | 'delete', { from: TenantStatus[]; to: TenantStatus }> = {
  suspend: { from: ['active'], to: 'suspended' },
  resume: { from: ['suspended'], to: 'active' },
  delete: { from: ['active', 'suspended'], to: 'deleted' },
}

/** Move a tenant through its lifecycle with a conditional write (no read-then-write race). */
export async function transitionTenant(deps: ChangeDeps, id: string, action: keyof typeof TRANSITIONS, ctx: AuditContext): Promise<Tenant> {
  const { db } = deps
  const { from, to } = TRANSITIONS[action]
  const current = await findTenantById(db, id)
  if (!current) throw fail(TenantErrors, 'tenant_not_found')
  if (!from.includes(current.status)) {
    throw fail(TenantErrors, 'invalid_transition', `A ${current.status} tenant cannot be ${to === 'active' ? 'resumed' : to}.`, {
      status: current.status,
    })
  }
  // The cached copies go in the same transaction's effects: a suspended tenant is never served as active after the answer.
  const { results } = await commitChange(deps, {
    tenant: current,
    meta: metaOf(ctx),
    statements: [
      db
        .update(tenants)
        .set({ status: to, updatedAt: sql`now()`, deletedAt: to === 'deleted' ? (sql`now()`) : null })
        .where(and(eq(tenants.id, id), inArray(tenants.status, from)))
        .returning(),
    ],
    audit: { ...auditActorOf(ctx), action: `tenant.${action === 'delete' ? 'deleted' : `${action}d`}`, targetType: 'tenant', targetId: id, when: changedNow(id) },
    effects: [tenantChanged(current)],
  })
  const updated = (results[0] as Tenant[])[0]
  if (!updated) throw fail(TenantErrors, 'tenant_conflict')
  return updated
}

/**
 * Drop a soft-deleted tenant's schema and registry row together. The first statement divides
 * by zero unless the tenant is still `deleted`, aborting the whole batch: the check and the
 * drop happen in the same transaction.
 */
export async function purgeTenant(deps: ChangeDeps, id: string): Promise<Tenant> {
  const { db } = deps
  const current = await findTenantById(db, id)
  if (!current) throw fail(TenantErrors, 'tenant_not_found')
  if (current.status !== 'deleted') throw fail(TenantErrors, 'purge_requires_deleted', undefined, { status: current.status })
  try {
    await commitChange(deps, {
      tenant: null,
      guards: [db.execute(sql`select 1 / (select count(*) from ${tenants} where ${tenants.id} = ${id} and ${tenants.status} = 'deleted')::int`)],
      statements: [db.execute(sql.raw(`drop schema if exists ${quotedSchema(current.schemaName)} cascade`)), db.delete(tenants).where(eq(tenants.id, id))],
      effects: [tenantChanged(current)],
    })
  } catch (err) {
    if (isPgError(err, '22012')) throw fail(TenantErrors, 'tenant_conflict') // division_by_zero: status changed
    throw err
  }
  return current
}
