/**
 * Cloudflare Queues for a single-process host: an in-process queue that delivers each message as a
 * batch of one to the Worker's queue handler, with Queues' consumer semantics — `ack()` settles,
 * `retry({ delaySeconds })` redelivers later with `attempts + 1`, a handler that throws redelivers
 * every message it did not ack, a handler that returns acks the rest; after `maxRetries` the message
 * is dropped (reported to `onDrop`). At least once: a message is delivered again until settled. A host
 * crash loses in-memory messages; the cron tick re-sends runs whose message was lost (scheduler.ts).
 */
import type { QueueBatch, QueueMessage, QueueSender } from '../worker/env.ts';

export interface LocalQueueOptions<Body> {
  /** Shown to the consumer as `batch.queue`. */
  readonly name?: string;
  /** Redeliveries after the first delivery, like wrangler's `max_retries` (default 3). */
  readonly maxRetries?: number;
  /** Delay of a redelivery after a throwing handler (default 0 s). */
  readonly retryDelaySeconds?: number;
  /** Deliveries in flight at once (default 1, like `max_concurrency = 1`). */
  readonly concurrency?: number;
  /** Called when a message exhausted its retries. */
  readonly onDrop?: (body: Body, attempts: number, error?: unknown) => void;
  /** Injectable timer, so tests control time; defaults to setTimeout. */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
}

interface Pending<Body> {
  readonly id: string;
  readonly body: Body;
  readonly attempts: number;
}

type Consumer<Body> = (batch: QueueBatch<Body>) => Promise<void>;

/** The EXPORTS binding of a Node or Deno host. */
export class LocalQueue<Body> implements QueueSender<Body> {
  private readonly ready: Pending<Body>[] = [];
  private readonly timers = new Set<unknown>();
  private running = 0;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly consumer: Consumer<Body>,
    private readonly options: LocalQueueOptions<Body> = {},
  ) {}

  /** Enqueues a message; with `delaySeconds` it becomes deliverable only after that delay. */
  async send(body: Body, options: { delaySeconds?: number } = {}): Promise<void> {
    if (this.closed) throw new Error('the queue is closed');
    this.later({ id: crypto.randomUUID(), body, attempts: 1 }, options.delaySeconds ?? 0);
  }

  /** Resolves once no message is waiting, delayed or being delivered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops delivering: delayed messages are dropped, deliveries in flight finish. */
  close(): void {
    this.closed = true;
    for (const handle of this.timers) (this.options.clearTimer ?? clearTimeout)(handle as never);
    this.timers.clear();
    this.ready.length = 0;
    this.settle();
  }

  private later(message: Pending<Body>, delaySeconds: number): void {
    if (this.closed) return;
    if (delaySeconds <= 0) {
      this.ready.push(message);
      queueMicrotask(() => this.pump());
      return;
    }
    const setTimer = this.options.setTimer ?? setTimeout;
    const handle = setTimer(() => {
      this.timers.delete(handle);
      if (this.closed) return;
      this.ready.push(message);
      this.pump();
    }, delaySeconds * 1000);
    this.timers.add(handle);
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 1;
    while (!this.closed && this.running < limit && this.ready.length > 0) {
      const message = this.ready.shift()!;
      this.running++;
      void this.deliver(message).finally(() => {
        this.running--;
        this.pump();
        this.settle();
      });
    }
    this.settle();
  }

  private async deliver(message: Pending<Body>): Promise<void> {
    let verdict: { ack: true } | { retry: number } | undefined;
    const view: QueueMessage<Body> = {
      id: message.id,
      body: message.body,
      attempts: message.attempts,
      ack: () => {
        verdict ??= { ack: true };
      },
      retry: (options) => {
        verdict ??= { retry: options?.delaySeconds ?? 0 };
      },
    };
    let failure: unknown;
    try {
      await this.consumer({ queue: this.options.name ?? 'local', messages: [view] });
    } catch (error) {
      failure = error;
      verdict ??= { retry: this.options.retryDelaySeconds ?? 0 };
    }
    if (verdict === undefined || 'ack' in verdict) return;
    if (message.attempts > (this.options.maxRetries ?? 3)) {
      this.options.onDrop?.(message.body, message.attempts, failure);
      return;
    }
    this.later({ ...message, attempts: message.attempts + 1 }, verdict.retry);
  }

  private isIdle(): boolean {
    return this.ready.length === 0 && this.timers.size === 0 && this.running === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
