import { createApp } from './app.ts'
import type { Env } from './config.ts'
import { runWebhookScheduler } from './webhooks/scheduler.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  // Cron Trigger (wrangler.toml [triggers]): webhook deliveries that are due.
  async scheduled(controller, env) {
    await runWebhookScheduler(env, controller.scheduledTime)
  },
} satisfies ExportedHandler<Env>
