import { eq } from 'drizzle-orm'
import { users, type UserRow } from '../db/public-schema.ts'
import type { Database } from '../platform/database.ts'

export type User = UserRow

/** Emails are compared and stored trimmed and lowercased: one account per address. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase()

export async function findUserByEmail(db: Database, email: string): Promise<User | undefined> {
  const rows = await db.select().from(users).where(eq(users.email, normaliseEmail(email))).limit(1)
  return rows[0]
}

export async function findUserById(db: Database, id: string): Promise<User | undefined> {
  const rows = await db.select().from(users).where(eq(users.id, id)).limit(1)
  return rows[0]
}

export function presentUser(u: User) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    email_verified: u.emailVerifiedAt !== null,
    has_password: u.passwordHash !== null,
    created_at: new Date(u.createdAt).toISOString(),
  }
}
