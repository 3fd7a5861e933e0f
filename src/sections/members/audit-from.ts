import { sql, type Name, type SQL } from 'drizzle-orm'
import { uuidv7 } from '../../db/ids.ts'
import type { RequestMeta } from '../../identity/audit.ts'

/**
 * The conditional twin of auditInsert, for a data-modifying CTE: `insert … select … from
 * <source>` writes the audit row only if the guarded change produced a row, in the same
 * statement — nothing is logged for a change that did not happen. `source` yields at most
 * one row (it is keyed by a primary key). Pass `id` to find the entry afterwards in the same
 * transaction (a webhook event emitted only if the change happened).
 */
export function auditFrom(
  schema: Name,
  source: SQL,
  meta: RequestMeta,
  event: { id?: string; action: string; actorType: 'user' | 'api_key'; actorId: string; targetType: string; targetId: string; details: Record<string, unknown> },
) {
  return sql`insert into ${schema}.audit_log (id, actor_type, actor_id, action, target_type, target_id, ip, user_agent, details)
    select ${event.id ?? uuidv7()}::uuid, ${event.actorType}, ${event.actorId}, ${event.action}, ${event.targetType}, ${event.targetId}, ${meta.ip}::inet, ${meta.userAgent}, ${JSON.stringify(event.details)}::jsonb
    from ${source}`
}
