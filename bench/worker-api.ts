/**
 * What the Worker benches (bench/audiences.ts, bench/snapshot.ts) share: an API client for the
 * local Worker, waiting for a run, the per-invocation figures the Worker logs ("queue invocation"
 * lines) and the Worker isolate's heap from `--trace-gc` lines, downloading exported files, and
 * comparing the members found with the expected ones.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
 * workerd's output as it reaches this process through console.log (Miniflare pipes it): its GC trace
 * and "queue invocation" lines kept (with `cpu()` — workerd's CPU seconds — when each invocation line
 * came), anything else printed by `print`, the console's own log.
 */
export function captureWorkerd(cpu: () => number): {
  lines: string[];
  cpuAtInvocation: { line: string; cpu: number }[];
  print: (...args: unknown[]) => void;
} {
  const lines: string[] = [];
  const cpuAtInvocation: { line: string; cpu: number }[] = [];
  const print = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (line.includes('"queue invocation"')) cpuAtInvocation.push({ line, cpu: cpu() });
    if (/ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)|"queue invocation"/.test(line)) lines.push(line);
    else print(...args);
  };
  return { lines, cpuAtInvocation, print };
}

export async function settle(api: Api, runId: string): Promise<Json> {
  for (;;) {
    const run = (await api('GET', `/runs/${runId}`)).body;
    if (run.status === 'succeeded' || run.status === 'failed') return run;
    await new Promise((r) => setTimeout(r, 50));
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
export function invocationLines(workerdLines: readonly string[], from: number, runId: string): { runs: string[]; d1Queries: number; ms: number }[] {
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
