import type { MiddlewareHandler } from 'hono'
import { configFor, type Config } from '../../config.ts'
import { connectDatabase, type Database } from '../../platform/database.ts'
import { createBudget, withBudget } from '../../platform/deadline.ts'
import { createLogger, type Logger } from '../../platform/logger.ts'
import { connectRedis, type Redis } from '../../platform/redis.ts'
import { RedisRound } from '../../platform/redis-round.ts'
import { tenantDirectory, type TenantDirectory } from '../../tenancy/directory.ts'

export interface RequestContextVariables {
  requestId: string
  config: Config
  logger: Logger
  db: Database
  redis: Redis
  /** The request's first Redis round trip, which the rate limiter sends with the reads queued before it. */
  round: RedisRound
  tenants: TenantDirectory
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/

/**
 * First in the chain: gives the request an id (an incoming X-Request-Id is kept when it is
 * well formed), parses the configuration, puts the platform clients on the context, gives the
 * request its backend budget (REQUEST_BUDGET_MS) and writes one structured log line per request.
 */
export function requestContext(): MiddlewareHandler<{ Variables: RequestContextVariables }> {
  return async function requestContextMiddleware(c, next) {
    const started = Date.now()
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID()
    c.set('requestId', requestId)
    c.header('X-Request-Id', requestId)
    let config: Config
    try {
      config = configFor(c.env as object)
    } catch (err) {
      // A bad configuration must still produce a JSON error with the request id: log at error level.
      c.set('logger', createLogger('error', { request_id: requestId }))
      throw err
    }
    const logger = createLogger(config.LOG_LEVEL, { request_id: requestId })
    const db = connectDatabase(config.DATABASE_URL, config.NEON_FETCH_ENDPOINT, { timeoutMs: config.SQL_TIMEOUT_MS })
    const redis = connectRedis(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN, { timeoutMs: config.REDIS_TIMEOUT_MS })
    c.set('config', config)
    c.set('logger', logger)
    c.set('db', db)
    c.set('redis', redis)
    c.set('round', new RedisRound(redis))
    c.set('tenants', tenantDirectory({
      db,
      redis,
      logger,
      memoryTtlSeconds: config.TENANT_CACHE_TTL_SECONDS,
      redisTtlSeconds: config.TENANT_REDIS_CACHE_TTL_SECONDS,
    }))

    // Every SQL and Redis call made while serving this request shares one budget.
    await withBudget(createBudget(config.REQUEST_BUDGET_MS), next)

    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
    })
  }
}
