/**
 * What a single-process host (Node, Deno) wraps around the Worker: the Worker's own entry (API,
 * `scheduled`, `queue`) with a SQLite-backed D1, an in-process queue for EXPORTS and the bindings
 * read from environment variables. Runtime-agnostic; node.ts and deno.ts add a server and a cron.
 */
import type { D1Database, Env, RunMessage } from '../worker/env.ts';
import worker from '../worker/index.ts';
import { LocalQueue } from './queue.ts';

/** Variables a host passes to the Worker, with wrangler.toml's [vars] defaults. */
const DEFAULT_VARS: Record<string, string> = {
  ALLOW_LOOPBACK_ENDPOINTS: 'false',
  MAX_CATCH_UP: '3',
  RUNS_RETENTION_DAYS: '90',
};
const VARS = [
  'SECRETS_KEY',
  'ADMIN_TOKEN',
  'ALLOW_LOOPBACK_ENDPOINTS',
  'MAX_CATCH_UP',
  'RUNS_RETENTION_DAYS',
];

export interface Host {
  readonly env: Env;
  readonly queue: LocalQueue<RunMessage>;
  /** The Worker's fetch handler with this host's bindings. */
  fetch(request: Request): Promise<Response>;
  /** One cron tick for `scheduledTime`, as a Cron Trigger would run it. */
  scheduled(scheduledTime: Date): Promise<void>;
  /** Stops the queue and waits for background work (`waitUntil`) to finish. */
  close(): Promise<void>;
}

/** The Worker's bindings from environment variables: known names and every `EDGE_EXPORT_*`. */
export function envVars(source: Record<string, string | undefined>): Record<string, string> {
  const vars: Record<string, string> = { ...DEFAULT_VARS };
  for (const [key, value] of Object.entries(source))
    if (value !== undefined && (VARS.includes(key) || key.startsWith('EDGE_EXPORT_'))) vars[key] = value;
  const key = vars.SECRETS_KEY;
  if (key === undefined || base64Length(key) !== 32)
    throw new Error('SECRETS_KEY must be set to base64 of 32 random bytes (openssl rand -base64 32)');
  return vars;
}

function base64Length(text: string): number {
  try {
    return atob(text).length;
  } catch {
    return -1;
  }
}

/** Wires the Worker to a database and environment variables. */
export function createHost(db: D1Database, source: Record<string, string | undefined>): Host {
  const background = new Set<Promise<unknown>>();
  const waitUntil = (promise: Promise<unknown>) => {
    const tracked = promise
      .catch((error) => console.error('edge-export background task failed', error))
      .finally(() => background.delete(tracked));
    background.add(tracked);
  };
  const queue = new LocalQueue<RunMessage>((batch) => worker.queue(batch, env), {
    name: 'edge-export-runs',
    // Exports at once; one by default, like the Worker's consumer settings.
    concurrency: Math.max(1, Number(source.EDGE_EXPORT_QUEUE_CONCURRENCY ?? 1) || 1),
    onDrop: (body, attempts) => console.error('edge-export run message dropped', { ...body, attempts }),
  });
  const vars = envVars(source);
  const env: Env = { ...vars, SECRETS_KEY: vars.SECRETS_KEY!, DB: db, EXPORTS: queue };
  return {
    env,
    queue,
    fetch: async (request) => worker.fetch(request, env, { waitUntil }),
    scheduled: async (scheduledTime) => {
      await worker.scheduled({ scheduledTime: scheduledTime.getTime(), cron: '* * * * *' }, env);
    },
    close: async () => {
      queue.close();
      await queue.idle();
      await Promise.all(background);
    },
  };
}
