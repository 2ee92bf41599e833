/**
 * What a single-process host (Node, Deno) wraps around the Worker: the Worker's own handlers (API,
 * `scheduled`, `queue`) on the host's platform, with a SQLite-backed D1, an in-process queue for
 * EXPORTS and the bindings read from environment variables. Runtime-agnostic; node.ts and deno.ts
 * add a server, a cron and their platform.
 */
import type { Platform } from '../core/platform.ts';
import type { D1Database, Env, RunMessage } from '../worker/env.ts';
import type { ShardNamespace } from '../worker/shards/types.ts';
import { createWorker } from '../worker/worker.ts';
import { LocalQueue } from './queue.ts';

/**
 * The D1 value limit a host's SQLite applies: D1's 2,000,000 bytes, or `D1_MAX_VALUE_BYTES` (tests
 * lower it to exercise chunking with small data).
 */
export function maxValueBytes(source: Record<string, string | undefined>): { maxValueBytes?: number } {
  const n = Number(source.D1_MAX_VALUE_BYTES);
  return Number.isInteger(n) && n > 0 ? { maxValueBytes: n } : {};
}

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
  'CONSOLE_URL',
  'PLATFORM_PRINCIPAL_ARN',
  'D1_QUERIES_PER_INVOCATION',
  'D1_MAX_VALUE_BYTES',
  'EXPORT_INVOCATION_SECONDS',
  'EXPORT_PROFILE_PAGE',
  'EXPORT_SHARD_TASK_ROWS',
  'EXPORT_SORT_BUDGET',
  'RESHARD_PAGE',
  'RESHARD_SETTLE_SECONDS',
];

export interface Host {
  readonly env: Env;
  readonly queue: LocalQueue<RunMessage>;
  /**
   * The Worker's fetch handler with this host's bindings. With `EDGE_EXPORT_TEST_TRIGGERS=1`, also
   * `POST /cdn-cgi/handler/scheduled?time=<ms>` runs one cron tick for that time, as Miniflare's
   * `unsafeTriggerHandlers` does for the Worker (tests drive the scheduler without waiting).
   */
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

/**
 * Test-only platform members from the environment: with EDGE_EXPORT_TEST_TRIGGERS=1,
 * `EDGE_EXPORT_TEST_HOSTS="name=addr[,addr];name2=addr"` replaces the system resolver by that table
 * (names it lacks do not resolve; address literals resolve to themselves), so tests give a name any
 * address without /etc/hosts and without sending a DNS query anywhere. Empty otherwise.
 *
 * @example nodePlatform(process.env, testPlatformOverrides(process.env))
 */
export function testPlatformOverrides(source: Record<string, string | undefined>): Partial<Platform> {
  const table = source.EDGE_EXPORT_TEST_TRIGGERS === '1' ? source.EDGE_EXPORT_TEST_HOSTS : undefined;
  if (table === undefined) return {};
  const names = new Map<string, string[]>();
  for (const entry of table.split(';')) {
    const [name, addresses] = entry.split('=');
    if (name && addresses) names.set(name.trim().toLowerCase(), addresses.split(',').map((a) => a.trim()));
  }
  return {
    resolveHost: async (name) => {
      const key = name.toLowerCase().replace(/\.$/, '');
      if (/^[\d.]+$|:/.test(key)) return [key];
      const found = names.get(key);
      if (!found) throw Object.assign(new Error(`no test address for ${name}`), { code: 'ENOTFOUND' });
      return found;
    },
  };
}

/**
 * Wires the Worker's handlers, on this host's platform, to a database and environment variables;
 * `shards` (the host's shard files, shard-files.ts) becomes `env.SHARDS`.
 */
export function createHost(
  db: D1Database,
  source: Record<string, string | undefined>,
  platform: Platform,
  options: { readonly shards?: ShardNamespace } = {},
): Host {
  const worker = createWorker(platform);
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
  const triggers = source.EDGE_EXPORT_TEST_TRIGGERS === '1';
  const env: Env = {
    ...vars,
    SECRETS_KEY: vars.SECRETS_KEY!,
    DB: db,
    EXPORTS: queue,
    ...(options.shards && { SHARDS: options.shards }),
  };
  return {
    env,
    queue,
    fetch: async (request) => {
      if (triggers && new URL(request.url).pathname === '/cdn-cgi/handler/scheduled') {
        const time = Number(new URL(request.url).searchParams.get('time') ?? Date.now());
        await worker.scheduled({ scheduledTime: time, cron: '* * * * *' }, env);
        return new Response('ran scheduled handler\n');
      }
      return worker.fetch(request, env, { waitUntil });
    },
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
