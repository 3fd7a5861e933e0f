import type { Config } from '../../config.ts'
import type { Redis } from '../redis.ts'
import { outboxSender } from './outbox.ts'
import { sendgridSender } from './sendgrid.ts'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
}

/** Where mail goes. Adapters: SendGrid's HTTP API (production) and a Redis outbox (development, tests). */
export interface MailSender {
  /** Deliver one message; rejects when the transport refuses it. */
  send(message: MailMessage): Promise<void>
}

/** The sender chosen by MAIL_TRANSPORT. */
export function mailSender(config: Config, redis: Redis): MailSender {
  if (config.MAIL_TRANSPORT === 'outbox') return outboxSender(redis)
  return sendgridSender({ apiKey: config.SENDGRID_API_KEY!, apiUrl: config.SENDGRID_API_URL, from: config.MAIL_FROM })
}
