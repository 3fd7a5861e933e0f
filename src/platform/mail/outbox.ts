import type { Redis } from '../redis.ts'
import type { MailMessage, MailSender } from './index.ts'

/** Redis list per recipient, newest first; kept a day, at most 50 messages (docs/storage.md). */
export const outboxKey = (to: string) => `outbox:${to.trim().toLowerCase()}`
const KEEP = 50
const TTL_SECONDS = 24 * 3600

export interface StoredMail extends MailMessage {
  created_at: string
}

export function outboxSender(redis: Redis): MailSender {
  return {
    async send(message) {
      const key = outboxKey(message.to)
      const stored: StoredMail = { ...message, created_at: new Date().toISOString() }
      const pipe = redis.pipeline()
      pipe.lpush(key, JSON.stringify(stored))
      pipe.ltrim(key, 0, KEEP - 1)
      pipe.expire(key, TTL_SECONDS)
      await pipe.exec()
    },
  }
}

export async function readOutbox(redis: Redis, to: string): Promise<StoredMail[]> {
  const items = await redis.lrange<StoredMail | string>(outboxKey(to), 0, KEEP - 1)
  return items.map((item) => (typeof item === 'string' ? (JSON.parse(item) as StoredMail) : item))
}
