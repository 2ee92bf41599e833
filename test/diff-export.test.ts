/**
 * Issue 20, item 4: `diff` and `insert-only` exports through the CLI into moto (auth enforced).
 * Three runs over three snapshots of a profile file, with members that join, change, leave (their
 * profile deleted, or no longer matching the rule) and come back. The added, changed and removed
 * files read back from S3 must equal what DuckDB computes from the snapshots with `EXCEPT`; the
 * insert-only files must equal DuckDB's added rows; each manifest entry says its kind and rows.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMotoWithWriter } from './harness/moto.ts';
import { runCli } from './support/cli.ts';

const BUCKET = 'diff-exports';
let dir: string;
let moto: Moto;
let reader: S3Client;
let writer: { accessKeyId: string; secretAccessKey: string };
let db: DuckDBConnection;

interface Person {
  id: string;
  tier: 'gold' | 'silver';
  name: string;
  score: number;
}

/** Three snapshots: each step adds, changes, demotes, deletes and brings members back. */
function snapshots(): Person[][] {
  const first: Person[] = Array.from({ length: 40 }, (_, i) => ({
    id: `p${String(i).padStart(2, '0')}`,
    tier: i % 3 === 0 ? 'silver' : 'gold',
    name: `name ${i}`,
    score: i * 10,
  }));
  const second = first
    // p05, p10, p35 are deleted.
    .filter((p) => !['p05', 'p10', 'p35'].includes(p.id))
    .map((p) => {
      const n = Number(p.id.slice(1));
      if (n % 7 === 1) return { ...p, name: `${p.name}, renamed` }; // changed (members), or nothing (silver)
      if (n === 3 || n === 9) return { ...p, tier: 'gold' as const }; // joined
      if (n === 4 || n === 8) return { ...p, tier: 'silver' as const }; // left, profile kept
      if (n === 2) return { ...p, score: 999 }; // changed
      return p;
    })
    .concat([{ id: 'p40', tier: 'gold', name: 'new "quoted"', score: 1 }]);
  const third = second
    .filter((p) => p.id !== 'p40')
    .map((p) => {
      if (p.id === 'p04') return { ...p, tier: 'gold' as const, name: 'back again' }; // rejoins, with new values
      if (p.id === 'p11' || p.id === 'p13') return { ...p, score: p.score + 1 }; // changed
      if (p.id === 'p07') return { ...p, tier: 'silver' as const }; // left
      return p;
    })
    .concat([{ id: 'p05', tier: 'gold', name: 'recreated', score: 5 }]);
  return [first, second, third];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diff-export-'));
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'diff-writer'));
  const snaps = snapshots();
  for (const [i, snap] of snaps.entries()) {
    const lines = snap.map((p) => JSON.stringify({ id: p.id, identities: {}, attributes: { tier: p.tier, name: p.name, score: p.score }, updatedAt: '2026-01-01T00:00:00Z' }));
    await writeFile(join(dir, `snap${i + 1}.ndjson`), `${lines.join('\n')}\n`);
  }
  db = await (await DuckDBInstance.create()).connect();
  // The members of each snapshot, by DuckDB alone: the rule `tier = "gold"`, the mapped columns as text.
  for (let i = 1; i <= 3; i++) {
    await db.run(
      `CREATE TABLE m${i} AS SELECT id, attributes.name AS name, CAST(attributes.score AS VARCHAR) AS score
         FROM read_json('${join(dir, `snap${i}.ndjson`)}') WHERE attributes.tier = 'gold'`,
    );
  }
  await db.run('CREATE TABLE m0 (id VARCHAR, name VARCHAR, score VARCHAR)');
});
afterAll(async () => {
  db?.closeSync();
  reader?.destroy();
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function exportRun(mode: string, step: number, fileType: 'csv' | 'json'): Promise<{ files: { key: string; name: string; rows: number; kind?: string }[]; manifest: { key: string } }> {
  const config = join(dir, `${mode}-${fileType}-${step}.json`);
  await writeFile(
    config,
    JSON.stringify({
      plugins: {
        plugins: [
          { use: fileType === 'csv' ? 'format/csv' : 'format/json' },
          { use: 'naming/segment' },
          { use: 'manifest/json' },
          { use: 'auth/accessKey', options: writer },
          { use: 'sink/s3', options: { bucket: BUCKET, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true } },
        ],
      },
      destination: { id: 'dst', name: 'diff test' },
      audience: { id: `gold-${mode}-${fileType}`, name: 'gold', rule: 'tier = "gold"' },
      source: { path: join(dir, `snap${step}.ndjson`) },
      mapping: { fields: [{ source: 'id' }, { source: 'attributes.name', target: 'name' }, { source: 'attributes.score', target: 'score' }] },
      mode,
      output: { folderPath: `out/${mode}/${fileType}` },
      scheduledTime: `2026-02-0${step}T06:00:00Z`,
      runId: `${mode}-${fileType}-${step}`,
    }),
  );
  const { code, out, err } = await runCli('export', '--config', config, '--state', join(dir, `${mode}-${fileType}.state.json`));
  expect(code, err).toBe(0);
  return JSON.parse(out);
}

async function getText(key: string): Promise<string> {
  const res = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return res.Body!.transformToString();
}

/** A file read back from S3 into DuckDB, every column as text. */
async function readBack(key: string, fileType: 'csv' | 'json'): Promise<string[][]> {
  const local = join(dir, key.replaceAll('/', '_'));
  await writeFile(local, await getText(key));
  const from =
    fileType === 'csv'
      ? `read_csv('${local}', header = true, all_varchar = true)`
      : `read_json('${local}', columns = {id: 'VARCHAR', name: 'VARCHAR', score: 'VARCHAR'})`;
  return rows(`SELECT id, name, score FROM ${from}`);
}

async function rows(sql: string): Promise<string[][]> {
  const result = await db.runAndReadAll(`${sql} ORDER BY ALL`);
  return result.getRows().map((r) => r.map((v) => (v === null ? '' : String(v))));
}

/** DuckDB's answer for step `k`: added, changed (whole rows) and removed (ids) since step k-1. */
async function expected(k: number): Promise<{ added: string[][]; changed: string[][]; removed: string[][] }> {
  const [now, before] = [`m${k}`, `m${k - 1}`];
  return {
    added: await rows(`SELECT * FROM ${now} WHERE id IN (SELECT id FROM ${now} EXCEPT SELECT id FROM ${before})`),
    changed: await rows(`SELECT * FROM ${now} WHERE id IN (SELECT id FROM ${before}) EXCEPT SELECT * FROM ${before}`),
    removed: await rows(`SELECT id FROM ${before} EXCEPT SELECT id FROM ${now}`),
  };
}

describe('diff and insert-only exports (CLI, moto with auth enforced, checked by DuckDB)', () => {
  for (const fileType of ['csv', 'json'] as const)
    it(`diff (${fileType}): three runs write added, changed and removed files equal to DuckDB's EXCEPT over the snapshots`, async () => {
      let kinds = 0;
      for (let step = 1; step <= 3; step++) {
        const summary = await exportRun('diff', step, fileType);
        const want = await expected(step);
        const got: Record<string, string[][]> = { added: [], changed: [], removed: [] };
        for (const file of summary.files) {
          expect(file.kind).toMatch(/^(added|changed|removed)$/);
          expect(file.name).toMatch(new RegExp(`^diff_test_gold-diff-${fileType}_\\d{8}_\\d{6}_${file.kind}\\.${fileType}$`));
          const read = await readBack(file.key, fileType);
          expect(read).toHaveLength(file.rows);
          got[file.kind!]!.push(...read);
        }
        expect(got.added!.sort()).toEqual(want.added);
        expect(got.changed!.sort()).toEqual(want.changed);
        // Removed rows carry at least their key.
        expect(got.removed!.map((r) => [r[0]!]).sort()).toEqual(want.removed);
        // A kind without rows writes no file; each file is one manifest entry with its kind and rows.
        for (const kind of ['added', 'changed', 'removed'] as const) {
          expect(summary.files.some((f) => f.kind === kind)).toBe(want[kind].length > 0);
        }
        const manifest = JSON.parse(await getText(summary.manifest.key));
        expect(manifest.exportResults.map((r: { name: string; kind: string; rows: number }) => [r.name, r.kind, r.rows])).toEqual(
          summary.files.map((f) => [f.name, f.kind, f.rows]),
        );
        kinds += summary.files.length;
        if (step > 1) for (const kind of ['added', 'changed', 'removed'] as const) expect(want[kind].length, `step ${step} ${kind}`).toBeGreaterThan(0);
      }
      // Every file the runs wrote is in S3, nothing else beside the manifests.
      const listed = await reader.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `out/diff/${fileType}/` }));
      expect((listed.Contents ?? []).filter((o) => !o.Key!.includes('manifest-'))).toHaveLength(kinds);
    });

  it('insert-only: each run writes only the members that joined since the last run', async () => {
    for (let step = 1; step <= 3; step++) {
      const summary = await exportRun('insert-only', step, 'csv');
      const want = await expected(step);
      expect(summary.files).toHaveLength(1);
      expect(summary.files[0]!.kind).toBeUndefined();
      expect(await readBack(summary.files[0]!.key, 'csv')).toEqual(want.added);
      // The file has the mapped columns only: no status column.
      expect((await getText(summary.files[0]!.key)).split('\n')[0]).toBe('id,name,score');
    }
  });

  it('refuses insert-only and diff without an audience, naming the field', async () => {
    const config = join(dir, 'rows.json');
    await writeFile(
      config,
      JSON.stringify({
        plugins: { plugins: [{ use: 'format/csv' }, { use: 'sink/local', options: { directory: join(dir, 'local') } }] },
        destination: { id: 'd', name: 'local' },
        source: { path: join(dir, 'snap1.ndjson') },
        mode: 'diff',
      }),
    );
    const validated = await runCli('validate', '--config', config);
    expect(validated.code).toBe(2);
    expect(validated.err).toContain("mode: diff needs an audience (rule or mapping): it compares member keys with the last run's state");
    const exported = await runCli('export', '--config', config, '--state', join(dir, 'rows.state.json'));
    expect(exported.code).toBe(2);
    expect(exported.err).toContain("mode: diff needs an audience (rule or mapping)");
    await writeFile(config, (await readFile(config, 'utf8')).replace('"diff"', '"upsert"'));
    expect((await runCli('validate', '--config', config)).err).toContain('mode: expected "full", "incremental", "insert-only", "diff"');
  });
});
