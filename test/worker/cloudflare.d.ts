/** The parts of the workerd test modules these tests use, typed against the Worker's own bindings. */
declare module 'cloudflare:test' {
  import type { CronController, D1Database, QueueBatch, WaitUntil } from '../../src/worker/env.ts';
  export interface D1Migration {
    name: string;
    queries: string[];
  }
  export function applyD1Migrations(db: D1Database, migrations: D1Migration[], table?: string): Promise<void>;
  export function createExecutionContext(): WaitUntil & { passThroughOnException(): void };
  export function waitOnExecutionContext(ctx: WaitUntil): Promise<void>;
  export function createScheduledController(options?: {
    scheduledTime?: number | Date;
    cron?: string;
  }): CronController;
  export function createMessageBatch<Body>(
    queue: string,
    messages: { id: string; timestamp: Date; body: Body; attempts: number }[],
  ): QueueBatch<Body>;
  export function getQueueResult(
    batch: QueueBatch<unknown>,
    ctx: WaitUntil,
  ): Promise<{ explicitAcks: string[]; retryMessages: { msgId: string }[] }>;
}

declare module 'cloudflare:workers' {
  import type { D1Migration } from 'cloudflare:test';
  import type { Env } from '../../src/worker/env.ts';
  export const env: Env & { TEST_MIGRATIONS: D1Migration[] };
}
