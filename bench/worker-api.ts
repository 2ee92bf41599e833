/**
 * What the Worker benches (bench/audiences.ts, bench/snapshot.ts) share: an API client for the
 * local Worker, waiting for a run, the per-invocation figures the Worker logs ("queue invocation"
 * lines) and the Worker isolate's heap from `--trace-gc` lines, downloading exported files, and
 * comparing the members found with the expected ones.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { cpuSeconds } from './proc.ts';
import { gcTrace } from './workerd-process.ts';

// biome-ignore lint/suspicious/noExplicitAny: API answers are read field by field
export type Json = any;
export type Api = (method: string, path: string, body?: unknown, type?: string) => Promise<{ status: number; body: Json; text: string }>;
export function client(url: string, token: string): Api {
  // Starting a run carries an Idempotency-Key, so it is as safe to send again as a GET.
  const once = (method: string, path: string) => (method === 'POST' && path.endsWith('/run') ? randomUUID() : undefined);
  const send = async (method: string, path: string, body: unknown, type: string, key = once(method, path), tries = 3): Promise<Response> => {
    try {
      return await fetch(`${url}/v1${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body !== undefined && { 'Content-Type': type }),
          ...(key && { 'Idempotency-Key': key }),
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    } catch (error) {
      // A keep-alive connection the server closed as it was reused: a GET or a keyed POST is sent again.
      if ((method !== 'GET' && !key) || tries <= 1) throw error;
      return send(method, path, body, type, key, tries - 1);
    }
  };
  return async (method, path, body, type = 'application/json') => {
    const res = await send(method, path, body, type);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
}

/**
 * Posts an NDJSON file to `POST /v1/profiles` in batches of `batch` lines, `inFlight` at a time; the
 * first failure stops it. How many profiles were stored, and the seconds taken.
 */
export async function ingestNdjson(api: Api, file: string, inFlight: number, batch = 10_000): Promise<{ count: number; seconds: number }> {
  const t0 = performance.now();
  const pending = new Set<Promise<void>>();
  let count = 0;
  let failed: unknown;
  const post = (body: string, n: number) => {
    const p = (async () => {
      const res = await api('POST', '/profiles', body, 'application/x-ndjson');
      if (res.status !== 200 || res.body.stored !== n) throw new Error(`ingest: ${res.status} ${res.text.slice(0, 300)}`);
    })()
      .catch((error) => {
        failed ??= error;
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  let lines: string[] = [];
  for await (const line of createInterface(createReadStream(file))) {
    lines.push(line);
    if (lines.length < batch) continue;
    count += lines.length;
    post(lines.join('\n'), lines.length);
    lines = [];
    while (pending.size >= inFlight) await Promise.race(pending);
    if (failed) throw failed;
  }
  if (lines.length > 0) {
    count += lines.length;
    post(lines.join('\n'), lines.length);
  }
  await Promise.all(pending);
  if (failed) throw failed;
  return { count, seconds: (performance.now() - t0) / 1000 };
}

/**
 * workerd's output as the Worker benches keep it: Miniflare pipes it to this process's console.log,
 * which this replaces. GC trace lines and "queue invocation" lines are kept in `lines` (not printed),
 * each invocation line with workerd's CPU seconds (`cpu()`, by default those of the process `pid` — set
 * once workerd runs) and the time (ms) when it arrived; everything else is printed, through `print`
 * (the original console.log).
 */
export function captureWorkerd(cpu?: () => number): {
  lines: string[];
  cpuAtInvocation: { line: string; cpu: number; at: number }[];
  print: (...args: unknown[]) => void;
  pid: { value: number | undefined };
} {
  const lines: string[] = [];
  const cpuAtInvocation: { line: string; cpu: number; at: number }[] = [];
  const pid: { value: number | undefined } = { value: undefined };
  const cpuNow = cpu ?? (() => cpuSeconds(pid.value));
  const print = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.includes('"queue invocation"')) cpuAtInvocation.push({ line, cpu: cpuNow(), at: Date.now() });
    if (/ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)|"queue invocation"/.test(line)) lines.push(line);
    else print(...args);
  };
  return { lines, cpuAtInvocation, print, pid };
}

export type Captured = ReturnType<typeof captureWorkerd>;

/** A CSV destination in `bucket` of a local S3 (moto) written with `writer`'s keys, manifest on. */
export function csvDestination(s3: { region: string; endpoint: string }, writer: { accessKeyId: string; secretAccessKey: string }, bucket: string, folderPath: string) {
  return {
    name: folderPath.replaceAll('/', ' ').trim(),
    bucket,
    folderPath,
    region: s3.region,
    endpoint: s3.endpoint,
    auth: { method: 'accessKey', ...writer },
    fileType: 'csv',
    manifest: true,
  };
}

/** For each kind, a destination and a dataflow exporting `audienceId` in full with the kind's mapping; their ids by kind. */
export async function dataflowsByKind<K extends string>(
  api: Api,
  audienceId: string,
  kinds: readonly K[],
  destination: (kind: K) => object,
  mapping: (kind: K) => object,
  name: string,
): Promise<Map<K, string>> {
  const flows = new Map<K, string>();
  for (const kind of kinds) {
    const created = await api('POST', '/destinations', destination(kind));
    if (created.status !== 201) throw new Error(`POST /v1/destinations: ${created.status} ${created.text.slice(0, 500)}`);
    const flow = await api('POST', '/dataflows', {
      name: `${name} ${kind}`,
      destinationId: created.body.id,
      audienceIds: [audienceId],
      exportMode: 'full',
      mapping: mapping(kind),
    });
    if (flow.status !== 201) throw new Error(`POST /v1/dataflows: ${flow.status} ${flow.text.slice(0, 500)}`);
    flows.set(kind, flow.body.id);
  }
  return flows;
}

/** A run measured from outside: its answer, wall time, workerd's CPU, tasks and what each invocation logged. */
export interface MeasuredRun {
  run: Json;
  seconds: number;
  /** workerd's CPU seconds during the run (the Worker, its Durable Objects and the D1 simulator: one process). */
  cpu: number;
  /** D1 `run_tasks` rows of the run (a fanned-out run's tasks) and the claims of them (attempts). */
  tasks: number;
  claims: number;
  invocations: (InvocationLine & Record<string, unknown>)[];
  /** Of them, the invocations that ran a task (the map step); the others planned or reduced. */
  taskInvocations: number;
  /** workerd's CPU between each invocation line of the run and the line before (the run's start first): an invocation's CPU when they follow each other. */
  perInvocationCpu: number[];
  maxQueries: number;
  maxInvocationMs: number;
  /** Most invocations of the run in flight at once (each spans its logged `ms` up to its line's arrival). */
  maxInFlight: number;
  /** The Worker isolate's heap (workerHeap) over the run. */
  heap: { peak: number; live: number };
}

/**
 * Starts a dataflow's run, waits for it (`watched`: the cron fired every 30 s meanwhile) and measures
 * it from workerd's captured output; throws unless it succeeded.
 */
export async function measuredRun(api: Api, db: RunsDb, flowId: string, tick: () => Promise<void>, captured: Captured): Promise<MeasuredRun> {
  const lineFrom = captured.lines.length;
  const cpuFrom = captured.cpuAtInvocation.length;
  const cpu0 = cpuSeconds(captured.pid.value);
  const t0 = performance.now();
  const queued = await api('POST', `/dataflows/${flowId}/run`);
  if (queued.status !== 202) throw new Error(queued.text);
  const run = await watched(settle(api, queued.body.id), queued.body.id as string, db, tick, captured.print);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(captured.pid.value) - cpu0;
  if (run.status !== 'succeeded') throw new Error(`run ${run.id} of dataflow ${flowId}: ${run.status} ${JSON.stringify(run.error)}`);
  const invocations = invocationLines(captured.lines, lineFrom, run.id) as MeasuredRun['invocations'];
  const marks = captured.cpuAtInvocation.slice(cpuFrom).filter((m) => m.line.includes(run.id));
  const tasks = await db
    .prepare('SELECT count(*) AS tasks, coalesce(sum(attempt), 0) AS claims FROM run_tasks WHERE run_id = ?')
    .bind(run.id)
    .first<{ tasks: number; claims: number }>();
  return {
    run,
    seconds,
    cpu,
    tasks: tasks?.tasks ?? 0,
    claims: tasks?.claims ?? 0,
    invocations,
    taskInvocations: invocations.filter((i) => i.runs.every((r) => r.includes('#'))).length,
    perInvocationCpu: marks.map((m, i) => m.cpu - (i === 0 ? cpu0 : marks[i - 1]!.cpu)),
    maxQueries: Math.max(0, ...invocations.map((i) => i.d1Queries)),
    maxInvocationMs: Math.max(0, ...invocations.map((i) => i.ms)),
    maxInFlight: mostInFlight(marks.map((m) => ({ end: m.at, start: m.at - (JSON.parse(m.line.slice(m.line.indexOf('{'))) as InvocationLine).ms }))),
    heap: workerHeap(captured.lines, lineFrom),
  };
}

/** Most intervals overlapping at one instant. */
export function mostInFlight(spans: readonly { start: number; end: number }[]): number {
  const edges = spans.flatMap((s) => [
    { t: s.start, d: 1 },
    { t: s.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}

export async function settle(api: Api, runId: string): Promise<Json> {
  for (;;) {
    const run = (await api('GET', `/runs/${runId}`)).body;
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What `watched` reads of the Worker's D1 (Miniflare's `getD1Database`). */
export interface RunsDb {
  prepare(query: string): {
    bind(...values: unknown[]): {
      all<T>(): Promise<{ results: T[] }>;
      first<T = Record<string, unknown>>(): Promise<T | null>;
    };
  };
}

/**
 * Waits for `settling` while, every 30 s, printing the run's tasks by status (with the last error)
 * and firing the cron once, as Cloudflare's trigger would: the tick re-sends runs and tasks whose
 * lease ran out (a consumer that died), which nothing else does.
 */
export async function watched<T>(settling: Promise<T>, runId: string, db: RunsDb, tick: () => Promise<void>, print: (line: string) => void): Promise<T> {
  let done = false;
  const settled = settling.finally(() => {
    done = true;
  });
  const watcher = (async () => {
    const t0 = performance.now();
    while (!done) {
      await Promise.race([settled.catch(() => {}), new Promise((r) => setTimeout(r, 30_000))]);
      if (done) return;
      const tasks = await db
        .prepare('SELECT status, count(*) AS n, max(attempt) AS attempts, max(error) AS error FROM run_tasks WHERE run_id = ? GROUP BY status')
        .bind(runId)
        .all<{ status: string; n: number; attempts: number; error: string | null }>();
      const run = await db.prepare('SELECT status, attempts, error FROM runs WHERE id = ?').bind(runId).first();
      print(`  ${((performance.now() - t0) / 1000).toFixed(0)} s: run ${JSON.stringify(run)}; tasks ${JSON.stringify(tasks.results)}; cron tick`);
      await tick();
    }
  })();
  try {
    return await settled;
  } finally {
    await watcher;
  }
}

/**
 * The heap of the isolate that collected most often among the collections logged from index `from`
 * on — the Worker running the export (V8 prints `[pid:0xisolate]` first, no name): its largest heap
 * at a collection (V8 lets garbage build up towards the cap before a full collection) and its
 * largest live heap after a full collection (what the export really holds), MiB.
 */
export function workerHeap(workerdLines: readonly string[], from: number): { peak: number; live: number } {
  const byIsolate = new Map<string, string[]>();
  for (const l of workerdLines.slice(from)) {
    const isolate = /\[\d+:(0x[0-9a-f]+)\]/.exec(l)?.[1];
    if (isolate) byIsolate.set(isolate, [...(byIsolate.get(isolate) ?? []), l]);
  }
  const busiest = [...byIsolate.values()].sort((a, b) => b.length - a.length)[0];
  if (!busiest) return { peak: 0, live: 0 };
  const trace = gcTrace(busiest);
  // Live: only a full collection tells (a scavenge leaves old-space garbage counted); 0 when none ran.
  return { peak: trace.peakUsedMiB, live: Math.max(0, ...trace.liveAfterFullGcMiB) };
}

/**
 * The "queue invocation" lines (from index `from` on) of the invocations that worked on `runId`: the
 * run itself, or one of its fan-out tasks (logged as `runId#task`).
 */
export interface InvocationLine {
  runs: string[];
  d1Queries: number;
  ms: number;
}
export function invocationLines(workerdLines: readonly string[], from: number, runId: string): InvocationLine[] {
  return workerdLines
    .slice(from)
    .filter((l) => l.includes('"queue invocation"'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))))
    .filter((l: { runs: string[] }) => l.runs.some((r) => r === runId || r.startsWith(`${runId}#`)));
}

/** Downloads `keys`; with `under` (their folder), each keeps its path below it (`country=FR/…`) for Hive-partitioned reading. */
export async function download(s3: S3Client, bucket: string, keys: string[], dir: string, under?: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    keys.map(async (key, i) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const path = under ? join(dir, key.slice(under.length)) : join(dir, `${i}-${key.split('/').pop()}`);
      if (under) await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, await got.Body!.transformToByteArray());
      return path;
    }),
  );
}

/** Compares two sets; '' when equal, else what differs (counts and a few examples). */
export function difference(want: Set<string>, got: string[]): string {
  const seen = new Set<string>();
  const extra: string[] = [];
  let repeated = 0;
  for (const g of got) {
    if (seen.has(g)) repeated++;
    seen.add(g);
    if (!want.has(g)) extra.push(g);
  }
  const missing = [...want].filter((w) => !seen.has(w));
  if (missing.length === 0 && extra.length === 0 && repeated === 0) return '';
  return `missing ${missing.length} (${missing.slice(0, 3).join(', ')}), unexpected ${extra.length} (${extra.slice(0, 3).join(', ')}), repeated ${repeated}`;
}

/** Runs a process to its end: exit code, stdout and stderr (the benches run the CLI this way). */
export function processOutput(command: string, args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}
