import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { expect } from 'vitest'
import { memberships } from '../src/db/public-schema.ts'
import { schemaNameFor, tenantTables } from '../src/db/tenant-schema.ts'
import { connectDatabase } from '../src/platform/database.ts'
import { call, PLATFORM, tenantOrigin } from './support.ts'

/** Fixtures for test/members.test.ts and test/invitations.test.ts, built through the public API. */

export const PASSWORD = 'correct horse battery'
export const newEmail = () => `${crypto.randomUUID()}@example.com`

export interface Account {
  email: string
  user: { id: string }
  access_token: string
  refresh_token: string
}

export interface Owner extends Account {
  tenant: { id: string; slug: string }
  host: string
}

/** A new account on the platform host: it owns its personal tenant. */
export async function signUp(email = newEmail()): Promise<Owner> {
  const res = await call(`${PLATFORM}/v1/auth/register`, { body: { email, password: PASSWORD, name: 'Owner' } })
  expect(res.status).toBe(201)
  return { ...res.body, email, host: tenantOrigin(res.body.tenant.slug) }
}

/** The accept-link token of the newest mail to `email` (development outbox). */
export async function mailedToken(email: string): Promise<{ token: string; link: string; subject: string }> {
  const res = await call(`${PLATFORM}/dev/outbox?to=${encodeURIComponent(email)}`)
  const message = res.body.messages[0]
  expect(message, `no mail to ${email}`).toBeDefined()
  const link = message.text.match(/https?:\/\/\S+\/accept-invitation#token=[A-Za-z0-9_-]+/)?.[0]
  expect(link).toBeDefined()
  return { token: new URLSearchParams(new URL(link).hash.slice(1)).get('token')!, link, subject: message.subject }
}

export async function invite(host: string, token: string, email: string, role = 'member') {
  const res = await call(`${host}/v1/invitations`, { body: { email, role }, token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { invitation: res.body as { id: string; email: string; role: string }, ...(await mailedToken(email)) }
}

/** A new account that joins `owner`'s tenant with `role`, through an invitation. */
export async function addMember(owner: Owner, role = 'member'): Promise<Account> {
  const email = newEmail()
  const { token } = await invite(owner.host, owner.access_token, email, role)
  const res = await call(`${owner.host}/v1/invitations/accept`, { body: { token, password: PASSWORD, name: `A ${role}` } })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return { ...res.body, email }
}

export const database = () => connectDatabase(env.DATABASE_URL as string, env.NEON_FETCH_ENDPOINT as string)
export const tablesOf = (tenantId: string) => tenantTables(schemaNameFor(tenantId))

/** The tenant's audit actions, oldest first. */
export async function auditActions(tenantId: string): Promise<{ action: string; actorId: string | null; targetId: string | null; details: Record<string, unknown> }[]> {
  const log = tablesOf(tenantId).auditLog
  return database().select({ action: log.action, actorId: log.actorId, targetId: log.targetId, details: log.details }).from(log).orderBy(log.id)
}

export async function publicRole(tenantId: string, userId: string): Promise<string | undefined> {
  const rows = await database().select({ role: memberships.role, tenantId: memberships.tenantId }).from(memberships).where(eq(memberships.userId, userId))
  return rows.find((r) => r.tenantId === tenantId)?.role
}

/** The tenant's audit entries with the actor's type (user or api_key), oldest first. */
export async function auditEntries(tenantId: string) {
  const log = tablesOf(tenantId).auditLog
  return database().select({ action: log.action, actorType: log.actorType, actorId: log.actorId, targetId: log.targetId, details: log.details }).from(log).orderBy(log.id)
}

/** A custom role, through POST /v1/roles. */
export async function customRole(o: Owner, name: string, permissions: string[]) {
  const res = await call(`${o.host}/v1/roles`, { body: { name, permissions }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}

export interface ApiKeyAccount {
  id: string
  secret: string
  /** Headers that authenticate as the key. */
  headers: Record<string, string>
}

/** An API key of `o`'s tenant holding `roles`, created by its owner through POST /v1/api-keys. */
export async function apiKey(o: Owner, roles: string[]): Promise<ApiKeyAccount> {
  const res = await call(`${o.host}/v1/api-keys`, { body: { name: `key ${roles.join(' ')}`, roles }, token: o.access_token })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { id: res.body.id, secret: res.body.secret, headers: { 'x-api-key': res.body.secret } }
}
