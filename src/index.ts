import { createApp } from './app.ts'
import type { Env } from './config.ts'
import { runScheduledDrain } from './changes/drain.ts'
import { runWebhookScheduler } from './webhooks/scheduler.ts'

const app = createApp()

export default {
  fetch: app.fetch,
  // Cron Trigger (wrangler.toml [triggers]): effects committed changes still owe Redis, and webhook deliveries that are due.
  async scheduled(controller, env) {
    const [effects, webhooks] = await Promise.allSettled([runScheduledDrain(env, controller.scheduledTime), runWebhookScheduler(env, controller.scheduledTime)])
    for (const outcome of [effects, webhooks]) if (outcome.status === 'rejected') throw outcome.reason
  },
} satisfies ExportedHandler<Env>
