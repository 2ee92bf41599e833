/**
 * Issue 20 (items 1 and 2) through the CLI: a partitioned export with a file-name template goes into
 * moto with auth enforced (as a user holding exactly the policy `edge-export policy` prints); every
 * object is downloaded and read back by DuckDB with `hive_partitioning = true`, hostile partition
 * values included; two runs in the same second keep both files ({run.id}); a run past its partition
 * bound fails and publishes nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARTITION } from '../src/core/partition.ts';
import { runCli } from './support/cli.ts';
import { downloadPrefix, duckdbRows } from './support/hive.ts';
import { permissionPolicy } from '../src/plugins/sink/s3/policy.ts';
import { type Moto, motoSinkPlugins, startMotoWithWriter } from './harness/moto.ts';

const BUCKET = 'partition-bucket';
const FOLDER = 'lake/dt=%DATE%/%SEGMENT_ID%';
const COUNTRIES = ['FR', 'DE', null, '', 'a/b', '../x', 'New York', '50%=x', 'Zürich', '..'];
const ROWS = 60;
let moto: Moto;
let reader: S3Client;
let dir: string;
let user: { accessKeyId: string; secretAccessKey: string };

const rows = Array.from({ length: ROWS }, (_, i) => ({ id: i, email: `user${i}@example.com`, country: COUNTRIES[i % COUNTRIES.length], tier: i % 2 === 0 ? 'gold' : 'silver', score: i / 4 }));

/** An export config for `name` against moto, with the given format plugins and output options. */
async function config(name: string, format: object[], output: object, extra: object = {}): Promise<string> {
  const source = join(dir, 'rows.ndjson');
  await writeFile(source, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      plugins: {
        plugins: [
          ...format,
          { use: 'naming/segment' },
          { use: 'naming/date' },
          { use: 'manifest/json' },
          ...motoSinkPlugins(moto, BUCKET, user),
        ],
      },
      destination: { id: 'dest-1', name: 'Lake' },
      audience: { id: name, name },
      source: { path: source },
      schema: [
        { name: 'id', type: 'integer' },
        { name: 'email', type: 'string' },
        { name: 'country', type: 'string' },
        { name: 'tier', type: 'string' },
        { name: 'score', type: 'double' },
      ],
      output: { folderPath: FOLDER, ...output },
      scheduledTime: '2026-12-05T01:02:03Z',
      ...extra,
    }),
  );
  return path;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const page = await reader.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'partition-s3-'));
  // The writer holds exactly the least-privilege policy of the folder (what `edge-export policy` prints).
  ({ moto, reader, writer: user } = await startMotoWithWriter(BUCKET, 'partition-writer', permissionPolicy({ bucket: BUCKET, folderPath: FOLDER })));
});
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** What DuckDB should read back for a row: the partition value as written, NULL for the default partition. */
const expectedCountry = (c: string | null | undefined) => (c === null || c === undefined || c === '' ? null : c);

describe('partitioned export through the CLI, read back by DuckDB with hive_partitioning', () => {
  it.each([
    ['csv-gzip', [{ use: 'format/csv' }, { use: 'compression/gzip' }], 'csv.gz', (glob: string) => `read_csv('${glob}', hive_partitioning = true, header = true, all_varchar = true)`],
    ['parquet', [{ use: 'format/parquet' }], 'parquet', (glob: string) => `read_parquet('${glob}', hive_partitioning = true)`],
  ])('%s: one file set per country, hostile values kept in one folder each', async (name, format, extension, read) => {
    const template = '{destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}';
    const path = await config(name, format, { fileName: { template }, partitionBy: { columns: ['country'] }, split: { maxRows: 4 } }, { runId: `run-${name}` });
    const { code, out, err } = await runCli('export', '--no-progress', '--config', path);
    expect(err).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    const local = join(dir, `dl-${name}`);
    const keys = await downloadPrefix(reader, BUCKET, `lake/dt=2026-12-05/${name}/`, local);
    // Every key stays under the folder: one `country=…` segment between the folder and the file.
    const files = keys.filter((k) => !k.includes('/manifest-'));
    expect(files.length).toBe(summary.files.length);
    for (const key of files) {
      const rest = key.slice(`lake/dt=2026-12-05/${name}/`.length).split('/');
      expect(key.startsWith(`lake/dt=2026-12-05/${name}/`), key).toBe(true);
      expect(rest, key).toHaveLength(2);
      expect(rest[0]!.startsWith('country='), key).toBe(true);
      expect(rest[1]).toMatch(new RegExp(`^Lake_${name}_20261205_run-${name}(_\\d+)?\\.${extension.replace('.', '\\.')}$`));
    }
    expect(files).toContain(`lake/dt=2026-12-05/${name}/country=${DEFAULT_PARTITION}/Lake_${name}_20261205_run-${name}.${extension}`);
    expect(files).toContain(`lake/dt=2026-12-05/${name}/country=a%2Fb/Lake_${name}_20261205_run-${name}.${extension}`);
    // Split files inside a partition: 12 rows of the default partition (null and '') at 4 a file.
    expect(files).toContain(`lake/dt=2026-12-05/${name}/country=${DEFAULT_PARTITION}/Lake_${name}_20261205_run-${name}_3.${extension}`);

    const got = await duckdbRows(
      `SELECT id::INTEGER AS id, email, country, tier, score::DOUBLE AS score, dt::VARCHAR AS dt FROM ${read(`${local}/lake/dt=2026-12-05/${name}/**/*.${extension}`)} ORDER BY id`,
    );
    expect(got).toEqual(rows.map((r) => ({ id: r.id, email: r.email, country: expectedCountry(r.country), tier: r.tier, score: r.score, dt: '2026-12-05' })));

    // The manifest (in the run's folder, before the audience's) lists every file with its partition values.
    await downloadPrefix(reader, BUCKET, summary.manifest.key, local);
    const manifest = JSON.parse(await readFile(join(local, summary.manifest.key), 'utf8'));
    expect(manifest.exportResults).toHaveLength(files.length);
    for (const entry of manifest.exportResults) {
      expect(`${entry.sinkPath}/${entry.name}`).toMatch(/country=/);
      expect(Object.keys(entry.partition)).toEqual(['country']);
    }
    const byPartition = new Map<string | null, number>();
    for (const entry of manifest.exportResults) byPartition.set(entry.partition.country, (byPartition.get(entry.partition.country) ?? 0) + entry.rows);
    const expected = new Map<string | null, number>();
    for (const r of rows) expected.set(expectedCountry(r.country), (expected.get(expectedCountry(r.country)) ?? 0) + 1);
    expect(byPartition).toEqual(expected);
  });

  it('partitions by two columns: country=…/tier=… folders, both read back as columns', async () => {
    const path = await config('two', [{ use: 'format/parquet' }], { partitionBy: { columns: ['tier', 'country'] } }, { runId: 'run-two' });
    const { code, err } = await runCli('export', '--no-progress', '--config', path);
    expect(err).toBe('');
    expect(code).toBe(0);
    const local = join(dir, 'dl-two');
    const keys = await downloadPrefix(reader, BUCKET, 'lake/dt=2026-12-05/two/', local);
    expect(keys).toContain('lake/dt=2026-12-05/two/tier=gold/country=FR/Lake_two_20261205_010203.parquet');
    const got = await duckdbRows(`SELECT tier, country, count(*)::INTEGER AS n FROM read_parquet('${local}/lake/dt=2026-12-05/two/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`);
    const counts = new Map<string, number>();
    for (const r of rows) {
      const k = JSON.stringify([r.tier, expectedCountry(r.country)]);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const pairs = (list: [string, unknown][]) => list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    expect(pairs(got.map((r) => [JSON.stringify([r.tier, r.country]), r.n]))).toEqual(pairs([...counts]));
  });

  it('a whole destination (as the API takes it) in a CLI config partitions the same way', async () => {
    const destination = {
      id: 'dest-2',
      name: 'Whole',
      bucket: BUCKET,
      folderPath: FOLDER,
      region: moto.region,
      endpoint: moto.endpoint,
      auth: { method: 'accessKey', ...user },
      fileType: 'json',
      compression: 'gzip',
    };
    const path = join(dir, 'whole.json');
    await writeFile(join(dir, 'rows.ndjson'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    await writeFile(
      path,
      JSON.stringify({
        destination,
        audience: { id: 'whole', name: 'whole' },
        source: { path: join(dir, 'rows.ndjson') },
        output: { fileName: { template: '{destination}_{run.id}' }, partitionBy: { columns: ['tier'] } },
        scheduledTime: '2026-12-05T01:02:03Z',
        runId: 'run-whole',
      }),
    );
    const { code, err } = await runCli('export', '--no-progress', '--config', path);
    expect(err).toBe('');
    expect(code).toBe(0);
    const local = join(dir, 'dl-whole');
    const keys = await downloadPrefix(reader, BUCKET, 'lake/dt=2026-12-05/whole/', local);
    expect(keys).toEqual(['gold', 'silver'].map((t) => `lake/dt=2026-12-05/whole/tier=${t}/Whole_run-whole.json.gz`));
    const got = await duckdbRows(`SELECT tier, count(*)::INTEGER AS n FROM read_json('${local}/**/*.json.gz', hive_partitioning = true) GROUP BY ALL ORDER BY ALL`);
    expect(got).toEqual([{ tier: 'gold', n: ROWS / 2 }, { tier: 'silver', n: ROWS / 2 }]);
    // A mistake in the option is reported at the CLI's own field.
    const bad = join(dir, 'whole-bad.json');
    await writeFile(bad, (await readFile(path, 'utf8')).replace('{"columns":["tier"]}', '{"columns":["tier"],"maxPartitions":0}'));
    const refused = await runCli('validate', '--config', bad);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('output.partitionBy.maxPartitions: at least 1');
  });

  it('two runs in the same second: a template with {run.id} keeps both runs\' files', async () => {
    const output = { fileName: { template: '{audience.id}_{datetime}_{run.id}' } };
    for (const runId of ['first', 'second']) {
      const { code } = await runCli('export', '--no-progress', '--config', await config('twice', [{ use: 'format/csv' }], output, { runId }));
      expect(code).toBe(0);
    }
    const keys = (await keysUnder('lake/dt=2026-12-05/twice/')).filter((k) => !k.includes('manifest-'));
    expect(keys.sort()).toEqual(['lake/dt=2026-12-05/twice/twice_20261205_010203_first.csv', 'lake/dt=2026-12-05/twice/twice_20261205_010203_second.csv']);
  });

  it('a run past its partition bound fails with a clear error and publishes nothing', async () => {
    const path = await config('bounded', [{ use: 'format/csv' }], { partitionBy: { columns: ['country'], maxPartitions: 3 } }, { runId: 'run-bounded' });
    const { code, err } = await runCli('export', '--no-progress', '--config', path);
    expect(code).not.toBe(0);
    expect(err).toContain('more than 3 partitions (partitionBy.maxPartitions)');
    expect(await keysUnder('lake/dt=2026-12-05/bounded/')).toEqual([]);
  });

  it('validate reports template and partition mistakes at configuration time, with did-you-mean', async () => {
    const path = await config('invalid', [{ use: 'format/csv' }], {
      fileName: { template: '{destination}_{audiance.id}/x{run.id' },
      partitionBy: { columns: ['country', 'country'], maxPartitions: 0 },
    });
    const { code, err } = await runCli('validate', '--config', path);
    expect(code).not.toBe(0);
    expect(err).toContain('output.fileName.template');
    expect(err).toContain('character "/" at position 28 is not allowed');
    expect(err).toContain('"{" at position 30 has no closing "}"');
    expect(err).toContain('output.partitionBy.maxPartitions');
    const unknown = await runCli('validate', '--config', await config('invalid2', [{ use: 'format/csv' }], { fileName: { template: '{destination}_{audiance.id}' } }));
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('unknown token {audiance.id} (did you mean "{audience.id}"?)');
    // With a mapping the output columns are known: a partition column must be one of them (same message as the API's).
    const mapping = { fields: [{ source: 'id' }, { source: 'attributes.country', target: 'country' }] };
    const column = await runCli('validate', '--config', await config('invalid3', [{ use: 'format/csv' }], { partitionBy: { columns: ['contry'] } }, { mapping }));
    expect(column.code).not.toBe(0);
    expect(column.err).toContain('output.partitionBy.columns[0]: partitionBy.columns: "contry" is not an output column (did you mean "country"?)');
  });
});
