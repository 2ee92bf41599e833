/** The Cloudflare Worker entry: wiring only — the API, the cron tick and the queue consumer. */
import { deliverAlerts } from './alerts.ts';
import { createApp } from './app.ts';
import { consumeBatch } from './consumer.ts';
import type { CronController, Env, QueueBatch, RunMessage, WaitUntil } from './env.ts';
import { executeRun } from './execute.ts';
import { tick } from './scheduler.ts';

const app = createApp();

export default {
  fetch: (request: Request, env: Env, ctx: WaitUntil) => app.fetch(request, env, ctx as never),
  scheduled: async (controller: CronController, env: Env) => {
    await tick(env, new Date(controller.scheduledTime));
  },
  queue: async (batch: QueueBatch<RunMessage>, env: Env) => {
    await consumeBatch(batch, env, { executeRun });
    // Alerts of these runs go out now; failures are retried by the cron with backoff.
    await deliverAlerts(env, new Date(), fetch);
  },
};
