/**
 * The export inside workerd (Miniflare): CSV+gzip of the benchmark rows to S3 (moto) and to
 * sink/discard, one invocation at a time. Miniflare reports neither per-invocation CPU time nor
 * isolate memory, so both are read from the workerd process in /proc: CPU = utime+stime consumed
 * during the invocation (the process runs only this isolate), peak = VmHWM after resetting it
 * (clear_refs) before the invocation. Workers are limited to 128 MB per isolate in production.
 *
 * Run: node bin/run-ts.js bench/workerd.ts [--rows 100000,1000000] [--write]  (--write updates docs/BENCHMARKS.md)
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { createBucket, startMoto } from '../test/harness/moto.ts';
import { writeSection } from './report.ts';

export interface WorkerdResult {
  sink: 's3' | 'discard';
  rows: number;
  bytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** workerd process RSS before the invocation (runtime + loaded script), MiB. */
  idleRssMiB: number;
  /** workerd process peak RSS during the invocation, MiB. */
  peakRssMiB: number;
  /** Whether the peak could be reset before the invocation (else it is the peak since start). */
  peakReset: boolean;
}

process.env.WRANGLER_SEND_METRICS ??= 'false';
const argv = process.argv.slice(2);
const rowsArg = argv[argv.indexOf('--rows') + 1];
const rowCounts = (argv.includes('--rows') && rowsArg ? rowsArg : '100000,1000000').split(',').map(Number);
const TICKS = 100;

function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The workerd process Miniflare started (a child, or a grandchild through a shell). */
function workerdPid(): number {
  const queue = childPids(process.pid);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd') return pid;
    queue.push(...childPids(pid));
  }
  throw new Error('workerd process not found');
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Math.round(Number(/\d+/.exec(line ?? '')?.[0] ?? 0) / 1024);
}

function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const bundle = await build({
  entryPoints: [new URL('./workerd-worker.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
});
const moto = await startMoto();
const results: WorkerdResult[] = [];
const loadAtStart = loadavg();
const startedAt = new Date().toISOString();
let mf: Miniflare | undefined;
try {
  await createBucket(moto, 'bench');
  await moto.enableAuth();
  const { accessKeyId, secretAccessKey } = moto.admin;
  const options = {
    modules: true,
    script: bundle.outputFiles[0]!.text,
    compatibilityDate: '2026-04-20',
    cf: false,
    bindings: { BENCH_S3: JSON.stringify({ bucket: 'bench', endpoint: moto.endpoint, accessKeyId, secretAccessKey }) },
  };
  // A fresh workerd per invocation, so "idle" is the runtime alone and nothing carries over.
  for (const rows of rowCounts) {
    for (const sink of ['discard', 's3'] as const) {
      mf = new Miniflare(options);
      await (await mf.dispatchFetch('http://bench/?rows=10&sink=discard')).text(); // warm up
      const pid = workerdPid();
      const idleRssMiB = memoryMiB(pid, 'VmRSS');
      const peakReset = resetPeak(pid);
      const cpu = cpuSeconds(pid);
      const started = performance.now();
      const res = await mf.dispatchFetch(`http://bench/?rows=${rows}&sink=${sink}`);
      const body = (await res.json()) as { rows: number; bytes: number };
      if (!res.ok || body.rows !== rows) throw new Error(`invocation failed: ${res.status} ${JSON.stringify(body)}`);
      results.push({
        sink,
        rows,
        bytes: body.bytes,
        wallSeconds: (performance.now() - started) / 1000,
        cpuSeconds: cpuSeconds(pid) - cpu,
        idleRssMiB,
        peakRssMiB: memoryMiB(pid, 'VmHWM'),
        peakReset,
      });
      await mf.dispose();
      mf = undefined;
    }
  }
} finally {
  await mf?.dispose();
  await moto.stop();
}

const MB = 1_000_000;
const lines = [
  '## Inside workerd (Miniflare), CSV + gzip',
  '',
  'Generated by `bench/workerd.ts`. The Worker (`bench/workerd-worker.ts`, bundled with esbuild) generates the',
  'rows and runs `runExport` with the built-in plugins only: `format/csv`, `compression/gzip`',
  '(CompressionStream) and `sink/s3` (to moto on loopback) or `sink/discard`. Miniflare exposes neither',
  'CPU time nor memory per invocation, and local workerd enforces no limits, so both come from the',
  'workerd process in /proc: CPU = utime+stime used during the invocation (the process runs only this',
  'Worker), peak = VmHWM after resetting it (`clear_refs`) just before. Each invocation gets a fresh workerd',
  '(warmed with a 10-row export), so idle RSS is the runtime with the script loaded and peak − idle is',
  'what the export added; the 128 MB check applies to that share. Production limit:',
  '128 MB per isolate; the Workers CPU-time limit defaults to 30 s per request (paid plans, configurable).',
  '',
  `- Command: \`node bin/run-ts.js bench/workerd.ts ${argv.join(' ')}\`, ${startedAt}`,
  `- Machine: ${cpus().length} cores, Node ${process.version}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')} at start, ${loadavg().map((l) => l.toFixed(2)).join(' / ')} at end`,
  '',
  '| sink | rows | MiB written | wall s | CPU s (workerd) | rows per CPU s | idle RSS MiB | peak RSS MiB | peak − idle MiB | under 128 MB |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ...results.map(
    (r) =>
      `| ${r.sink} | ${r.rows.toLocaleString('en')} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${r.wallSeconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${Math.round(r.rows / r.cpuSeconds).toLocaleString('en')} | ${r.idleRssMiB} | ${r.peakRssMiB}${r.peakReset ? '' : ' (since start)'} | ${r.peakRssMiB - r.idleRssMiB} | ${(r.peakRssMiB - r.idleRssMiB) * 2 ** 20 < 128 * MB ? 'yes' : 'NO'} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (argv.includes('--write')) writeSection('docs/BENCHMARKS.md', lines.join('\n'));
