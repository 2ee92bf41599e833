/**
 * End-to-end speed from files a user has (issue 18): one NDJSON, one CSV and one Parquet file of the
 * bench's 10 mixed columns (bench/rows.ts, written once by DuckDB and cached under bench/.data), each
 * exported to CSV, CSV+gzip, NDJSON+gzip and Parquet (snappy, zstd) by three engines side by side,
 * each in its own child process:
 *
 * - ours: the CLI as a user runs it, `node bin/edge-export.js export --config <file>` with
 *   `source.path` the input file and `sink/local` (or `sink/s3`) as the destination;
 * - DuckDB: `read_json` / `read_csv` / `read_parquet` → `COPY TO`, its default threads;
 * - the plain JavaScript baseline (bench/from-files-engine.ts).
 *
 * Wall time is the child's, measured here; CPU time (user + system, every thread) and peak RSS come
 * from `/usr/bin/time` (from /proc sampling when it is missing). gzip runs at `--level` (default 6,
 * DuckDB's fixed level) for ours and the baseline; ours also runs at its default level (1) for the
 * gzip outputs. One more run ends in S3 (moto, auth enforced): NDJSON → CSV+gzip, ours and the
 * baseline. Then a CPU profile of ours (NDJSON → CSV+gzip, NDJSON → Parquet snappy), summarised.
 *
 * Run: npm run bench -- from-files [--rows 1000000] [--inputs ndjson,csv,parquet]
 *        [--outputs csv,csv-gzip,json-gzip,parquet-snappy,parquet-zstd] [--level 6] [--repeat 1]
 *        [--no-s3] [--no-profile] [--write]
 * `--repeat N` runs each configuration N times (engines interleaved) and keeps the median of each
 * figure. `--write` replaces the "From real input files" section of docs/BENCHMARKS.md for that row count.
 * The S3 run and the profiles start from the NDJSON file: they run only when `--inputs` includes ndjson.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { motoSinkPlugins, startMotoWithWriter } from '../test/harness/moto.ts';
import { summariseProfile } from './cpu-profile.ts';
import type { EngineSpec, InputFormat, OutputFormat } from './from-files-engine.ts';
import { type FromFilesRun, type Measured, fromFilesSection } from './from-files-report.ts';
import { cpuSeconds, memoryMiB } from './proc.ts';
import { writeSection } from './report.ts';
import { benchSchema, duckdbRowsSql } from './rows.ts';

const ROOT = resolve(import.meta.dirname, '..');
const INPUTS: readonly InputFormat[] = ['ndjson', 'csv', 'parquet'];
const OUTPUTS: readonly OutputFormat[] = ['csv', 'csv-gzip', 'json-gzip', 'parquet-snappy', 'parquet-zstd'];
const EXTENSION: Record<OutputFormat, string> = {
  csv: 'csv',
  'csv-gzip': 'csv.gz',
  'json-gzip': 'json.gz',
  'parquet-snappy': 'parquet',
  'parquet-zstd': 'parquet',
};
const TIME = '/usr/bin/time';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    inputs: { type: 'string', default: INPUTS.join(',') },
    outputs: { type: 'string', default: OUTPUTS.join(',') },
    level: { type: 'string', default: '6' },
    repeat: { type: 'string', default: '1' },
    'no-s3': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
if (!Number.isSafeInteger(rows) || rows < 1) throw new Error(`--rows: expected a positive integer, got ${values.rows}`);
const level = Number(values.level);
if (!Number.isInteger(level) || level < 1 || level > 9) throw new Error(`--level: expected a zlib level 1–9, got ${values.level}`);
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected a positive integer, got ${values.repeat}`);
const listOf = <T extends string>(flag: string, text: string, known: readonly T[]): T[] => {
  const list = text.split(',').filter(Boolean);
  const unknown = list.filter((x) => !known.includes(x as T));
  if (unknown.length > 0 || list.length === 0) throw new Error(`--${flag}: expected some of ${known.join(', ')}, got ${text}`);
  return list as T[];
};
const inputs = listOf('inputs', values.inputs, INPUTS);
const outputs = listOf('outputs', values.outputs, OUTPUTS);

/** The cached input files of `n` rows, written by DuckDB once (to a temporary name, then renamed). */
async function inputFiles(n: number): Promise<Record<InputFormat, string>> {
  const dir = join(ROOT, 'bench/.data');
  mkdirSync(dir, { recursive: true });
  const paths = Object.fromEntries(INPUTS.map((f) => [f, join(dir, `from-files-${n}.${f}`)])) as Record<InputFormat, string>;
  const missing = inputs.filter((f) => !existsSync(paths[f]));
  if (missing.length > 0) {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const options = { ndjson: 'FORMAT json', csv: 'FORMAT csv, HEADER', parquet: 'FORMAT parquet, COMPRESSION snappy' };
    for (const format of missing) {
      const temp = `${paths[format]}.partial`;
      process.stderr.write(`writing ${paths[format]}…\n`);
      await db.run(`COPY (${duckdbRowsSql(n)}) TO '${temp}' (${options[format]})`);
      renameSync(temp, paths[format]);
    }
    db.closeSync();
  }
  return paths;
}

let checker: DuckDBConnection | undefined;

/** Reads the one file the engine wrote to `dir` back with DuckDB: it must hold every row. */
async function checkRows(dir: string, output: OutputFormat): Promise<void> {
  const files = readdirSync(dir);
  if (files.length !== 1) throw new Error(`expected one output file in ${dir}, found ${files.join(', ') || 'none'}`);
  const path = join(dir, files[0]!);
  const reader = output.startsWith('parquet') ? 'read_parquet' : output === 'json-gzip' ? 'read_json' : 'read_csv';
  checker ??= await (await DuckDBInstance.create(':memory:')).connect();
  const count = Number((await checker.runAndReadAll(`SELECT count(*) FROM ${reader}('${path}')`)).getRows()[0]![0]);
  if (count !== rows) throw new Error(`${path} holds ${count} rows, expected ${rows}`);
}

interface Usage {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  stdout: string;
}

/** Runs `command` as a child process and measures it: wall here, CPU and peak RSS by /usr/bin/time (or /proc). */
function measured(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Usage> {
  const viaTime = existsSync(TIME);
  const timeFile = join(work, `time-${process.hrtime.bigint()}`);
  const [file, argv] = viaTime ? [TIME, ['-f', '%U %S %M', '-o', timeFile, command, ...args]] : [command, [...args]];
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(file, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const peak = { rss: 0, cpu: 0 };
    // Without /usr/bin/time: the child's own figures from /proc, sampled until it exits.
    const sampler = viaTime
      ? undefined
      : setInterval(() => {
          peak.rss = Math.max(peak.rss, memoryMiB(child.pid, 'VmHWM'));
          peak.cpu = Math.max(peak.cpu, cpuSeconds(child.pid));
        }, 50);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    child.once('error', fail);
    child.once('exit', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      if (code !== 0) return fail(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr}`));
      if (!viaTime) return done({ wallSeconds, cpuSeconds: peak.cpu, peakRssMiB: peak.rss, stdout });
      const [user, system, maxKb] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
      rmSync(timeFile, { force: true });
      done({ wallSeconds, cpuSeconds: user! + system!, peakRssMiB: Math.round(maxKb! / 1024), stdout });
    });
  });
}

/** Our export of `input` to `output` as the CLI config a user would write. */
function oursConfig(input: InputFormat, inputPath: string, output: OutputFormat, gzipLevel: number | undefined, sink: object[]): object {
  const format = output.startsWith('parquet')
    ? { use: 'format/parquet', options: { codec: output === 'parquet-zstd' ? 'zstd' : 'snappy' } }
    : { use: output === 'json-gzip' ? 'format/json' : 'format/csv' };
  const compression = output.endsWith('gzip') ? [{ use: 'compression/gzip', ...(gzipLevel !== undefined && { options: { level: gzipLevel } }) }] : [];
  return {
    plugins: { plugins: [format, ...compression, ...sink] },
    destination: { id: 'bench', name: 'bench' },
    // CSV: an unquoted empty field is null, as DuckDB and papaparse read it.
    source: { path: inputPath, ...(input === 'csv' && { options: { nullValue: '' } }) },
    schema: benchSchema,
    output: { manifest: false, split: { maxRows: Number.MAX_SAFE_INTEGER } },
  };
}

/** Runs ours (the CLI) on one config; `nodeFlags` go before the script (e.g. --cpu-prof). */
async function runOurs(config: object, nodeFlags: string[] = []): Promise<Usage & { bytes: number }> {
  const path = join(work, `config-${process.hrtime.bigint()}.json`);
  writeFileSync(path, JSON.stringify(config));
  const usage = await measured(process.execPath, [...nodeFlags, 'bin/edge-export.js', 'export', '--config', path, '--no-progress']);
  rmSync(path);
  const summary = JSON.parse(usage.stdout) as { rows: number; bytes: number };
  if (summary.rows !== rows) throw new Error(`ours exported ${summary.rows} rows, expected ${rows}`);
  return { ...usage, bytes: summary.bytes };
}

async function runEngine(spec: EngineSpec): Promise<Usage & { bytes: number }> {
  const usage = await measured(process.execPath, ['bin/run-ts.js', 'bench/from-files-engine.ts', JSON.stringify(spec)]);
  const line = /^RESULT (.*)$/m.exec(usage.stdout);
  if (!line) throw new Error(`${spec.engine} printed no result:\n${usage.stdout}`);
  return { ...usage, bytes: (JSON.parse(line[1]!) as { bytes: number }).bytes };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The median of each figure over the runs of one engine. */
function medianOf(runs: (Usage & { bytes: number; load: number })[]): Measured['figures'] {
  return {
    wallSeconds: median(runs.map((r) => r.wallSeconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    peakRssMiB: Math.round(median(runs.map((r) => r.peakRssMiB))),
    bytes: Math.round(median(runs.map((r) => r.bytes))),
    load: median(runs.map((r) => r.load)),
  };
}

const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

const work = mkdtempSync(join(tmpdir(), 'edge-export-from-files-'));
const run: FromFilesRun = {
  command: `npm run bench -- from-files ${process.argv.slice(2).join(' ')}`.trim(),
  startedAt: new Date().toISOString(),
  machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`,
  uptimeAtStart: uptime(),
  uptimeAtEnd: '',
  rows,
  level,
  repeat,
  results: [],
  s3: [],
  profiles: [],
};

try {
  const paths = await inputFiles(rows);
  // What every run of ours pays before it reads a row: Node, tsx and the CLI's modules.
  const startup = await measured(process.execPath, ['bin/edge-export.js', '--version']);
  run.startup = { wallSeconds: startup.wallSeconds, cpuSeconds: startup.cpuSeconds, peakRssMiB: startup.peakRssMiB };
  const out = join(work, 'out');
  for (const input of inputs) {
    for (const output of outputs) {
      const engines: Measured['engine'][] = ['duckdb', 'ours', 'baseline'];
      if (output.endsWith('gzip')) engines.push('ours-default-level');
      const runs = new Map<Measured['engine'], (Usage & { bytes: number; load: number })[]>(engines.map((e) => [e, []]));
      for (let i = 0; i < repeat; i++) {
        for (const engine of engines) {
          rmSync(out, { recursive: true, force: true });
          mkdirSync(out, { recursive: true });
          const load = load1();
          const result =
            engine === 'ours' || engine === 'ours-default-level'
              ? await runOurs(
                  oursConfig(input, paths[input], output, engine === 'ours' ? level : undefined, [{ use: 'sink/local', options: { directory: out } }]),
                )
              : await runEngine({ engine, input, inputPath: paths[input], output, outputPath: join(out, `${engine}.${EXTENSION[output]}`), level });
          await checkRows(out, output);
          runs.get(engine)!.push({ ...result, load });
          process.stderr.write(
            `${input} → ${output} ${engine}: ${result.wallSeconds.toFixed(2)} s wall, ${result.cpuSeconds.toFixed(2)} s CPU, ${result.peakRssMiB} MiB, ${result.bytes} bytes (load ${load.toFixed(2)})\n`,
          );
        }
      }
      for (const engine of engines) run.results.push({ input, output, engine, figures: medianOf(runs.get(engine)!) });
    }
  }
  rmSync(out, { recursive: true, force: true });

  if (!values['no-s3'] && inputs.includes('ndjson')) {
    const bucket = 'from-files';
    const { moto, reader, writer } = await startMotoWithWriter(bucket, 'from-files-writer');
    try {
      const oursRuns: (Usage & { bytes: number; load: number })[] = [];
      const baseRuns: (Usage & { bytes: number; load: number })[] = [];
      for (let i = 0; i < repeat; i++) {
        let load = load1();
        const ours = await runOurs(oursConfig('ndjson', paths.ndjson, 'csv-gzip', level, motoSinkPlugins(moto, bucket, writer)));
        oursRuns.push({ ...ours, load });
        load = load1();
        const key = `baseline-${i}.csv.gz`;
        const s3 = { endpoint: moto.endpoint, region: moto.region, bucket, key, ...writer };
        const base = await runEngine({ engine: 'baseline', input: 'ndjson', inputPath: paths.ndjson, output: 'csv-gzip', outputPath: '', level, s3 });
        baseRuns.push({ ...base, load });
        // Every object holds the bytes its engine reported; then it goes, so moto stays small.
        const listed = await reader.send(new ListObjectsV2Command({ Bucket: bucket }));
        for (const object of listed.Contents ?? []) {
          const head = await reader.send(new HeadObjectCommand({ Bucket: bucket, Key: object.Key! }));
          const expected = object.Key === key ? base.bytes : ours.bytes;
          if (head.ContentLength !== expected) throw new Error(`${object.Key}: ${head.ContentLength} bytes in S3, ${expected} reported`);
          await reader.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
        }
        process.stderr.write(`ndjson → csv-gzip → S3: ours ${ours.wallSeconds.toFixed(2)} s, baseline ${base.wallSeconds.toFixed(2)} s\n`);
      }
      run.s3.push({ input: 'ndjson', output: 'csv-gzip', engine: 'ours', figures: medianOf(oursRuns) });
      run.s3.push({ input: 'ndjson', output: 'csv-gzip', engine: 'baseline', figures: medianOf(baseRuns) });
    } finally {
      reader.destroy();
      await moto.stop();
    }
  }

  if (!values['no-profile'] && inputs.includes('ndjson')) {
    for (const output of ['csv-gzip', 'parquet-snappy'] as const) {
      const dir = join(work, `profile-${output}`);
      rmSync(out, { recursive: true, force: true });
      const config = oursConfig('ndjson', paths.ndjson, output, output === 'csv-gzip' ? level : undefined, [{ use: 'sink/local', options: { directory: out } }]);
      const usage = await runOurs(config, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
      // One profile per JavaScript thread: CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile, thread 0
      // the main one; the others are the parallel path's workers and tsx's module loader (its hooks run
      // on a thread of their own), told apart by the code they ran.
      const threadOf = (f: string) => Number(f.split('.')[4]);
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort((a, b) => threadOf(a) - threadOf(b));
      if (files.length === 0) throw new Error(`no CPU profile in ${dir}`);
      for (const file of files) {
        const summary = summariseProfile(join(dir, file), ROOT);
        // The worker runs its esbuild bundle from the OS temp folder (src/hosts/parallel/bundle.ts).
        for (const entry of [...summary.modules, ...summary.functions]) entry.name = entry.name.replace(/\S*parallel-worker\/build-[^/]+\//, 'worker bundle:');
        const ran = (text: string) => summary.modules.some((m) => m.name.includes(text));
        const thread = threadOf(file) === 0 ? 'main thread' : ran('worker bundle:') ? 'worker thread' : ran('tsx') ? "tsx's module loader thread" : `thread ${threadOf(file)}`;
        run.profiles.push({ input: 'ndjson', output, thread, wallSeconds: usage.wallSeconds, cpuSeconds: usage.cpuSeconds, summary });
      }
      process.stderr.write(`profiled ndjson → ${output}: ${usage.wallSeconds.toFixed(2)} s\n`);
    }
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  checker?.closeSync();
  rmSync(work, { recursive: true, force: true });
}

run.uptimeAtEnd = uptime();
const section = fromFilesSection(run);
process.stdout.write(`${section}\n`);
// One section per row count, so a 10M run sits beside the 1M one.
if (values.write) writeSection(join(ROOT, 'docs/BENCHMARKS.md'), section, `from-files-${rows}`);
