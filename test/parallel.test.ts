/**
 * The parallel path (src/hosts/parallel, src/cli/parallel.ts): a local NDJSON or CSV source read and
 * encoded by worker threads writes byte for byte the files of the single-threaded path — run by the
 * real CLI, on Node and on Deno, with pieces of 1 KiB so every run crosses hundreds of piece ends.
 * `--threads 0` is the single-threaded path (the pipeline encodes every row itself).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schema } from '../src/core/types.ts';
import { cliProcess, type Runtime } from './support/cli-process.ts';

const ROWS = 3_000;
const PIECE = { EXPORT_PIECE_BYTES: '1024' };
const schema: Schema = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'vip', type: 'boolean' },
  { name: 'seen', type: 'timestamp' },
  { name: 'note', type: 'string' },
];

/** Row i: quotes, delimiters, line breaks (LF, CRLF, CR) inside values, non-ASCII text, nulls. */
function row(i: number): Record<string, unknown> {
  const notes = [null, 'plain', 'a "quoted" word', 'comma, inside', 'line\nbreak', 'crlf\r\ninside', 'cr\ronly', 'été 🚀', '', 'back\\slash'];
  return {
    id: i,
    name: `Name ${i % 97}`,
    score: i % 11 === 0 ? null : i * 0.37,
    vip: i % 3 === 0,
    seen: `2026-0${1 + (i % 9)}-1${i % 10} 0${i % 10}:${10 + (i % 50)}:00`,
    note: notes[i % notes.length],
  };
}

let dir: string;
let ndjson: string;
let csv: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parallel-'));
  // Blank lines and CRLF line ends here and there: the source skips the first and reads the second.
  const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify(row(i)) + (i % 7 === 0 ? '\r\n' : '\n') + (i % 50 === 0 ? '\n' : ''));
  ndjson = join(dir, 'in.ndjson');
  await writeFile(ndjson, lines.join(''));
  csv = join(dir, 'in.csv');
  // papaparse writes RFC 4180 (doubled quotes) with CRLF record ends; quoted values hold line breaks.
  await writeFile(csv, Papa.unparse(Array.from({ length: ROWS }, (_, i) => row(i)), { newline: '\r\n' }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  err: string;
  summary: {
    files?: { key: string; rows: number; size: number; sha256: string }[];
    error?: { code: string; message: string };
    parallel?: { threads: number; pieces: number };
  };
  /** File name → bytes. */
  files: Map<string, Buffer>;
}

let runs = 0;

/** Runs the CLI on a config (its sink a fresh folder) with `threads`, on a runtime. */
async function exportWith(runtime: Runtime, threads: number, config: Record<string, unknown>): Promise<Run> {
  const out = join(dir, `out-${++runs}`);
  const sink = { use: 'sink/local', options: { directory: out } };
  const plugins = [...(config.plugins as object[]), sink];
  const path = join(dir, `config-${runs}.json`);
  const full = { destination: { id: 'd', name: 'd' }, runId: 'run-1', scheduledTime: '2026-12-05T10:00:00Z', ...config, plugins: { plugins } };
  await writeFile(path, JSON.stringify(full));
  const t0 = Date.now();
  const { code, out: stdout, err } = await cliProcess(runtime, ['export', '--config', path, '--no-progress', '--threads', String(threads)], { ...PIECE, PDEBUG: '1' });
  if (Date.now() - t0 > 8000) console.log('SLOW', runtime, threads, Date.now() - t0, path, err.slice(-3000));
  const files = new Map<string, Buffer>();
  for (const name of await readdir(out, { recursive: true }).catch(() => [] as string[])) {
    const bytes = await readFile(join(out, name)).catch(() => undefined);
    if (bytes) files.set(name, bytes);
  }
  return { code, err, summary: JSON.parse(stdout || '{}'), files };
}

/** The single-threaded run and the parallel one write the same files, byte for byte. */
async function expectSameFiles(config: Record<string, unknown>, runtime: Runtime = 'node', minPieces = 100): Promise<Run> {
  const single = await exportWith(runtime, 0, config);
  const parallel = await exportWith(runtime, 3, config);
  expect(single.code, single.err).toBe(0);
  expect(parallel.code, parallel.err).toBe(0);
  expect([...parallel.files.keys()].sort()).toEqual([...single.files.keys()].sort());
  for (const [name, bytes] of single.files) expect(Buffer.compare(parallel.files.get(name)!, bytes), name).toBe(0);
  const described = (run: Run) => run.summary.files!.map(({ key, rows, size, sha256 }) => ({ key, rows, size, sha256 }));
  expect(described(parallel)).toEqual(described(single));
  // The runs took the paths they are said to: one thread, then 3 workers over many 1 KiB pieces.
  expect(single.summary.parallel).toBeUndefined();
  expect(parallel.summary.parallel!.threads).toBe(3);
  expect(parallel.summary.parallel!.pieces).toBeGreaterThanOrEqual(minPieces);
  return parallel;
}

const csvOut = { use: 'format/csv' };
const gzip6 = { use: 'compression/gzip', options: { level: 6 } };
const noManifest = { manifest: false };

describe('parallel file export (worker threads) = single-threaded export, byte for byte', () => {
  it('NDJSON → CSV+gzip: the rows, typed by the schema, in file order', async () => {
    // RFC 4180 quoting (a doubled quote), as the independent reader below reads it.
    const rfc4180 = { use: 'format/csv', options: { escape: '"' } };
    const run = await expectSameFiles({ plugins: [rfc4180, gzip6], source: { path: ndjson }, schema, output: noManifest });
    const [name, bytes] = [...run.files][0]!;
    expect(name).toMatch(/\.csv\.gz$/);
    // An independent reader sees every row, in order, with the values the rows were made of.
    const parsed = Papa.parse<Record<string, string>>(gunzipSync(bytes).toString('utf8'), { header: true, skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data.map((r) => Number(r.id))).toEqual(Array.from({ length: ROWS }, (_, i) => i));
    expect(parsed.data.map((r) => r.note)).toEqual(Array.from({ length: ROWS }, (_, i) => (row(i).note as string | null) ?? ''));
  });

  it('NDJSON → NDJSON+gzip, and CSV without a schema (the first row decides it)', async () => {
    const run = await expectSameFiles({ plugins: [{ use: 'format/json' }, gzip6], source: { path: ndjson }, output: noManifest });
    const lines = gunzipSync([...run.files.values()][0]!).toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(Array.from({ length: ROWS }, (_, i) => i));
    await expectSameFiles({ plugins: [csvOut], source: { path: ndjson }, output: noManifest });
  });

  it('CSV (quoted line breaks, CRLF) → CSV and NDJSON', async () => {
    await expectSameFiles({ plugins: [csvOut], source: { path: csv, options: { nullValue: '' } }, schema, output: noManifest });
    const run = await expectSameFiles({ plugins: [{ use: 'format/json' }], source: { path: csv } });
    const lines = [...run.files].find(([name]) => name.endsWith('.json') && !name.startsWith('manifest'))![1].toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).note)).toEqual(Array.from({ length: ROWS }, (_, i) => (row(i).note as string | null) ?? ''));
  });

  it('Parquet (row groups as pieces) → CSV+gzip and NDJSON', async () => {
    // Written by hyparquet-writer in row groups of 300 rows: 10 groups, one piece each.
    const parquet = join(dir, 'in.parquet');
    const all = Array.from({ length: ROWS }, (_, i) => row(i));
    const column = (name: string, type: 'INT64' | 'STRING' | 'DOUBLE' | 'BOOLEAN') => ({
      name,
      type,
      data: all.map((r) => (type === 'INT64' ? BigInt(r[name] as number) : r[name])),
    });
    const columnData = [column('id', 'INT64'), column('name', 'STRING'), column('score', 'DOUBLE'), column('vip', 'BOOLEAN'), column('seen', 'STRING'), column('note', 'STRING')];
    await writeFile(parquet, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 300 })));
    const run = await expectSameFiles({ plugins: [csvOut, gzip6], source: { path: parquet }, schema, output: noManifest }, 'node', 10);
    expect(run.summary.parallel!.pieces).toBe(10);
    const lines = gunzipSync([...run.files.values()][0]!).toString('utf8');
    expect(Papa.parse(lines, { header: true, escapeChar: '\\' }).data.length).toBeGreaterThanOrEqual(ROWS);
    await expectSameFiles({ plugins: [{ use: 'format/json' }], source: { path: parquet }, output: noManifest }, 'node', 10);
  });

  it('splits at maxRows and at maxBytes where the single-threaded run does, with the same manifest', async () => {
    const byRows = await expectSameFiles({ plugins: [csvOut, gzip6, { use: 'manifest/json' }], source: { path: ndjson }, schema, output: { split: { maxRows: 701 } } });
    expect(byRows.summary.files!.map((f) => f.rows)).toEqual([701, 701, 701, 701, 196]);
    const byBytes = await expectSameFiles({ plugins: [{ use: 'format/json' }], source: { path: ndjson }, schema, output: { manifest: false, split: { maxBytes: 50_000 } } });
    expect(byBytes.files.size).toBeGreaterThan(4);
    for (const bytes of byBytes.files.values()) expect(bytes.length).toBeLessThanOrEqual(50_000);
  });

  it('on Deno too (node:worker_threads running the TypeScript worker)', async () => {
    await expectSameFiles({ plugins: [csvOut, gzip6], source: { path: ndjson }, schema, output: noManifest }, 'deno');
  });

  it('fails on a bad line with the error the single-threaded run gives, and writes nothing', async () => {
    const lines = (await readFile(ndjson, 'utf8')).split('\n');
    lines.splice(2_345, 0, '{"id": 1, oops}');
    const bad = join(dir, 'bad.ndjson');
    await writeFile(bad, lines.join('\n'));
    const config = { plugins: [csvOut, gzip6], source: { path: bad }, schema, output: noManifest };
    const single = await exportWith('node', 0, config);
    const parallel = await exportWith('node', 3, config);
    expect(single.code).toBe(1);
    expect(single.summary.error!.message).toMatch(/^NDJSON line \d+: not valid JSON/);
    expect(parallel.code).toBe(1);
    expect(parallel.summary.error).toEqual(single.summary.error);
    expect(parallel.files.size).toBe(0);
  });

  it('reads on one thread, with a warning, when the worker script cannot be built', async () => {
    // A TMPDIR where the bundle's folder is a file: tsx's cache works, the worker's bundle cannot be written.
    const tmp = join(dir, 'tmp');
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    await mkdir(join(tmp, `edge-export-${uid}`), { recursive: true });
    await writeFile(join(tmp, `edge-export-${uid}`, 'parallel-worker'), 'not a folder');
    const single = await exportWith('node', 0, { plugins: [csvOut, gzip6], source: { path: ndjson }, schema, output: noManifest });
    const config = join(dir, `config-${runs}.json`);
    const { code, out, err } = await cliProcess('node', ['export', '--config', config, '--threads', '3'], { ...PIECE, TMPDIR: tmp });
    expect(code, err).toBe(0);
    expect(err).toContain('warning: worker threads unavailable, reading on one thread: ');
    const summary = JSON.parse(out);
    expect(summary.parallel).toBeUndefined();
    expect(summary.files.map((f: { sha256: string }) => f.sha256)).toEqual(single.summary.files!.map((f) => f.sha256));
  });

  it('refuses a thread count that is not a whole number ≥ 0, naming the flag', async () => {
    await exportWith('node', 0, { plugins: [csvOut], source: { path: ndjson } });
    const path = join(dir, `config-${runs}.json`);
    for (const [flag, env] of [['--threads', {}], ['EXPORT_THREADS', { EXPORT_THREADS: 'two' }]] as const) {
      const args = flag === '--threads' ? ['--threads', '1.5'] : [];
      const { code, err } = await cliProcess('node', ['export', '--config', path, ...args], env);
      expect(code).toBe(2);
      expect(err).toContain(`${flag}: expected a whole number ≥ 0, got "${flag === '--threads' ? '1.5' : 'two'}"`);
    }
  });

  it('fails on a value the format refuses with the same row number as the single-threaded run', async () => {
    // With quoting disabled a value holding the delimiter cannot be written: format/csv names its row.
    const config = { plugins: [{ use: 'format/csv', options: { quote: '', nullValue: 'NULL' } }], source: { path: ndjson }, schema, output: noManifest };
    const single = await exportWith('node', 0, config);
    const parallel = await exportWith('node', 3, config);
    expect(single.code).toBe(1);
    expect(single.summary.error!.message).toMatch(/format\/csv: row \d+:/);
    expect(parallel.summary.error).toEqual(single.summary.error);
    expect(parallel.files.size).toBe(0);
  });
});
