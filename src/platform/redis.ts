import { Redis } from '@upstash/redis/cloudflare'

const clients = new Map<string, Redis>()

/**
 * An Upstash REST client. One retry with a short back-off: the callers (rate limit, caches,
 * health) degrade on failure rather than wait through the client's default five retries.
 */
export function connectRedis(url: string, token: string): Redis {
  const key = `${url} ${token}`
  let redis = clients.get(key)
  if (!redis) {
    redis = new Redis({ url, token, retry: { retries: 1, backoff: () => 25 }, enableTelemetry: false })
    clients.set(key, redis)
  }
  return redis
}

export type { Redis }
