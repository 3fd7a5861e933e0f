import { and, desc, eq, isNull, sql, type SQL } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { commitChange, type ChangeDeps } from '../changes/commit.ts'
import type { WebhookEvent, WebhookEventType } from '../webhooks/outbox.ts'
import { revokedKey, sessionsRevoked } from '../changes/effects.ts'
import { uuidv7 } from '../db/ids.ts'
import { memberships, tenants } from '../db/public-schema.ts'
import { tenantTables } from '../db/tenant-schema.ts'
import { fail } from '../errors.ts'
import type { Database } from '../platform/database.ts'
import type { Logger } from '../platform/logger.ts'
import type { Redis } from '../platform/redis.ts'
import type { RedisRound } from '../platform/redis-round.ts'
import { signEs512, type SigningKeys } from '../platform/signing-keys.ts'
import type { Tenant } from '../tenancy/registry.ts'
import type { RequestMeta } from './audit.ts'
import { IdentityErrors } from './errors.ts'
import { decryptSecret, encryptSecret, hashToken, randomToken } from './secrets.ts'

export interface TokenResponse {
  access_token: string
  refresh_token: string
  expires_in: number
  token_type: 'Bearer'
}

export interface SessionDeps {
  db: Database
  redis: Redis
  logger: Logger
  /** The tenant's current signing key (loaded on first use: most session operations sign nothing). */
  signer: () => Promise<SigningKeys['privateJwk']>
  /** The `aud` of the tenant's access tokens. */
  audience: string
  accessTtl: number
  refreshTtl: number
  /** Seconds a used refresh token still answers a request racing its rotation (REFRESH_GRACE_SECONDS). */
  refreshGrace: number
  /** DATA_ENCRYPTION_KEY: the successor kept for the refresh grace is stored encrypted. */
  dataKey: string
  /** The tenant's URL, the `iss` of its tokens (https://<slug>.<base domain>). */
  issuer: string
  /** Work finished after the answer (the request's waitUntil): marking applied effects, delivering webhooks. */
  defer?: (work: Promise<unknown>) => void
  /** To deliver webhook events at once (their secrets); without it the scheduler delivers them. */
  config?: ChangeDeps['config']
}

export { revokedKey }

export async function signAccessToken(deps: SessionDeps, claims: { sub: string; tid: string; sid: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return signEs512({ ...claims, iss: deps.issuer, aud: deps.audience, iat: now, exp: now + deps.accessTtl, jti: crypto.randomUUID() }, await deps.signer())
}

/** How a new session starts: whether it passed MFA, and an absolute end it may not outlive (a switch carries its source's). */
export interface SessionOptions {
  mfa?: boolean
  expiresAt?: string
}

/**
 * The statements that open a session (session row + first refresh token), so a caller can put
 * them in the same batch as the change that signs the user in (registration, joining…).
 */
export async function sessionStatements(deps: SessionDeps, tenant: Pick<Tenant, 'schemaName'>, userId: string, meta: RequestMeta, options: SessionOptions = {}) {
  const t = tenantTables(tenant.schemaName)
  const sessionId = uuidv7()
  const refreshToken = randomToken()
  const fullTerm = Date.now() + deps.refreshTtl * 1000
  const expiresAt = new Date(options.expiresAt ? Math.min(fullTerm, Date.parse(options.expiresAt)) : fullTerm).toISOString()
  const statements = [
    deps.db.insert(t.sessions).values({ id: sessionId, userId, expiresAt, ip: meta.ip, userAgent: meta.userAgent, mfa: options.mfa ?? false }),
    deps.db.insert(t.refreshTokens).values({ tokenHash: await hashToken(refreshToken), sessionId }),
  ] as const
  return { sessionId, refreshToken, expiresAt, statements }
}

export async function tokensFor(deps: SessionDeps, tenant: Pick<Tenant, 'id'>, userId: string, sessionId: string, refreshToken: string): Promise<TokenResponse> {
  return {
    access_token: await signAccessToken(deps, { sub: userId, tid: tenant.id, sid: sessionId }),
    refresh_token: refreshToken,
    expires_in: deps.accessTtl,
    token_type: 'Bearer',
  }
}

/**
 * Open a session and answer its tokens, through `commitChange`: the session, `also` (statements
 * that belong to the same transaction), the audit entry and `events` (given the new session's
 * id, e.g. user.login), delivered after the answer. The batch's results are returned.
 */
export async function startSession(
  deps: SessionDeps,
  tenant: Tenant,
  userId: string,
  meta: RequestMeta,
  options: SessionOptions & { action?: string; events?: (sessionId: string) => WebhookEvent<WebhookEventType>[]; also?: readonly BatchItem<'pg'>[] } = {},
) {
  const { sessionId, refreshToken, statements } = await sessionStatements(deps, tenant, userId, meta, options)
  const { batch } = await commitChange(deps, {
    tenant,
    meta,
    statements: [...statements, ...(options.also ?? [])],
    audit: { action: options.action ?? 'user.login', actorId: userId, targetType: 'session', targetId: sessionId },
    events: options.events?.(sessionId),
  })
  return { sessionId, tokens: await tokensFor(deps, tenant, userId, sessionId, refreshToken), results: batch }
}

/** Additional data binding an encrypted successor to the tenant and to the token it succeeds. */
const successorContext = (tenantId: string, predecessorHash: string) => `refresh_successor:${tenantId}:${predecessorHash}`

/**
 * Rotate a refresh token. One statement marks the presented token used and, only if it was
 * unused and its session is live, records its successor — no read-then-write race. The used
 * token keeps its successor (hash, and the token encrypted) for the refresh grace.
 *
 * A token presented again is either a race (two tabs, or a client retrying after a timeout):
 * within `refreshGrace` seconds of its use and while its successor is still unused, it answers
 * that same successor (and a fresh access token for the same session), so both requests end
 * up holding the one live refresh token. Or it is a replay — after the grace, or once the
 * successor has been used — and a sign of theft: the whole session is revoked (reuse detection).
 */
export async function refreshSession(deps: SessionDeps, tenant: Tenant, presented: string, meta: RequestMeta): Promise<TokenResponse> {
  const s = sql.identifier(tenant.schemaName)
  const presentedHash = await hashToken(presented)
  const next = randomToken()
  const nextHash = await hashToken(next)
  const nextEnc = await encryptSecret(deps.dataKey, next, successorContext(tenant.id, presentedHash))
  const rotated = await deps.db.execute<{ session_id: string; user_id: string }>(sql`
    with used as (
      update ${s}.refresh_tokens set used_at = now(), successor_hash = ${nextHash}, successor_enc = ${nextEnc}
      where token_hash = ${presentedHash} and used_at is null
      returning session_id
    ), live as (
      update ${s}.sessions ss set last_used_at = now(), ip = coalesce(${meta.ip}::inet, ss.ip), user_agent = coalesce(${meta.userAgent}, ss.user_agent)
      from used where ss.id = used.session_id and ss.revoked_at is null and ss.expires_at > now()
      returning ss.id as session_id, ss.user_id
    ), issued as (
      insert into ${s}.refresh_tokens (token_hash, session_id) select ${nextHash}, session_id from live
    ), forgotten as (
      -- The presented token is now used, so its predecessor's grace is over: drop the readable copy.
      update ${s}.refresh_tokens set successor_enc = null
      where successor_hash = ${presentedHash} and successor_enc is not null and exists (select 1 from live)
    )
    select session_id, user_id from live`)
  const row = rotated.rows[0]
  if (row) return tokensFor(deps, tenant, row.user_id, row.session_id, next)

  const known = await deps.db.execute<{ session_id: string; user_id: string | null; successor_enc: string | null; successor_hash: string | null; in_grace: boolean; successor_unused: boolean; live: boolean }>(sql`
    select rt.session_id, ss.user_id, rt.successor_enc, rt.successor_hash,
      coalesce(rt.used_at > now() - make_interval(secs => ${deps.refreshGrace}), false) as in_grace,
      (succ.token_hash is not null and succ.used_at is null) as successor_unused,
      coalesce(ss.revoked_at is null and ss.expires_at > now(), false) as live
    from ${s}.refresh_tokens rt
    left join ${s}.refresh_tokens succ on succ.token_hash = rt.successor_hash
    left join ${s}.sessions ss on ss.id = rt.session_id
    where rt.token_hash = ${presentedHash} and rt.used_at is not null
    limit 1`)
  const used = known.rows[0]
  if (!used) throw fail(IdentityErrors, 'invalid_grant')
  if (used.live && used.in_grace && used.successor_unused && used.successor_enc && used.user_id) {
    const successor = await decryptSecret(deps.dataKey, used.successor_enc, successorContext(tenant.id, presentedHash))
    if ((await hashToken(successor)) === used.successor_hash) return tokensFor(deps, tenant, used.user_id, used.session_id, successor)
  }
  const revoked = await revokeSession(deps, tenant, used.session_id, 'refresh_token_reuse', meta, null)
  if (revoked) deps.logger.warn('refresh token reuse: session revoked', { tenant: tenant.id, session: used.session_id })
  throw fail(IdentityErrors, 'invalid_grant')
}

type RevocationDeps = Pick<SessionDeps, 'db' | 'redis' | 'logger' | 'accessTtl' | 'defer'>

/** How long a revocation must be remembered: as long as an access token of the session can live. */
const keepSeconds = (deps: Pick<SessionDeps, 'accessTtl'>) => deps.accessTtl + 60

/**
 * The statement that ends every live session of a user in a tenant (optionally sparing one, and
 * only if `when` holds in the batch's transaction), with the `sessions_revoked` effect that
 * makes every isolate refuse their access tokens: for the batch of the change that ends them.
 */
export function sessionRevocation(deps: Pick<SessionDeps, 'db' | 'accessTtl'>, tenant: Pick<Tenant, 'id' | 'schemaName'>, userId: string, reason: string, options: { except?: string; when?: SQL } = {}) {
  const s = sql.identifier(tenant.schemaName)
  return {
    statement: deps.db.execute<{ id: string }>(sql`
      update ${s}.sessions set revoked_at = now(), revoked_reason = ${reason}
      where user_id = ${userId} and revoked_at is null
        ${options.except ? sql`and id <> ${options.except}` : sql``}
        ${options.when ? sql`and ${options.when}` : sql``}
      returning id`),
    // Those this transaction revoked (now() is its start).
    effect: sessionsRevoked(tenant, sql`select id from ${s}.sessions where user_id = ${userId} and revoked_at = now() and revoked_reason = ${reason}`, keepSeconds(deps)),
  }
}

/**
 * End a session: its refresh tokens stop at once, its access tokens as soon as the
 * `sessions_revoked` effect is applied — before the answer, or by the next drain if Redis fails.
 */
export async function revokeSession(deps: RevocationDeps, tenant: Tenant, sessionId: string, reason: string, meta: RequestMeta, actorId: string | null, userId?: string): Promise<boolean> {
  const t = tenantTables(tenant.schemaName)
  const s = sql.identifier(tenant.schemaName)
  const { results } = await commitChange(deps, {
    tenant,
    meta,
    statements: [
      deps.db
        .update(t.sessions)
        .set({ revokedAt: sql`now()`, revokedReason: reason })
        .where(and(eq(t.sessions.id, sessionId), isNull(t.sessions.revokedAt), userId ? eq(t.sessions.userId, userId) : undefined))
        .returning({ id: t.sessions.id, userId: t.sessions.userId }),
    ],
    audit: { action: 'session.revoked', actorId, targetType: 'session', targetId: sessionId, details: { reason } },
    effects: [sessionsRevoked(tenant, sql`select id from ${s}.sessions where id = ${sessionId} and revoked_at = now()`, keepSeconds(deps))],
  })
  return (results[0] as { id: string }[]).length > 0
}

/** End every live session of a user in a tenant (logout-all, password reset), optionally sparing one. */
export async function revokeAllSessions(deps: RevocationDeps, tenant: Tenant, userId: string, reason: string, except?: string): Promise<string[]> {
  const { statement, effect } = sessionRevocation(deps, tenant, userId, reason, { except })
  const { results } = await commitChange(deps, { tenant: null, statements: [statement], effects: [effect] })
  return rowsOf<{ id: string }>(results[0]).map((r) => r.id)
}

/**
 * End the user's sessions in every tenant they belong to (the password is global, so a password
 * change or reset concerns them all), optionally sparing one session of `spare.tenantId`.
 */
export async function revokeSessionsEverywhere(deps: RevocationDeps, userId: string, reason: string, spare?: { tenantId: string; sessionId: string }): Promise<string[]> {
  const memberOf = await deps.db
    .select({ id: tenants.id, schemaName: tenants.schemaName })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(eq(memberships.userId, userId))
  const revoked: string[] = []
  for (const t of memberOf) revoked.push(...(await revokeAllSessions(deps, t as Tenant, userId, reason, spare?.tenantId === t.id ? spare.sessionId : undefined)))
  return revoked
}

/** The rows of a raw result (the HTTP driver answers batch rows as arrays or objects; a single column here). */
function rowsOf<T extends Record<string, unknown>>(result: unknown): T[] {
  const { fields, rows } = result as { fields?: { name: string }[]; rows?: unknown[] }
  return (rows ?? []).map((row) => (Array.isArray(row) ? (Object.fromEntries((fields ?? []).map((f, i) => [f.name, row[i]])) as T) : (row as T)))
}

/**
 * Whether an access token's session has ended: Redis first (the hot path, one command, or a read
 * in the request's round);
 * if Redis is unreachable, the session row decides.
 */
export async function isSessionRevoked(deps: Pick<SessionDeps, 'db' | 'redis' | 'logger'> & { round?: RedisRound }, tenant: Tenant, sessionId: string): Promise<boolean> {
  try {
    // In the request's Redis round when it carries the marker (src/identity/session-checks.ts).
    if (deps.round) return (await deps.round.get(revokedKey(sessionId))) !== null
    return (await deps.redis.exists(revokedKey(sessionId))) === 1
  } catch (err) {
    deps.logger.warn('revocation check fell back to the database', { err })
    const t = tenantTables(tenant.schemaName)
    const rows = await deps.db.select({ revokedAt: t.sessions.revokedAt }).from(t.sessions).where(eq(t.sessions.id, sessionId)).limit(1)
    return !rows[0] || rows[0].revokedAt !== null
  }
}

export async function listSessions(db: Database, tenant: Tenant, userId: string) {
  const t = tenantTables(tenant.schemaName)
  return db
    .select()
    .from(t.sessions)
    .where(and(eq(t.sessions.userId, userId), isNull(t.sessions.revokedAt), sql`${t.sessions.expiresAt} > now()`))
    .orderBy(desc(t.sessions.id))
    .limit(100)
}
