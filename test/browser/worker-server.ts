/**
 * Serves the real Worker (src/worker/index.ts) for browser tests: bundled with esbuild, run by
 * Miniflare in workerd on 127.0.0.1 with a local D1 (migrations applied) and a local queue whose
 * consumer is the Worker's own, so "export now" really exports.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

export interface WorkerServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Runs SQL statements against the Worker's D1 (test fixtures: profiles, datasets). */
  sql(query: string, ...params: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Bundles the Worker once (workerd cannot load TypeScript) and returns the module source. */
async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [`${ROOT}src/worker/index.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['browser', 'module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    external: ['node:*', 'cloudflare:*'],
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output for src/worker/index.ts');
  return out.text;
}

/** The statements of every migration file, in order. */
async function migrationStatements(): Promise<string[]> {
  const dir = `${ROOT}migrations/`;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const statements: string[] = [];
  for (const file of files) {
    const text = (await readFile(dir + file, 'utf8')).replace(/^\s*--.*$/gm, '');
    statements.push(
      ...text
        .split(/;\s*$/m)
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }
  return statements;
}

/** The compatibility date wrangler.toml deploys with. */
async function compatibilityDate(): Promise<string> {
  const toml = await readFile(`${ROOT}wrangler.toml`, 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!date) throw new Error('wrangler.toml has no compatibility_date');
  return date;
}

/** Starts the Worker with the given secrets; ALLOW_LOOPBACK_ENDPOINTS is on (moto runs on loopback). */
export async function startWorker(bindings: {
  ADMIN_TOKEN: string;
  SECRETS_KEY: string;
}): Promise<WorkerServer> {
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: `${ROOT}worker.mjs`, contents: await bundleWorker() }],
    // As wrangler.toml: its date and no compatibility flags, so nothing Node-only creeps in unnoticed.
    compatibilityDate: await compatibilityDate(),
    host: '127.0.0.1',
    port: 0,
    cf: false,
    d1Databases: { DB: 'edge-export-browser-test' },
    queueProducers: { EXPORTS: { queueName: 'edge-export-runs' } },
    queueConsumers: { 'edge-export-runs': { maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 3 } },
    bindings: { ...bindings, ALLOW_LOOPBACK_ENDPOINTS: 'true', MAX_CATCH_UP: '3' },
  });
  const url = await mf.ready;
  const db = await mf.getD1Database('DB');
  await db.batch((await migrationStatements()).map((s) => db.prepare(s)));
  return {
    url: url.origin,
    async sql(query, ...params) {
      await db
        .prepare(query)
        .bind(...params)
        .run();
    },
    stop: () => mf.dispose(),
  };
}
