/**
 * The hosts a user runs edge-export on, started the way a user starts them, each serving the /v1 API
 * on a free loopback port: the Worker in workerd (Miniflare, as `npm start` runs it: bundled with its
 * wasm, local D1 persisted under a state folder, the EXPORTS queue delivered to its own consumer),
 * and the Node and Deno hosts as child processes (SQLite file, in-process queue). Cron ticks are
 * driven by the test at chosen times: Miniflare's scheduled handler, and the hosts'
 * `POST /cdn-cgi/handler/scheduled?time=` (EDGE_EXPORT_TEST_TRIGGERS=1, own ticker off).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { startLocalWorker } from '../../scripts/local-worker.ts';
import { shardFileName } from '../../src/hosts/shard-files.ts';
import { SHARD_BUCKETS, SHARD_WRITE_MAX, type ShardStore } from '../../src/worker/shards/types.ts';

export type HostKind = 'workerd' | 'node' | 'deno';

export interface JourneyHost {
  readonly kind: HostKind;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly adminToken: string;
  /** Runs one cron tick for `at`, as the platform's cron would, and waits for it. */
  tick(at: Date): Promise<void>;
  /** Every byte the host persisted (its database files), to prove what is never stored. */
  storedBytes(): Promise<Buffer>;
  /** Reads the host's database (D1 in workerd, the SQLite file of Node and Deno). */
  sql<T>(query: string, ...params: unknown[]): Promise<T[]>;
  /**
   * The profile ids one shard of a sharded organization holds (docs/SCALE.md), read from the shard
   * itself: its ProfileShard Durable Object in workerd, its SQLite file on Node and Deno.
   */
  shardIds(orgId: string, shard: string): Promise<string[]>;
  /** The host's own output (stdout and stderr of a child process). */
  output(): string;
  /** The folder of the host's state (its database), kept by `kill`, removed by `stop`. */
  readonly state: string;
  /** Kills a child host with SIGKILL (no shutdown, nothing drained), keeping its state to restart on. */
  kill(): Promise<void>;
  /** The process id of a child-process host (Node, Deno), to measure its memory; undefined for workerd. */
  readonly pid?: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The state folder of a killed host, to start it again on the same database. */
  readonly state?: string;
}

const ROOT = new URL('../../', import.meta.url).pathname;
const ADMIN_TOKEN = 'journey-admin-token-0123456789abcdef';

const COMMANDS: Record<Exclude<HostKind, 'workerd'>, [string, string[]]> = {
  node: [process.execPath, ['bin/run-ts.js', 'src/hosts/node.ts']],
  deno: [
    'node_modules/.bin/deno',
    ['run', '--unstable-cron', '--allow-net', '--allow-read', '--allow-write', '--allow-env', 'src/hosts/deno.ts'],
  ],
};

/** Starts a host with these extra bindings (text variables and secrets). */
export async function startJourneyHost(kind: HostKind, bindings: Record<string, string>, options: StartOptions = {}): Promise<JourneyHost> {
  const state = options.state ?? (await mkdtemp(join(tmpdir(), `edge-export-journey-${kind}-`)));
  try {
    return kind === 'workerd' ? await startWorkerd(state, bindings) : await startChild(kind, state, bindings);
  } catch (error) {
    await rm(state, { recursive: true, force: true });
    throw error;
  }
}

async function startWorkerd(state: string, bindings: Record<string, string>): Promise<JourneyHost> {
  const worker = await startLocalWorker(ROOT, state, 0, { bindings: { ...bindings, ADMIN_TOKEN } });
  return {
    kind: 'workerd',
    url: worker.url,
    adminToken: ADMIN_TOKEN,
    tick: (at) => worker.tick(at),
    storedBytes: () => bytesUnder(join(state, 'd1')),
    sql: async <T>(query: string, ...params: unknown[]) => {
      const db = await worker.miniflare.getD1Database('DB');
      return (await db.prepare(query).bind(...params).all<T>()).results;
    },
    shardIds: async (orgId, shard) => {
      const shards = await worker.miniflare.getDurableObjectNamespace('SHARDS');
      const stub = shards.get(shards.idFromName(`${orgId}/${shard}`)) as unknown as ShardStore;
      const rows = await stub.profiles(orgId, { from: 0, to: SHARD_BUCKETS }, { after: null, through: null }, SHARD_WRITE_MAX);
      return rows.map((row) => row.id);
    },
    output: () => '',
    state,
    kill: () => Promise.reject(new Error('kill: only child hosts')),
    stop: async () => {
      await worker.stop();
      await rm(state, { recursive: true, force: true });
    },
  };
}

async function startChild(kind: 'node' | 'deno', state: string, bindings: Record<string, string>): Promise<JourneyHost> {
  const [command, args] = COMMANDS[kind];
  // The key of the destination secrets stays with the database: a host started again can open them.
  const keyFile = join(state, 'secrets-key');
  const secretsKey = await readFile(keyFile, 'utf8').catch(async () => {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    await writeFile(keyFile, key, { mode: 0o600 });
    return key;
  });
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      PORT: '0',
      EDGE_EXPORT_DB: join(state, 'edge-export.sqlite'),
      SECRETS_KEY: secretsKey,
      ADMIN_TOKEN,
      EDGE_EXPORT_CRON: 'off',
      EDGE_EXPORT_TEST_TRIGGERS: '1',
      ...bindings,
    },
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${kind} host exited (${code}) before listening:\n${output}`)));
    child.once('error', reject);
  });
  return {
    kind,
    url,
    adminToken: ADMIN_TOKEN,
    tick: async (at) => {
      const res = await fetch(`${url}/cdn-cgi/handler/scheduled?time=${at.getTime()}`, { method: 'POST' });
      if (!res.ok) throw new Error(`tick failed: ${res.status} ${await res.text()}`);
    },
    storedBytes: () => bytesUnder(state),
    sql: async <T>(query: string, ...params: unknown[]) => {
      // A second connection to the host's SQLite file (WAL: readers do not block the host).
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string, options: object) => {
        prepare(sql: string): { all(...p: unknown[]): T[] };
        close(): void;
      };
      const db = new Database(join(state, 'edge-export.sqlite'), { readonly: true });
      try {
        return db.prepare(query).all(...params);
      } finally {
        db.close();
      }
    },
    shardIds: async (orgId, shard) => {
      // The host's shard file (EDGE_EXPORT_SHARDS_DIR unset: beside its database), read by a second connection.
      const file = join(state, 'edge-export.sqlite.shards', shardFileName(orgId, shard));
      if (!existsSync(file)) return [];
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string, options: object) => {
        prepare(sql: string): { all(...p: unknown[]): { id: string }[] };
        close(): void;
      };
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT id FROM profiles WHERE org_id = ? ORDER BY id').all(orgId).map((row) => row.id);
      } finally {
        db.close();
      }
    },
    output: () => output,
    state,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
    ...(child.pid !== undefined && { pid: child.pid }),
    stop: async () => {
      await stopChild(child);
      await rm(state, { recursive: true, force: true });
    },
  };
}

/** Stops a child by pid (SIGTERM: the host drains its queue) and waits until it has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

/** The bytes of every file under a folder, concatenated (SQLite main files, WAL and journals). */
async function bytesUnder(dir: string): Promise<Buffer> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Buffer.concat(await Promise.all(files.map((f) => readFile(f))));
}

/** The /v1 API of a running host, as a client sees it. */
export function apiClient(url: string, token: string) {
  return async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const response = await fetch(`${url}/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'Content-Type': contentType }),
      },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: responses are asserted structurally by the journeys
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text };
  };
}
export type Api = ReturnType<typeof apiClient>;

/** Polls a run until it leaves queued/running, for at most `ms` milliseconds. */
export async function settledRun(api: Api, runId: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = (await api('GET', `/runs/${runId}`)).body;
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
