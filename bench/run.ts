/**
 * The benchmark: every format × compression × PGP on/off, edge-export against DuckDB `COPY ... TO`
 * and a plain JavaScript baseline (papaparse + node:zlib + @aws-sdk/lib-storage Upload), on the same
 * rows and the same moto server, each configuration in its own child process (peak RSS per case).
 *
 * Run: npm run bench [-- --rows 1000000,10000000] [--only csv] [--engines ours,duckdb] [--repeat 2] [--no-write]
 * `--rows` takes one row count or a list: the whole matrix runs at each, smallest first, and memory is
 * compared between the smallest and the largest.
 * `--repeat N` runs every case N times (interleaved with its neighbours) and keeps the fastest.
 * Writes docs/BENCHMARKS.md when the whole matrix ran (no --only / --engines).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createBucket, s3Reader, startMoto } from '../test/harness/moto.ts';
import type { CaseResult, CaseSpec } from './case.ts';
import { type Measured, printTable, writeReport } from './report.ts';

const args = parseArgs(process.argv.slice(2));
const rowCounts = (args.rows ?? '1000000')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
if (rowCounts.some((n) => !Number.isSafeInteger(n) || n < 1))
  throw new Error(`--rows must be positive integers separated by commas, got ${args.rows}`);
const formats = (args.only?.split(',') ?? ['csv', 'json', 'parquet']) as CaseSpec['format'][];
const engines = args.engines?.split(',') ?? ['duckdb', 'ours', 'baseline'];
const repeat = Math.max(1, Number(args.repeat ?? 1));
const BUCKET = 'bench';

function parseArgs(argv: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '');
    if (name.startsWith('no-')) out[name] = 'true';
    else out[name] = argv[++i];
  }
  return out;
}

/** Runs one case in a child process and returns what it printed. */
function runCase(spec: CaseSpec): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run-ts.js', 'bench/case.ts', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.once('exit', (code) => {
      const line = /^RESULT (.*)$/m.exec(out);
      if (code === 0 && line) resolve(JSON.parse(line[1]!) as CaseResult);
      else reject(new Error(`case ${JSON.stringify(spec)} failed (${code}):\n${err}`));
    });
  });
}

const moto = await startMoto();
const dir = mkdtempSync(join(tmpdir(), 'edge-export-bench-'));
const reader = s3Reader(moto);
const results: Measured[] = [];
const loadAtStart = loadavg();
const startedAt = new Date();

/** Runs a case `repeat` times and keeps the fastest run. */
async function measure(spec: CaseSpec): Promise<Measured> {
  let best: Measured | undefined;
  for (let i = 0; i < repeat; i++) {
    const m = await measureOnce(spec);
    if (!best || m.result.seconds < best.result.seconds) best = m;
  }
  results.push(best!);
  return best!;
}

/** Runs a case, checks the S3 object has the reported size, then deletes it so moto stays small. */
async function measureOnce(spec: CaseSpec): Promise<Measured> {
  const load = loadavg()[0]!;
  const result = await runCase(spec);
  if (spec.sink === 's3' && result.key) {
    const head = await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: result.key }));
    if (head.ContentLength !== result.bytes)
      throw new Error(`${result.key}: ${head.ContentLength} bytes in S3, ${result.bytes} reported`);
    await reader.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: result.key }));
  }
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  const measured = { spec, result, load };
  process.stderr.write(
    `${label(spec)}: ${result.seconds.toFixed(2)} s, ${result.maxRssMiB} MiB RSS (load ${load.toFixed(2)})\n`,
  );
  return measured;
}

function label(s: CaseSpec): string {
  return `${s.engine} ${s.format}/${s.compression}${s.pgp ? '+pgp' : ''} → ${s.sink} (${s.rows} rows)`;
}

try {
  await createBucket(moto, BUCKET);
  await moto.enableAuth();
  const { accessKeyId, secretAccessKey } = moto.admin;
  const s3 = { endpoint: moto.endpoint, bucket: BUCKET, accessKeyId, secretAccessKey };
  for (const rows of rowCounts) {
    const base = { rows, dir: join(dir, 'out'), s3 };
    for (const format of formats) {
      for (const compression of ['none', 'gzip'] as const) {
        const config = { ...base, format, compression };
        // Side by side: DuckDB and ours to a local file, then the JS baseline and ours to the same S3.
        if (engines.includes('duckdb'))
          await measure({ ...config, engine: 'duckdb', pgp: false, sink: 'file' });
        if (engines.includes('ours')) await measure({ ...config, engine: 'ours', pgp: false, sink: 'file' });
        for (const pgp of [false, true]) {
          if (engines.includes('baseline')) await measure({ ...config, engine: 'baseline', pgp, sink: 's3' });
          if (engines.includes('ours')) await measure({ ...config, engine: 'ours', pgp, sink: 's3' });
        }
      }
    }
  }
} finally {
  reader.destroy();
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
}

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  loadAtStart,
  loadAtEnd: loadavg(),
  startedAt: startedAt.toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  repeat,
};
printTable(results, machine);
if (!args.only && !args.engines && !args['no-write']) writeReport('docs/BENCHMARKS.md', results, machine);
