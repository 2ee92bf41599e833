/**
 * Serves the real Worker (src/worker/index.ts) for browser tests, the way `npm start` does
 * (scripts/local-worker.ts: bundled with its wasm, run by Miniflare in workerd on 127.0.0.1 with a
 * local D1, migrations applied, and a local queue whose consumer is the Worker's own, so "export
 * now" really exports). D1 stays in memory; nothing is left on disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalWorker } from '../../scripts/local-worker.ts';

export interface WorkerServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Runs SQL statements against the Worker's D1 (test fixtures: profiles, datasets). */
  sql(query: string, ...params: unknown[]): Promise<void>;
  /** Runs the Worker's scheduled handler (one cron tick) for `at`, as a Cron Trigger would. */
  tick(at: Date): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts the Worker with the given secrets; ALLOW_LOOPBACK_ENDPOINTS is on (moto runs on loopback). */
export async function startWorker(bindings: { ADMIN_TOKEN: string; SECRETS_KEY: string }): Promise<WorkerServer> {
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  const state = await mkdtemp(join(tmpdir(), 'edge-export-browser-'));
  const worker = await startLocalWorker(ROOT, state, 0, { inMemory: true, bindings });
  const db = await worker.miniflare.getD1Database('DB');
  return {
    url: worker.url,
    async sql(query, ...params) {
      await db
        .prepare(query)
        .bind(...params)
        .run();
    },
    tick: (at) => worker.tick(at),
    stop: async () => {
      await worker.stop();
      await rm(state, { recursive: true, force: true });
    },
  };
}
