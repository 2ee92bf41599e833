/**
 * The Worker on this machine, offline: bundled in memory by esbuild with the conditions wrangler uses, run by
 * Miniflare (workerd) with a local D1 and the SHARDS Durable Objects persisted under the state folder, the
 * EXPORTS queue delivered to the Worker's own consumer, and the D1 migrations applied (recorded in `d1_migrations`, the table
 * wrangler uses). Node-only: used by `npm start`, never by the Worker itself.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { Miniflare, type MiniflareOptions, type ModuleDefinition } from 'miniflare';

export interface LocalWorker {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly adminToken: string;
  /** Runs the cron handler once, as Cloudflare would on a trigger (at `time`, default now). */
  tick(time?: Date): Promise<void>;
  /** The Miniflare instance, for benches that drive the Worker's handlers or read its bindings. */
  readonly miniflare: Miniflare;
  stop(): Promise<void>;
}

/** Knobs for benches and tests; `npm start` uses the defaults. */
export interface LocalWorkerOptions {
  /** Consumer settings of the EXPORTS queue (default: batches of 1, 1 s timeout, 3 retries). */
  queue?: { maxBatchSize?: number; maxBatchTimeout?: number; maxRetries?: number };
  /** Extra or overriding text bindings (e.g. MAX_CATCH_UP). */
  bindings?: Record<string, string>;
  /** Keep D1 in memory instead of under `state/d1` (benches that start from scratch each time). */
  inMemory?: boolean;
  /** Opens workerd's V8 inspector on this loopback port (benches read isolate heaps through it). */
  inspectorPort?: number;
  /** Rewrites Miniflare's options before it starts (bench/sharded.ts adds queues and a worker around the Worker). */
  configure?: (options: MiniflareOptions) => MiniflareOptions;
}

interface LocalSecrets {
  SECRETS_KEY: string;
  ADMIN_TOKEN: string;
}

/** Bundles and starts the Worker; `state` holds the D1 data and the local secrets. */
export async function startLocalWorker(
  root: string,
  state: string,
  port: number,
  options: LocalWorkerOptions = {},
): Promise<LocalWorker> {
  const secrets = await localSecrets(state);
  const config: MiniflareOptions = {
    // In memory: workerd refuses module paths outside its working directory.
    modules: await bundleWorker(join(root, 'src/worker/index.ts')),
    compatibilityDate: await compatibilityDate(root),
    host: '127.0.0.1',
    port,
    cf: false,
    d1Databases: { DB: 'edge-export-local' },
    d1Persist: options.inMemory ? false : join(state, 'd1'),
    // Sharded profile storage (docs/SCALE.md): ProfileShard Durable Objects with SQLite storage, as wrangler.toml.
    durableObjects: { SHARDS: { className: 'ProfileShard', useSQLite: true } },
    durableObjectsPersist: options.inMemory ? false : join(state, 'do'),
    queueProducers: { EXPORTS: 'edge-export-runs' },
    queueConsumers: { 'edge-export-runs': { maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 3, ...options.queue } },
    bindings: { ...secrets, ALLOW_LOOPBACK_ENDPOINTS: 'true', MAX_CATCH_UP: '3', ...options.bindings },
    ...(options.inspectorPort !== undefined && { inspectorPort: options.inspectorPort }),
  };
  const mf = new Miniflare(options.configure ? options.configure(config) : config);
  try {
    const url = (await mf.ready).origin;
    await applyMigrations(mf, join(root, 'migrations'));
    return {
      url,
      adminToken: secrets.ADMIN_TOKEN,
      tick: async (time = new Date()) => {
        const worker = await mf.getWorker();
        await worker.scheduled({ scheduledTime: time, cron: '*/5 * * * *' });
      },
      miniflare: mf,
      stop: () => mf.dispose(),
    };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}

/**
 * Bundles a Worker entry with esbuild the way wrangler does (its conditions, `cloudflare:*` and
 * `node:*` external) and keeps `.wasm` imports as CompiledWasm modules beside the bundle, as
 * wrangler's default rules do: Workers cannot compile wasm from bytes at run time.
 */
export async function bundleWorker(entry: string): Promise<ModuleDefinition[]> {
  const wasm = new Map<string, string>();
  const built = await build({
    entryPoints: [entry],
    outfile: 'index.js',
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'error',
    plugins: [
      {
        name: 'compiled-wasm',
        setup(plugin) {
          plugin.onResolve({ filter: /\.wasm$/ }, (args) => {
            const file = resolve(args.resolveDir, args.path);
            const name = `${wasm.size}-${basename(file)}`;
            wasm.set(name, file);
            return { path: `./${name}`, external: true };
          });
        },
      },
    ],
  });
  return [
    { type: 'ESModule', path: 'index.js', contents: built.outputFiles[0]!.text },
    ...(await Promise.all(
      [...wasm].map(async ([name, file]) => ({ type: 'CompiledWasm' as const, path: name, contents: await readFile(file) })),
    )),
  ];
}

/** A local AES key and admin token, generated once and kept in the state folder (never committed). */
async function localSecrets(state: string): Promise<LocalSecrets> {
  const file = join(state, 'secrets.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as LocalSecrets;
  const secrets = {
    SECRETS_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
  };
  await mkdir(state, { recursive: true });
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

async function compatibilityDate(root: string): Promise<string> {
  const toml = await readFile(join(root, 'wrangler.toml'), 'utf8');
  const match = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml);
  if (!match) throw new Error('wrangler.toml has no compatibility_date');
  return match[1]!;
}

/** Applies migrations/*.sql not yet recorded, in name order, each in one batch. */
async function applyMigrations(mf: Miniflare, dir: string): Promise<void> {
  const db = await mf.getD1Database('DB');
  await db
    .prepare(
      'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)',
    )
    .run();
  const applied = new Set(
    (await db.prepare('SELECT name FROM d1_migrations').all<{ name: string }>()).results.map((r) => r.name),
  );
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort()) {
    if (applied.has(name)) continue;
    const statements = splitSql(await readFile(join(dir, name), 'utf8')).map((sql) => db.prepare(sql));
    statements.push(db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(name));
    await db.batch(statements);
  }
}

/** Statements of a migration file: whole-line `--` comments dropped, split at `;` ending a line. */
export function splitSql(text: string): string[] {
  const code = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return code
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
