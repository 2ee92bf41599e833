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
import { abandonRun, executeRun } from './execute.ts';
import { invocationBudget } from './budget.ts';
import { servedPlatform } from './platform.ts';
import { tick } from './scheduler.ts';
import { runTask, type SnapshotAccess, storedSnapshots } from './fanout.ts';
import { consumeReshard } from './reshard.ts';
import { withTaskFault } from './shards/fanout.ts';
import { shardNamespace } from './shards/types.ts';

export interface WorkerHandlers {
  fetch(request: Request, env: Env, ctx: WaitUntil): Response | Promise<Response>;
  scheduled(controller: CronController, env: Env): Promise<void>;
  queue(batch: QueueBatch<RunMessage>, env: Env): Promise<void>;
}

/**
 * The Worker's handlers on `base`, the host's platform (bindings add the platform identity and the
 * endpoint policy per environment).
 *
 * `snapshots` reads snapshot sources (fanout.ts); by default the organization's stored sources.
 *
 * @example export default createWorker(workerdPlatform(zstdModule))
 */
export function createWorker(base: Platform, options: { readonly snapshots?: SnapshotAccess } = {}): WorkerHandlers {
  const snapshots = options.snapshots ?? storedSnapshots((env) => servedPlatform(base, env));
  const platform = (env: Env) => servedPlatform(base, env);
  const app = createApp({ now: () => base.now(), fetch: base.fetch, platform });
  // Every invocation gets its own budget of D1 queries (and an export its time), as on Cloudflare.
  return {
    fetch: (request, env, ctx) => app.fetch(request, invocationBudget(env).env, ctx as never),
    // Alerts go out through the served platform's fetch: the endpoint policy applies to them too.
    scheduled: async (controller, env) => {
      await tick(invocationBudget(env).env, new Date(controller.scheduledTime), platform(env).fetch);
    },
    queue: async (batch, env) => {
      const started = Date.now();
      const budget = invocationBudget(env);
      const executed = await consumeBatch(batch, budget.env, {
        executeRun: (e, run, lease) =>
          executeRun(e, run, platform(e), { pause: (owed) => budget.low(owed) || lease.lost(), snapshots }),
        runTask: (e, task) => runTask(withTaskFault(e, task), task, snapshots),
        reshard: (message, e) => consumeReshard(message, e, { shards: shardNamespace(e.SHARDS), pause: (owed) => budget.low(owed) }),
        finishing: budget.finishing,
        abandonRun: (e, run) => abandonRun(e, run, platform(e)),
      });
      // Alerts of these runs go out now; failures are retried by the cron with backoff.
      await deliverAlerts(budget.env, base.now(), platform(env).fetch);
      // One line per invocation that ran an export, for Workers Logs: what it spent of its budget.
      if (executed.length === 0) return;
      console.log(
        JSON.stringify({
          message: 'queue invocation',
          runs: executed,
          d1Queries: budget.queries,
          d1Limit: budget.limit,
          ms: Date.now() - started,
        }),
      );
    },
  };
}
