import { z } from '@hono/zod-openapi'
import type { SQL } from 'drizzle-orm'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../../app-env.ts'
import { fail } from '../../errors.ts'
import { decryptSecret, encryptSecret, hashToken } from '../../identity/secrets.ts'
import { retryIdempotent } from '../../platform/database.ts'
import { callerSubject } from '../permission/index.ts'
import { IdempotencyErrors } from './errors.ts'
import { claimKey, committedStatement, keyTable, releaseKey, storeResponse, type KeyRef } from '../../db/idempotency-keys.ts'

export interface IdempotencyClaim {
  /**
   * The statement to put in the creation's own batch (the one that creates the resource): it
   * marks the key `committed` in the same transaction, so a retry can never create twice, even if
   * the answer is lost after the commit. `when`: the same condition as a conditional insert.
   */
  committed(location: string, when?: SQL): ReturnType<typeof committedStatement>
}

export interface IdempotencyVariables {
  /** Set when the request carries an Idempotency-Key it holds the claim of; absent otherwise. */
  idempotency?: IdempotencyClaim
}

const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/

/** The header as a route declares it (request.headers), so that it appears in /openapi.json. */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z.string().regex(KEY_SHAPE).optional().openapi({
    description: 'Makes the creation safe to retry: the same key and body within 24 h answer the first answer (docs/reliability.md)',
    example: '3f1c7a52-9b0e-4d8e-a1f2-6c4b2d7e9a10',
  }),
})

type C = Context<AppEnv & { Variables: IdempotencyVariables }>

/** JSON with object keys sorted: the same body however its keys were ordered or spaced. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

async function fingerprintOf(c: C): Promise<string> {
  const hasBody = c.req.raw.body !== null && c.req.header('content-length') !== '0'
  const body = hasBody ? canonical(await c.req.json()) : ''
  return hashToken(`${c.req.method} ${new URL(c.req.url).pathname}\n${body}`)
}

interface StoredAnswer {
  status: number
  body: string
  location: string | null
}

/**
 * `Idempotency-Key` for a creation endpoint: declare it in the route's middleware, after the
 * permission check, and put `c.var.idempotency?.committed(location)` in the batch that creates.
 *
 * The same key with the same request (method, path, JSON body) within 24 h answers the first
 * answer again (status, body, Location; `Idempotency-Replayed: true`); with another request,
 * `422 idempotency_key_reused`; while the first is still running, `409 idempotency_in_progress`
 * with Retry-After. Keys live in the tenant's schema (platform routes: `public`) and are claimed
 * with a conditional insert, so concurrent duplicates create exactly once whatever Redis does.
 * Only success answers are kept: an error answer releases the key, and the retry runs afresh.
 * Stored answers are encrypted (DATA_ENCRYPTION_KEY): they may hold a secret shown once.
 */
export function idempotent(): MiddlewareHandler<AppEnv & { Variables: IdempotencyVariables }> {
  return async function idempotencyMiddleware(c, next) {
    const key = c.req.header('idempotency-key')
    if (key === undefined) return next()
    if (!KEY_SHAPE.test(key)) throw fail(IdempotencyErrors, 'idempotency_key_invalid')

    const tenant = c.var.tenant
    const subject = callerSubject(c)
    const ref: KeyRef = {
      table: keyTable(tenant ? tenant.schemaName : 'public'),
      scope: tenant ? (subject ? `${subject.type}:${subject.id}` : 'anonymous') : 'platform',
      key,
    }
    const db = c.var.db
    const encryptionKey = c.var.config.DATA_ENCRYPTION_KEY
    const context = `idempotency:${tenant?.id ?? 'platform'}:${ref.scope}:${key}`
    const claimId = crypto.randomUUID()
    const outcome = await retryIdempotent(async () => claimKey(db, ref, await fingerprintOf(c), claimId))

    switch (outcome.kind) {
      case 'reused':
        throw fail(IdempotencyErrors, 'idempotency_key_reused')
      case 'in_progress':
        c.header('Retry-After', String(outcome.retryAfterSeconds))
        throw fail(IdempotencyErrors, 'idempotency_in_progress')
      case 'committed':
        throw fail(IdempotencyErrors, 'idempotency_key_committed', undefined, { location: outcome.location })
      case 'done': {
        const answer = JSON.parse(await decryptSecret(encryptionKey, outcome.response, context)) as StoredAnswer
        const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Idempotency-Replayed': 'true' }
        if (answer.location) headers.Location = answer.location
        return c.body(answer.body, answer.status as 200, headers)
      }
    }

    let marked = false
    c.set('idempotency', {
      committed(location, when) {
        marked = true
        return committedStatement(db, ref, claimId, location, when)
      },
    })
    await next()

    const res = c.res
    if (res.status >= 200 && res.status < 300 && !c.error) {
      if (!marked) c.var.logger.error('idempotent route answered without marking its batch', { path: c.req.path })
      const answer: StoredAnswer = { status: res.status, body: await res.clone().text(), location: res.headers.get('location') }
      const sealed = await encryptSecret(encryptionKey, JSON.stringify(answer), context)
      try {
        await retryIdempotent(() => storeResponse(db, ref, claimId, sealed))
      } catch (err) {
        // The change is committed and the key says so: a retry learns the resource's location.
        c.var.logger.warn('idempotent answer not stored', { err })
      }
    } else {
      try {
        await retryIdempotent(() => releaseKey(db, ref, claimId))
      } catch (err) {
        // The key stays claimed until its lease ends; nothing was committed under it.
        c.var.logger.warn('idempotency key not released', { err })
      }
    }
  }
}
