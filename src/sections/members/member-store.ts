import { and, asc, eq, ilike, ne, or, sql } from 'drizzle-orm'
import { users } from '../../db/public-schema.ts'
import { tenantTables } from '../../db/tenant-schema.ts'
import type { Database } from '../../platform/database.ts'
import type { Tenant } from '../../tenancy/registry.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'

export interface MemberRecord {
  userId: string
  email: string
  name: string | null
  role: string
  status: 'active' | 'disabled'
  /** As Postgres prints it (microseconds kept: it is half of the page cursor). */
  joinedAt: string
}

/**
 * A member of `tenant` with the account's email and name (tenant row joined to public users).
 * A `pending` row (a domain sign-up whose address is not verified yet, src/identity/memberships.ts)
 * is no member: every read here leaves it out.
 */
function memberQuery(db: Database, tenant: Pick<Tenant, 'schemaName'>) {
  const m = tenantTables(tenant.schemaName).members
  return {
    m,
    isMember: ne(m.status, 'pending'),
    query: db
      .select({ userId: m.userId, email: users.email, name: users.name, role: m.role, status: sql<MemberRecord['status']>`${m.status}`, joinedAt: m.joinedAt })
      .from(m)
      .innerJoin(users, eq(users.id, m.userId)),
  }
}

export async function findMember(db: Database, tenant: Pick<Tenant, 'schemaName'>, userId: string): Promise<MemberRecord | undefined> {
  const { m, isMember, query } = memberQuery(db, tenant)
  const rows = await query.where(and(eq(m.userId, userId), isMember)).limit(1)
  return rows[0]
}

/** `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\\` taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`

/**
 * Members in the order they joined (ties by user id); keyset pagination on (joined_at, user_id).
 * `q` keeps those whose email or name contains it; the cursor works the same on the narrowed list.
 */
export async function listMembers(db: Database, tenant: Pick<Tenant, 'schemaName'>, page: { limit: number; cursor?: string; q?: string }) {
  const { m, isMember, query } = memberQuery(db, tenant)
  const after = page.cursor ? decodeCursor(page.cursor, ['timestamp', 'uuid']) : undefined
  const rows = await query
    .where(and(
      isMember,
      page.q ? or(ilike(users.email, containing(page.q)), ilike(users.name, containing(page.q))) : undefined,
      after ? sql`(${m.joinedAt}, ${m.userId}) > (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined,
    ))
    .orderBy(asc(m.joinedAt), asc(m.userId))
    .limit(page.limit + 1)
  const data = rows.slice(0, page.limit)
  const last = data.at(-1)
  return { data, nextCursor: rows.length > page.limit && last ? encodeCursor([last.joinedAt, last.userId]) : null }
}

export function presentMember(m: MemberRecord) {
  return { user_id: m.userId, email: m.email, name: m.name, role: m.role, status: m.status, joined_at: new Date(m.joinedAt).toISOString() }
}
