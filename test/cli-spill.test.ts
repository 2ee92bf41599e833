/**
 * The CLI's sorts spill to disk: `edge-export export` (its own process, on Node and on Deno) with a
 * tiny `--sort-budget` writes sorted runs as files in a temporary folder under TMPDIR (counted in
 * the summary's `spilled`), and its output, read back by DuckDB, equals the run that sorted in memory
 * (partitioned + deduplicated) or DuckDB's own computation (diff). The folder is gone after a
 * success, a failure and a Ctrl-C.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliProcess, type Runtime, startCli } from './support/cli-process.ts';
import { duckdbRows } from './support/hive.ts';

const ROOT = resolve(import.meta.dirname, '..');
let dir: string;

/** 1,200 profiles; every third shares an email with the one before (dedup keeps one of each). */
function profiles(step: 1 | 2): string {
  const lines: string[] = [];
  for (let i = 0; i < 1200; i++) {
    // Step 2: ids 0–99 are gone, 100–199 have a new score, 1200–1299 are new.
    if (step === 2 && i < 100) continue;
    const score = step === 2 && i < 200 ? i + 1 : i;
    lines.push(profile(i, score));
  }
  if (step === 2) for (let i = 1200; i < 1300; i++) lines.push(profile(i, i));
  return `${lines.join('\n')}\n`;
}

function profile(i: number, score: number): string {
  const email = `user${i % 3 === 2 ? i - 1 : i}@example.com`;
  const attributes = { tier: ['gold', 'silver', 'bronze'][i % 3], name: `name ${'é'.repeat(i % 4)}${i}`, score, email };
  return JSON.stringify({ id: `p${String(i).padStart(5, '0')}`, identities: {}, attributes, updatedAt: '2026-01-01T00:00:00Z' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-spill-'));
  await writeFile(join(dir, 'snap1.ndjson'), profiles(1));
  await writeFile(join(dir, 'snap2.ndjson'), profiles(2));
  await writeFile(join(dir, 'empty.ndjson'), '');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `edge-export <args>` on a runtime with its own TMPDIR. */
const start = (runtime: Runtime, temp: string, args: string[], env: Record<string, string> = {}) => startCli(runtime, args, { TMPDIR: temp, ...env });
const cli = (runtime: Runtime, temp: string, args: string[], env: Record<string, string> = {}) => cliProcess(runtime, args, { TMPDIR: temp, ...env });

/** The spill folders under a TMPDIR (tsx keeps its cache there too). */
async function spillFolders(temp: string): Promise<string[]> {
  return (await readdir(temp)).filter((name) => name.startsWith('edge-export-spill-'));
}

/** A fresh, empty TMPDIR for one CLI run. */
async function freshTemp(name: string): Promise<string> {
  const temp = join(dir, 'tmp', name);
  await mkdir(temp, { recursive: true });
  return temp;
}

const MAPPING = {
  fields: [
    { source: 'id' },
    { source: 'attributes.name', target: 'name' },
    { source: 'attributes.tier', target: 'tier' },
    { source: 'attributes.score', target: 'score' },
    { source: 'attributes.email', target: 'email' },
  ],
};

async function config(name: string, body: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      destination: { id: 'dst', name: 'spill' },
      scheduledTime: '2026-03-01T06:00:00Z',
      runId: name,
      ...body,
    }),
  );
  return path;
}

const localPlugins = (out: string) => ({ plugins: [{ use: 'format/csv' }, { use: 'sink/local', options: { directory: out } }] });

/** Every CSV row under `out` (Hive folders as columns), as text, in order. */
async function readCsv(out: string): Promise<Record<string, unknown>[]> {
  return duckdbRows(
    `SELECT * FROM read_csv('${out}/**/*.csv', header = true, all_varchar = true, hive_partitioning = true) ORDER BY ALL`,
  );
}

describe.each(['node', 'deno'] as const)('edge-export export spills its sorts to disk (%s)', (runtime) => {
  it('a partitioned, deduplicated export with a 4 KiB budget spills runs and writes what the in-memory run writes', async () => {
    const outputs: Record<string, Record<string, unknown>[]> = {};
    const spilled: Record<string, unknown> = {};
    for (const budget of ['4KiB', undefined]) {
      const name = `${runtime}-partitioned-${budget ?? 'default'}`;
      const out = join(dir, name);
      const temp = await freshTemp(name);
      const path = await config(name, {
        plugins: localPlugins(out),
        source: { path: join(dir, 'snap1.ndjson') },
        audience: { id: 'all', name: 'all' },
        mapping: { ...MAPPING, dedup: { attributes: ['attributes.email'] } },
        output: { partitionBy: { columns: ['tier'] } },
      });
      const args = ['export', '--config', path, '--no-progress', ...(budget ? ['--sort-budget', budget] : [])];
      const { code, out: stdout, err } = await cli(runtime, temp, args);
      expect(code, err).toBe(0);
      const summary = JSON.parse(stdout) as { rows: number; spilled?: { files: number; bytes: number } };
      expect(summary.rows).toBe(800);
      spilled[String(budget)] = summary.spilled;
      outputs[String(budget)] = await readCsv(out);
      expect(await spillFolders(temp), 'the spill folder is removed after success').toEqual([]);
    }
    // 800 rows of ~60 bytes at 4 KiB a run: dedup's and the partition sort's runs, dozens of files.
    const tiny = spilled['4KiB'] as { files: number; bytes: number };
    expect(tiny.files).toBeGreaterThan(20);
    expect(tiny.bytes).toBeGreaterThan(800 * 40);
    expect(spilled.undefined, 'the default budget sorts 1,200 profiles in memory').toBeUndefined();
    expect(outputs['4KiB']).toHaveLength(800);
    expect(outputs['4KiB']).toEqual(outputs.undefined);
    // One row per email (DuckDB's own count), each in the folder of its own tier.
    const [distinct] = await duckdbRows(`SELECT count(DISTINCT attributes.email) AS n FROM read_json('${join(dir, 'snap1.ndjson')}')`);
    expect(Number(distinct!.n)).toBe(800);
    expect(new Set(outputs['4KiB']!.map((r) => r.email)).size).toBe(800);
  });

  it("a diff export with a tiny budget spills its changed and removed rows and equals DuckDB's EXCEPT", async () => {
    const state = join(dir, `${runtime}-diff.state.json`);
    const results: { kind?: string; key: string }[][] = [];
    const temp = await freshTemp(`${runtime}-diff`);
    const out = join(dir, `${runtime}-diff`);
    for (const step of [1, 2]) {
      const path = await config(`${runtime}-diff-${step}`, {
        plugins: localPlugins(join(out, String(step))),
        source: { path: join(dir, `snap${step}.ndjson`) },
        audience: { id: 'all', name: 'all' },
        mapping: MAPPING,
        mode: 'diff',
      });
      const { code, out: stdout, err } = await cli(runtime, temp, ['export', '--config', path, '--state', state, '--no-progress'], {
        EXPORT_SORT_BUDGET: '2048',
      });
      expect(code, err).toBe(0);
      const summary = JSON.parse(stdout) as { files: { kind?: string; key: string }[]; spilled?: { files: number } };
      if (step === 2) expect(summary.spilled?.files).toBeGreaterThanOrEqual(2);
      results.push(summary.files);
      expect(await spillFolders(temp)).toEqual([]);
    }
    const file = (kind: string) => join(out, '2', results[1]!.find((f) => f.kind === kind)!.key);
    const read = (kind: string) => duckdbRows(`SELECT * FROM read_csv('${file(kind)}', header = true, all_varchar = true) ORDER BY ALL`);
    const snap = (n: number) =>
      `(SELECT id, attributes.name AS name, attributes.tier AS tier, CAST(attributes.score AS VARCHAR) AS score, attributes.email AS email FROM read_json('${join(dir, `snap${n}.ndjson`)}'))`;
    const [s1, s2] = [snap(1), snap(2)];
    expect(await read('added')).toEqual(await duckdbRows(`SELECT * FROM ${s2} WHERE id NOT IN (SELECT id FROM ${s1}) ORDER BY ALL`));
    const changed = await duckdbRows(`SELECT * FROM ${s2} WHERE id IN (SELECT id FROM ${s1}) EXCEPT SELECT * FROM ${s1} ORDER BY ALL`);
    expect(changed).toHaveLength(100);
    expect(await read('changed')).toEqual(changed);
    const removed = (await read('removed')).map((r) => r.id);
    expect(removed).toEqual((await duckdbRows(`SELECT id FROM ${s1} EXCEPT SELECT id FROM ${s2} ORDER BY ALL`)).map((r) => r.id));
  });

  it('removes the spill folder when the export fails after spilling', async () => {
    const temp = await freshTemp(`${runtime}-failed`);
    // The sink's folder is a file: the first partition file cannot be written, after every row was sorted.
    const blocked = join(dir, `${runtime}-blocked`);
    await writeFile(blocked, 'not a folder');
    const path = await config(`${runtime}-failed`, {
      plugins: localPlugins(join(blocked, 'out')),
      source: { path: join(dir, 'snap1.ndjson') },
      audience: { id: 'all', name: 'all' },
      mapping: MAPPING,
      output: { partitionBy: { columns: ['tier'] } },
    });
    const { code, out, err } = await cli(runtime, temp, ['export', '--config', path, '--no-progress', '--sort-budget', '4096']);
    expect(code, err).toBe(1);
    const summary = JSON.parse(out) as { failed: boolean; spilled?: { files: number } };
    expect(summary.failed).toBe(true);
    expect(summary.spilled?.files).toBeGreaterThan(10);
    expect(await spillFolders(temp)).toEqual([]);
  });

  it('removes the spill folder on Ctrl-C while runs are on disk, and exits 130', async () => {
    const temp = await freshTemp(`${runtime}-interrupted`);
    const path = await config(`${runtime}-interrupted`, {
      plugins: {
        modules: [join(ROOT, 'test/support/stalling-source.ts')],
        plugins: [{ use: 'test/stalling', options: { rows: 1000, pad: 50 } }, ...localPlugins(join(dir, `${runtime}-interrupted`)).plugins],
      },
      source: { path: join(dir, 'empty.ndjson') },
      output: { partitionBy: { columns: ['note'] } },
    });
    const child = start(runtime, temp, ['export', '--config', path, '--no-progress', '--sort-budget', '4096']);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = once(child, 'exit');
    // The source has given its rows and stalls: the sorted runs are on disk and stay there.
    const spillFiles = async () => {
      const folders = await spillFolders(temp);
      return folders.length === 1 ? (await readdir(join(temp, folders[0]!))).length : 0;
    };
    while ((await spillFiles()) < 10) {
      if (child.exitCode !== null) throw new Error(`the export ended early (${child.exitCode}): ${err}`);
      await delay(20);
    }
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code, err).toBe(130);
    expect(err).toContain('interrupted (SIGINT)');
    expect(await spillFolders(temp)).toEqual([]);
  });

  it('refuses a sort budget that is not a number of bytes, naming the option', async () => {
    const temp = await freshTemp(`${runtime}-usage`);
    const path = await config(`${runtime}-usage`, { plugins: localPlugins(join(dir, 'unused')), source: { path: join(dir, 'snap1.ndjson') } });
    const flag = await cli(runtime, temp, ['export', '--config', path, '--sort-budget', '64MB']);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain('--sort-budget: expected a positive number of bytes (e.g. 67108864 or 64MiB), got "64MB"');
    const env = await cli(runtime, temp, ['export', '--config', path], { EXPORT_SORT_BUDGET: '0' });
    expect(env.code).toBe(2);
    expect(env.err).toContain('EXPORT_SORT_BUDGET: expected a positive number of bytes');
  });
});
