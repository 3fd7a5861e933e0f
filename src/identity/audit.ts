import type { RequestScope } from '../platform/request-scope.ts'
import { uuidv7 } from '../db/ids.ts'
import { userEvents } from '../db/public-schema.ts'
import { tenantTables } from '../db/tenant-schema.ts'
import type { Database } from '../platform/database.ts'

export interface AuditEvent {
  action: string
  actorType?: 'user' | 'platform_admin' | 'api_key' | 'system' | 'anonymous'
  actorId?: string | null
  targetType?: string | null
  targetId?: string | null
  outcome?: 'success' | 'failure'
  details?: Record<string, unknown>
}

export interface RequestMeta {
  ip: string | null
  userAgent: string | null
}

/** The caller's IP and user agent, as Cloudflare passes them. */
export function requestMeta(c: RequestScope): RequestMeta {
  const ip = c.req.header('cf-connecting-ip') ?? null
  return { ip: ip && /^[0-9a-fA-F:.]{2,45}$/.test(ip) ? ip : null, userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null }
}

/** An insert into the tenant's audit log, to be awaited or put in the batch of the change it records. */
export function auditInsert(db: Database, schemaName: string, meta: RequestMeta, event: AuditEvent) {
  return db.insert(tenantTables(schemaName).auditLog).values({
    id: uuidv7(),
    actorType: event.actorType ?? 'user',
    actorId: event.actorId ?? null,
    action: event.action,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    outcome: event.outcome ?? 'success',
    ip: meta.ip,
    userAgent: meta.userAgent,
    details: event.details ?? {},
  })
}

/** A platform-level event kept for the user (account created, password changed…). */
export function userEventInsert(db: Database, userId: string, meta: RequestMeta, action: string, details: Record<string, unknown> = {}) {
  return db.insert(userEvents).values({ id: uuidv7(), userId, action, ip: meta.ip, userAgent: meta.userAgent, details })
}
