/**
 * The export inside workerd under a 128 MB heap cap: CSV+gzip of the benchmark rows to S3 (moto)
 * and to sink/discard, one invocation per fresh workerd process. Miniflare cannot pass V8 flags, so
 * the Worker runs in the workerd binary directly (bench/workerd-process.ts) with
 * `--max-heap-size=<cap>`: V8 aborts the process if the isolate's heap passes the cap. Before the
 * cases, a proof: retaining 200 MiB of JS objects must kill the capped process, and 200 MiB of
 * ArrayBuffers must not (V8's cap leaves backing stores out; the bench reports them separately).
 * Per case: CPU = utime+stime of workerd during the invocation; peak RSS = VmHWM after clear_refs;
 * V8 heap and external memory from `--trace-gc-verbose` (sampled at every collection).
 *
 * Run: node bin/run-ts.js bench/workerd.ts [--rows 100000,1000000] [--heap 128[,0]] [--s3 partSize:concurrency,…] [--write]
 *   --heap 128,0 runs every case capped and without a cap (V8 default limit); --write updates docs/BENCHMARKS.md.
 */
import { cpus, loadavg } from 'node:os';
import { build } from 'esbuild';
import { createBucket, startMoto } from '../test/harness/moto.ts';
import { writeSection } from './report.ts';
import { type Workerd, cpuSeconds, gcTrace, memoryMiB, resetPeak, startWorkerd } from './workerd-process.ts';
import { type CapProof, type WorkerdResult, workerdSection } from './workerd-report.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const rowCounts = arg('--rows', '100000,1000000,3000000').split(',').map(Number);
/** V8 heap caps to run every case under, MB; 0 = none (V8's default limit). */
const heapCaps = arg('--heap', '128').split(',').map(Number);
const proofCap = heapCaps.find((c) => c > 0);
/** S3 sink settings to run: `default` and/or `partSize:concurrency` pairs (bytes, parts in flight). */
const s3Settings = arg('--s3', 'default').split(',');
const COMPAT = '2026-04-20';

const bundle = await build({
  entryPoints: [new URL('./workerd-worker.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
});
const script = bundle.outputFiles[0]!.text;

/** `--no-trace` leaves the GC trace out, to see what it costs in CPU (heap columns then stay empty). */
const trace = argv.includes('--no-trace') ? [] : ['--trace-gc', '--trace-gc-verbose'];

function flags(cap: number): string[] {
  return [...(cap > 0 ? [`--max-heap-size=${cap}`] : []), '--expose-gc', ...trace];
}

/** The workerd running now, stopped on Ctrl-C. */
let current: Workerd | undefined;

async function get(w: Workerd, path: string): Promise<Response | Error> {
  try {
    return await fetch(`${w.url}${path}`);
  } catch (error) {
    return error as Error;
  }
}

/** Retains 200 MiB of `kind` under the cap: did workerd die at V8's heap limit, and what did RSS add. */
async function prove(kind: 'objects' | 'buffers', cap: number): Promise<CapProof> {
  const w = await startWorkerd({ script, bindings: {}, v8Flags: flags(cap), compatibilityDate: COMPAT });
  current = w;
  try {
    const idle = memoryMiB(w.pid, 'VmRSS');
    const res = await get(w, `/retain?mb=200&kind=${kind}`);
    const ok = res instanceof Response && res.ok;
    if (res instanceof Error) await w.exited;
    const heapLimit = w.output.some((l) => l.includes('Reached heap limit'));
    const rssAddedMiB = w.exit ? undefined : memoryMiB(w.pid, 'VmRSS') - idle;
    const trace = gcTrace(w.output);
    return { kind, cap, completed: ok, killedAtHeapLimit: heapLimit, rssAddedMiB, ...trace };
  } finally {
    await w.stop();
  }
}

let marks = 0;

/** Full GC in the Worker; returns (and drops) the output printed up to and including it. */
async function collectGarbage(w: Workerd): Promise<string[]> {
  const id = ++marks;
  await (await fetch(`${w.url}/gc?id=${id}`)).text();
  await w.waitForLine(`bench-mark ${id}`);
  const end = w.output.findIndex((l) => l.includes(`bench-mark ${id}`));
  return w.output.splice(0, end + 1);
}

async function runCase(
  w: Workerd,
  sink: 's3' | 'discard',
  rows: number,
  s3: string,
): Promise<Omit<WorkerdResult, 'cap' | 's3'>> {
  const [partSize, concurrency] = s3.split(':');
  const s3Query =
    sink === 's3' && partSize && concurrency ? `&partSize=${partSize}&concurrency=${concurrency}` : '';
  await (await fetch(`${w.url}/?rows=10&sink=${sink}`)).text(); // warm up: code loaded, first S3 connection
  const idleHeapMiB = gcTrace(await collectGarbage(w)).lastAfterMiB;
  const idleRssMiB = memoryMiB(w.pid, 'VmRSS');
  const peakReset = resetPeak(w.pid);
  const cpu = cpuSeconds(w.pid);
  const started = performance.now();
  const res = await get(w, `/?rows=${rows}&sink=${sink}${s3Query}`);
  const wallSeconds = (performance.now() - started) / 1000;
  const body =
    res instanceof Response
      ? ((await res.json().catch(() => ({}))) as { rows?: number; bytes?: number })
      : {};
  const completed = res instanceof Response && res.ok && body.rows === rows;
  if (res instanceof Error)
    await w.exited; // V8 aborted workerd (at the heap limit, the trace says)
  else if (!completed) process.stderr.write(`${sink} ${rows}: HTTP ${res.status} ${JSON.stringify(body)}\n`);
  const alive = !w.exit;
  const cpuUsed = alive ? cpuSeconds(w.pid) - cpu : Number.NaN;
  const peakRssMiB = alive ? memoryMiB(w.pid, 'VmHWM') : Number.NaN;
  const lines = alive ? await collectGarbage(w) : w.output;
  const during = gcTrace(lines);
  return {
    sink,
    rows,
    completed,
    killedAtHeapLimit: lines.some((l) => l.includes('Reached heap limit')),
    bytes: body.bytes ?? 0,
    wallSeconds,
    cpuSeconds: cpuUsed,
    idleRssMiB,
    peakRssMiB,
    peakReset,
    idleHeapMiB,
    peakHeapMiB: during.peakUsedMiB,
    peakCommittedMiB: during.peakCommittedMiB,
    liveFirstMiB: during.liveAfterFullGcMiB[0] ?? Number.NaN,
    liveMaxMiB: Math.max(...during.liveAfterFullGcMiB),
    fullCollections: during.liveAfterFullGcMiB.length,
    peakExternalMiB: during.peakExternalMiB,
    collections: during.collections,
    heapAfterGcMiB: alive ? during.lastAfterMiB : Number.NaN,
  };
}

const moto = await startMoto();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([current?.stop(), moto.stop()]).then(() => process.exit(130));
  });
}
const results: WorkerdResult[] = [];
const proofs: CapProof[] = [];
const loadAtStart = loadavg();
const startedAt = new Date().toISOString();
try {
  await createBucket(moto, 'bench');
  await moto.enableAuth();
  const { accessKeyId, secretAccessKey } = moto.admin;
  const bindings = {
    BENCH_S3: JSON.stringify({ bucket: 'bench', endpoint: moto.endpoint, accessKeyId, secretAccessKey }),
  };
  if (proofCap) {
    for (const cap of [proofCap, 0]) proofs.push(await prove('objects', cap));
    proofs.push(await prove('buffers', proofCap));
  }
  const cases = heapCaps.flatMap((cap) =>
    rowCounts.flatMap((rows) => [
      { cap, sink: 'discard' as const, rows, s3: 'default' },
      ...s3Settings.map((s3) => ({ cap, sink: 's3' as const, rows, s3 })),
    ]),
  );
  for (const { cap, sink, rows, s3 } of cases) {
    const w = await startWorkerd({ script, bindings, v8Flags: flags(cap), compatibilityDate: COMPAT });
    current = w;
    try {
      const r = await runCase(w, sink, rows, s3);
      results.push({ ...r, cap, s3: sink === 's3' ? s3 : '' });
      process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
    } finally {
      await w.stop();
    }
  }
} finally {
  await moto.stop();
}

const section = workerdSection({
  command: `node bin/run-ts.js bench/workerd.ts ${argv.join(' ')}`.trim(),
  startedAt,
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  loadAtStart,
  loadAtEnd: loadavg(),
  proofs,
  results,
});
process.stdout.write(`${section}\n`);
if (argv.includes('--write')) writeSection('docs/BENCHMARKS.md', section);
