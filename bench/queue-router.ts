/**
 * Two queue consumers for a local bench (bench/sharded.ts). Miniflare's queue broker delivers one
 * batch at a time per queue (its `#flush` awaits the consumer's answer before the next), so one queue
 * never has two invocations in flight. Here the Worker's `EXPORTS` binding is a service binding to a
 * small router Worker whose `send`/`sendBatch` (RPC, the same calls a Queue producer takes) put each
 * message on one of `QUEUES` queues, all consumed by the Worker with the same settings: with 2, a
 * fanned-out run's tasks alternate between two queues whose brokers deliver concurrently — two
 * invocations in flight, as a Cloudflare queue with `max_concurrency` 2 would have. The plan and
 * reduce messages (no `task`) always go to the first queue. `POST /consumers?n=K` (through
 * `miniflare.getWorker(ROUTER)`) sets how many queues take tasks from then on, so one Miniflare (one
 * ingest) serves runs with 1 and with 2 consumers.
 *
 * What it does not change: workerd runs every request of a process on one thread, so two invocations
 * in flight overlap their waits (D1, Durable Object calls, S3), not their CPU.
 */
import type { MiniflareOptions, WorkerOptions } from 'miniflare';

export const ROUTER = 'exports-router';
export const ROUTED_QUEUES = ['edge-export-runs', 'edge-export-runs-2'] as const;

const SCRIPT = `
import { WorkerEntrypoint } from 'cloudflare:workers';
let consumers = 1;
export default class Router extends WorkerEntrypoint {
  queueOf(body) {
    const k = body && typeof body.task === 'number' ? body.task % consumers : 0;
    return this.env['Q' + k];
  }
  async send(body, options) {
    await this.queueOf(body).send(body, options);
  }
  async sendBatch(messages, options) {
    const byQueue = new Map();
    for (const m of messages) {
      const q = this.queueOf(m.body);
      byQueue.set(q, [...(byQueue.get(q) ?? []), m]);
    }
    await Promise.all([...byQueue].map(([q, batch]) => q.sendBatch(batch, options)));
  }
  async fetch(request) {
    const n = Number(new URL(request.url).searchParams.get('n'));
    if (!Number.isInteger(n) || n < 1 || n > ${ROUTED_QUEUES.length}) return new Response('n: expected 1 to ${ROUTED_QUEUES.length}', { status: 400 });
    consumers = n;
    return new Response(String(consumers));
  }
}`;

/** Miniflare options that hold for the whole process, not one worker (they stay at the top level). */
const SHARED = new Set(['host', 'port', 'cf', 'd1Persist', 'durableObjectsPersist', 'inspectorPort', 'verbose', 'log', 'rootPath']);

/**
 * `startLocalWorker`'s `configure`: the Worker (its options as local-worker.ts builds them) beside the
 * router, its `EXPORTS` producer replaced by the router, and every routed queue consumed by it with
 * the settings local-worker.ts gave its one queue.
 */
export function routedQueues(options: MiniflareOptions): MiniflareOptions {
  const shared: Record<string, unknown> = {};
  const worker: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) (SHARED.has(key) ? shared : worker)[key] = value;
  const consumers = worker.queueConsumers as Record<string, object>;
  const settings = Object.values(consumers)[0]!;
  const { queueProducers: _, ...rest } = worker;
  const edge = {
    ...rest,
    name: 'edge-export',
    serviceBindings: { EXPORTS: ROUTER },
    queueConsumers: Object.fromEntries(ROUTED_QUEUES.map((q) => [q, settings])),
  } as unknown as WorkerOptions;
  const router = {
    name: ROUTER,
    modules: true,
    script: SCRIPT,
    compatibilityDate: worker.compatibilityDate as string,
    queueProducers: Object.fromEntries(ROUTED_QUEUES.map((q, k) => [`Q${k}`, q])),
  } as WorkerOptions;
  return { ...shared, workers: [edge, router] } as MiniflareOptions;
}
