/**
 * The Worker's handlers — the API, the cron tick and the queue consumer — over a host's platform.
 * The Worker's entry (index.ts) builds them with workerd's platform; the Node and Deno hosts with
 * theirs, so every host runs the same code with its own abilities.
 */
import type { Platform } from '../core/platform.ts';
import { deliverAlerts } from './alerts.ts';
import { createApp } from './app.ts';
import { consumeBatch } from './consumer.ts';
import type { CronController, Env, QueueBatch, RunMessage, WaitUntil } from './env.ts';
import { executeRun } from './execute.ts';
import { servedPlatform } from './platform.ts';
import { tick } from './scheduler.ts';

export interface WorkerHandlers {
  fetch(request: Request, env: Env, ctx: WaitUntil): Response | Promise<Response>;
  scheduled(controller: CronController, env: Env): Promise<void>;
  queue(batch: QueueBatch<RunMessage>, env: Env): Promise<void>;
}

/**
 * The Worker's handlers on `base`, the host's platform (bindings add the platform identity and the
 * endpoint policy per environment).
 *
 * @example export default createWorker(workerdPlatform(zstdModule))
 */
export function createWorker(base: Platform): WorkerHandlers {
  const platform = (env: Env) => servedPlatform(base, env);
  const app = createApp({ now: () => base.now(), fetch: base.fetch, platform });
  return {
    fetch: (request, env, ctx) => app.fetch(request, env, ctx as never),
    // Alerts go out through the served platform's fetch: the endpoint policy applies to them too.
    scheduled: async (controller, env) => {
      await tick(env, new Date(controller.scheduledTime), platform(env).fetch);
    },
    queue: async (batch, env) => {
      await consumeBatch(batch, env, { executeRun: (e, run) => executeRun(e, run, platform(e)) });
      // Alerts of these runs go out now; failures are retried by the cron with backoff.
      await deliverAlerts(env, base.now(), platform(env).fetch);
    },
  };
}
