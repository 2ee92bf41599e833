/**
 * Issue 21: the CLI reads snapshot sources — `s3://bucket/prefix/` (Parquet of several files and row
 * groups, a Hive-partitioned prefix, NDJSON, CSV), `s3://bucket/key` and a local folder — on Node and
 * Deno, against moto with auth enforced. A request-recording proxy in front of moto proves the
 * projection at the server (only the named columns' chunks are fetched); every export's members
 * equal DuckDB's answer over the same files (the rule's filter, then dedup keeping the latest).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingProxy, startCountingProxy } from './harness/counting-proxy.ts';
import { createBucket, createRole, createUser, type Moto, type MotoCredentials, s3Reader, startMoto } from './harness/moto.ts';
import { trustPolicy } from '../src/plugins/auth/assumedRole/trust.ts';
import { keyPair } from './harness/data.ts';
import { runCli } from './support/cli.ts';
import { cliProcess, type Runtime } from './support/cli-process.ts';
import { duckdbRows } from './support/hive.ts';

const BUCKET = 'snap-src';
const ROWS = 12_000;

let dir: string;
let moto: Moto;
let admin: S3Client;
let proxy: CountingProxy;
let readerKeys: MotoCredentials;
let listOnlyKeys: MotoCredentials;
let platform: MotoCredentials & { arn: string };
let roleArn: string;
const EXTERNAL_ID = 'lake-ext-1';

/** What a snapshot reader needs: list the bucket, get its objects. */
const READER_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${BUCKET}/*` },
  ],
};

/** The profiles every snapshot holds (v2 of the incremental test changes some), as DuckDB builds them. */
const PROFILES = (version: 1 | 2) => `
  SELECT printf('p%05d', i) AS id,
         printf('user%d@example.com', i % 9000) AS "identities.email",
         ['FR', 'DE', 'US', 'JP', 'ES'][i % 5 + 1] AS country,
         ((i * 37 + ${version === 2 ? 'CASE WHEN i % 10 = 0 THEN 500 ELSE 0 END' : '0'}) % 2000)::DOUBLE AS totalSpend,
         (i % 3 = 0) AS vip,
         md5(i::VARCHAR) || md5((i + 1)::VARCHAR) || md5((i + 2)::VARCHAR) || md5((i + 3)::VARCHAR) AS notes,
         TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i) AS updatedAt
  FROM range(${version === 2 ? 600 : 0}, ${ROWS}) t(i)`;

/** The same rows with text timestamps (NDJSON and CSV hold ISO strings). */
const TEXT_PROFILES = `SELECT * REPLACE (strftime(updatedAt, '%Y-%m-%dT%H:%M:%SZ') AS updatedAt) FROM (${PROFILES(1)})`;

const RULE = 'country in ["FR", "DE"] and totalSpend > 500';
const SQL_RULE = `country IN ('FR', 'DE') AND totalSpend > 500`;
const MAPPING = {
  fields: [
    { source: 'identities.email', target: 'email' },
    { source: 'id', target: 'profile' },
  ],
  dedup: { identity: 'email' },
};

/** DuckDB's members over `from` as SQL: the rule's filter, then one row per email, the latest updated. */
function membersSql(from: string, where = SQL_RULE): string {
  return `SELECT email, profile FROM (
      SELECT "identities.email" AS email, id AS profile,
             row_number() OVER (PARTITION BY "identities.email" ORDER BY updatedAt DESC) AS n
      FROM ${from} WHERE ${where})
    WHERE n = 1`;
}

const expectedMembers = (from: string, where?: string) => duckdbRows(`${membersSql(from, where)} ORDER BY ALL`);

/** Every file under `folder`, uploaded under `prefix` (relative paths as keys). */
async function upload(folder: string, prefix: string): Promise<void> {
  for (const name of await readdir(folder, { recursive: true })) {
    const path = join(folder, name);
    if (!(await stat(path)).isFile()) continue;
    const key = `${prefix}${relative(folder, path).split('\\').join('/')}`;
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(path) }));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-snapshot-'));
  const copy = (select: string, to: string, options: string) => duckdbRows(`COPY (${select}) TO '${join(dir, to)}' (${options})`);
  for (const folder of ['parquet', 'ndjson', 'csv', 'inc1', 'inc2', 'mixed']) await mkdir(join(dir, folder));
  for (let k = 0; k < 3; k++) {
    const part = (from: string) => `SELECT * FROM (${from}) WHERE CAST(substr(id, 2) AS INTEGER) % 3 = ${k}`;
    await copy(part(PROFILES(1)), `parquet/part-${k}.parquet`, 'FORMAT parquet, ROW_GROUP_SIZE 2048');
    await copy(part(TEXT_PROFILES), `ndjson/part-${k}.ndjson`, 'FORMAT json');
    await copy(part(TEXT_PROFILES), `csv/part-${k}.csv`, 'FORMAT csv, HEADER true');
  }
  await copy(PROFILES(1), 'inc1/profiles.parquet', 'FORMAT parquet, ROW_GROUP_SIZE 2048');
  await copy(PROFILES(2), 'inc2/profiles.parquet', 'FORMAT parquet, ROW_GROUP_SIZE 2048');
  await copy(PROFILES(1), 'hive', 'FORMAT parquet, PARTITION_BY (country)');
  // A prefix whose second file lacks a column the first has: a schema mismatch.
  await copy(`SELECT * FROM (${PROFILES(1)}) LIMIT 10`, 'mixed/a.parquet', 'FORMAT parquet');
  await copy(`SELECT * EXCLUDE (totalSpend) FROM (${PROFILES(1)}) LIMIT 10`, 'mixed/b.parquet', 'FORMAT parquet');

  moto = await startMoto();
  admin = s3Reader(moto);
  await createBucket(moto, BUCKET);
  for (const folder of ['parquet', 'ndjson', 'csv', 'hive', 'inc1', 'inc2', 'mixed']) await upload(join(dir, folder), `${folder}/`);
  readerKeys = keyPair(await createUser(moto, 'snapshot-reader', READER_POLICY));
  listOnlyKeys = keyPair(
    await createUser(moto, 'snapshot-lister', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` }],
    }),
  );
  platform = await createUser(moto, 'edge-export-platform', {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
  });
  ({ arn: roleArn } = await createRole(moto, 'lake-reader', trustPolicy({ platformPrincipalArn: platform.arn, externalId: EXTERNAL_ID }), READER_POLICY));
  await moto.enableAuth();
  proxy = await startCountingProxy(moto.endpoint);
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  admin?.destroy();
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `edge-export <args>` on a runtime, without progress lines. */
const cli = (runtime: Runtime, args: string[]) => cliProcess(runtime, [...args, '--no-progress']);

/** The `source.s3` block reading through the proxy with `keys`. */
const s3 = (keys: MotoCredentials = readerKeys) => ({
  region: 'us-east-1',
  endpoint: proxy.endpoint,
  forcePathStyle: true,
  auth: { method: 'accessKey', ...keys },
});

/** Writes a config exporting `source` to `out` as CSV (no manifest, fixed name), returns its path. */
async function config(name: string, source: Record<string, unknown>, body: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      plugins: { plugins: [{ use: 'format/csv' }, { use: 'sink/local', options: { directory: join(dir, 'out', name) } }] },
      destination: { id: 'dst', name: 'local' },
      source,
      audience: { id: 'eu-spenders', name: 'EU spenders', rule: RULE },
      mapping: MAPPING,
      output: { fileName: { dateTime: 'none' }, manifest: false },
      scheduledTime: '2026-03-01T06:00:00Z',
      runId: name,
      ...body,
    }),
  );
  return path;
}

interface Summary {
  rows: number;
  files: { key: string; kind?: string }[];
  source?: { files: number; units: number; rows?: number; bytes: number; bytesFetched: number; requests: number; rowsRead: number };
}

/** Runs an export; returns its summary and the rows of its files (kind → rows), read by DuckDB. */
async function exportRows(runtime: Runtime, name: string, args: string[] = []): Promise<{ summary: Summary; rows: Record<string, unknown>[] }> {
  const { code, out, err } = await cli(runtime, ['export', '--config', join(dir, `${name}.json`), ...args]);
  expect(code, err).toBe(0);
  const summary = JSON.parse(out) as Summary;
  const files = summary.files.map((f) => `'${join(dir, 'out', name, f.key)}'`).join(', ');
  const rows = await duckdbRows(`SELECT * FROM read_csv([${files}], header = true, all_varchar = true) ORDER BY ALL`);
  return { summary, rows };
}

/** Column chunk byte ranges of a Parquet file, by column, from DuckDB's reading of its footer. */
async function chunkRanges(path: string): Promise<{ column: string; start: number; end: number }[]> {
  const rows = await duckdbRows(
    `SELECT path_in_schema AS column, coalesce(dictionary_page_offset, data_page_offset) AS start, total_compressed_size AS size
     FROM parquet_metadata('${path}')`,
  );
  return rows.map((r) => ({ column: String(r.column), start: Number(r.start), end: Number(r.start) + Number(r.size) }));
}

/** `bytes=a-b` → [a, b + 1). */
function rangeOf(header: string): [number, number] {
  const match = /^bytes=(\d+)-(\d+)$/.exec(header);
  if (!match) throw new Error(`unexpected Range ${header}`);
  return [Number(match[1]), Number(match[2]) + 1];
}

describe.each(['node', 'deno'] as const)('edge-export reads snapshot sources (%s)', (runtime) => {
  it("a Parquet prefix of several files and row groups: only the projected columns' chunks are fetched, members equal DuckDB's", async () => {
    const name = `${runtime}-parquet`;
    await config(name, { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: s3() });
    proxy.seen.length = 0;
    const { summary, rows } = await exportRows(runtime, name);
    expect(rows).toEqual(await expectedMembers(`read_parquet('${join(dir, 'parquet')}/*.parquet')`));
    expect(rows.length).toBeGreaterThan(1000);
    expect(summary.source).toMatchObject({ files: 3, units: 3 });

    // At the server: every GET of a Parquet object is ranged, and no range touches a column the
    // audience does not name (vip, notes); the bytes fetched are a fraction of the files.
    const gets = proxy.seen.filter((r) => r.method === 'GET' && r.path.endsWith('.parquet'));
    expect(gets.length).toBeGreaterThan(0);
    let fileBytes = 0;
    let fetched = 0;
    for (let k = 0; k < 3; k++) {
      const local = join(dir, 'parquet', `part-${k}.parquet`);
      fileBytes += (await stat(local)).size;
      const unneeded = (await chunkRanges(local)).filter((c) => c.column === 'vip' || c.column === 'notes');
      expect(unneeded.length).toBe(2 * 2);
      for (const get of gets.filter((g) => g.path === `/${BUCKET}/parquet/part-${k}.parquet`)) {
        expect(get.range, 'a whole-object GET').toBeDefined();
        const [start, end] = rangeOf(get.range!);
        for (const chunk of unneeded) expect(start < chunk.end && chunk.start < end, `${get.range} overlaps ${chunk.column}`).toBe(false);
        fetched += get.bytes;
      }
    }
    expect(fetched).toBeLessThan(fileBytes / 2);
    // The summary's figures are the server's: the files' size, and the bytes and requests it served.
    expect(summary.source).toMatchObject({ bytes: fileBytes, bytesFetched: fetched, requests: gets.length, rowsRead: ROWS });
  });

  it('validate plans a readable prefix and reports it, having read only the footers', async () => {
    proxy.seen.length = 0;
    const { code, out, err } = await cli(runtime, ['validate', '--config', await config(`${runtime}-valid`, { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: s3() })]);
    expect(code, err).toBe(0);
    const { source } = JSON.parse(out);
    expect(source).toMatchObject({ format: 'parquet', files: 3, units: 3, rows: ROWS, rowsRead: 0 });
    const tails = proxy.seen.filter((r) => r.method === 'GET' && r.path.endsWith('.parquet'));
    expect(tails).toHaveLength(6);
    expect(source.bytesFetched).toBe(tails.reduce((sum, r) => sum + r.bytes, 0));
    expect(source.bytesFetched).toBeLessThan(source.bytes / 20);
  });

  it("a Hive-partitioned prefix: the country folders are a column the rule reads, members equal DuckDB's", async () => {
    const name = `${runtime}-hive`;
    await config(name, { path: `s3://${BUCKET}/hive/`, format: 'parquet', hivePartitioning: true, s3: s3() });
    const { rows } = await exportRows(runtime, name);
    expect(rows).toEqual(await expectedMembers(`read_parquet('${join(dir, 'hive')}/**/*.parquet', hive_partitioning = true)`));
  });

  it("NDJSON and CSV prefixes give DuckDB's members (CSV values are text: a text rule)", async () => {
    const ndjson = `${runtime}-ndjson`;
    await config(ndjson, { path: `s3://${BUCKET}/ndjson/`, format: 'ndjson', s3: s3() });
    const read = await exportRows(runtime, ndjson);
    expect(read.rows).toEqual(await expectedMembers(`read_json('${join(dir, 'ndjson')}/*.ndjson')`));
    // NDJSON has no footer: export's check of the rule's names reads a sample, not counted as the export's reads.
    expect(read.summary.source).toMatchObject({ files: 3, units: 3, rowsRead: ROWS });
    expect(read.summary.source!.bytesFetched).toBe(read.summary.source!.bytes);
    const csv = `${runtime}-csv`;
    await config(csv, { path: `s3://${BUCKET}/csv/`, format: 'csv', s3: s3() }, { audience: { id: 'eu', name: 'EU', rule: 'country in ["FR", "DE"]' } });
    const expected = await expectedMembers(`read_csv('${join(dir, 'csv')}/*.csv', header = true)`, `country IN ('FR', 'DE')`);
    expect((await exportRows(runtime, csv)).rows).toEqual(expected);
  });

  it("a CSV prefix with declared columns is read typed: the numeric rule gives DuckDB's members", async () => {
    const name = `${runtime}-csv-typed`;
    const text = (n: string) => ({ name: n, type: 'string' });
    const schema = [text('id'), text('identities.email'), text('country'), { name: 'totalSpend', type: 'double' }, { name: 'vip', type: 'boolean' }, text('notes'), text('updatedAt')];
    await config(name, { path: `s3://${BUCKET}/csv/`, format: 'csv', schema, s3: s3() });
    expect((await exportRows(runtime, name)).rows).toEqual(await expectedMembers(`read_csv('${join(dir, 'csv')}/*.csv', header = true)`));
  });

  it("a local folder of Parquet files (a prefix on disk) gives DuckDB's members", async () => {
    const name = `${runtime}-folder`;
    await config(name, { path: join(dir, 'parquet'), format: 'parquet' });
    const { summary, rows } = await exportRows(runtime, name);
    expect(rows).toEqual(await expectedMembers(`read_parquet('${join(dir, 'parquet')}/*.parquet')`));
    expect(summary.source).toMatchObject({ files: 3 });
  });

  it("diff over two snapshots with --state: added, changed and removed equal DuckDB's EXCEPT", async () => {
    const state = join(dir, `${runtime}-diff.state.json`);
    const results: Summary[] = [];
    for (const step of [1, 2] as const) {
      const name = `${runtime}-diff-${step}`;
      await config(name, { path: `s3://${BUCKET}/inc${step}/profiles.parquet`, s3: s3() }, { mode: 'diff' });
      results.push((await exportRows(runtime, name, ['--state', state])).summary);
    }
    const read = (kind: string) => {
      const file = results[1]!.files.find((f) => f.kind === kind)!;
      return duckdbRows(`SELECT * FROM read_csv('${join(dir, 'out', `${runtime}-diff-2`, file.key)}', header = true, all_varchar = true) ORDER BY ALL`);
    };
    const members = (step: number) =>
      `(${membersSql(`read_parquet('${join(dir, `inc${step}`, 'profiles.parquet')}')`)})`;
    const [m1, m2] = [members(1), members(2)];
    const added = await duckdbRows(`SELECT * FROM ${m2} WHERE email NOT IN (SELECT email FROM ${m1}) ORDER BY ALL`);
    const removed = await duckdbRows(`SELECT email FROM ${m1} WHERE email NOT IN (SELECT email FROM ${m2}) ORDER BY ALL`);
    const changed = await duckdbRows(`SELECT * FROM ${m2} WHERE email IN (SELECT email FROM ${m1}) EXCEPT SELECT * FROM ${m1} ORDER BY ALL`);
    expect(added.length).toBeGreaterThan(0);
    expect(removed.length).toBeGreaterThan(0);
    expect(await read('added')).toEqual(added);
    expect((await read('removed')).map((r) => r.email)).toEqual(removed.map((r) => r.email));
    expect(await read('changed')).toEqual(changed);
  });
});

describe('edge-export validate refuses a snapshot source config, naming the field', () => {
  const validate = async (name: string, source: Record<string, unknown>) => runCli('validate', '--config', await config(name, source));

  it('an s3:// path without source.s3, a prefix without a format, a bad bucket, a bad auth option, s3 for a local path', async () => {
    const noS3 = await validate('no-s3', { path: `s3://${BUCKET}/parquet/`, format: 'parquet' });
    expect(noS3.code).toBe(2);
    expect(noS3.err).toContain('source.s3: required for an s3:// source.path');
    expect((await validate('no-format', { path: `s3://${BUCKET}/parquet/`, s3: s3() })).err).toContain(
      'source.format: required for a prefix or a folder',
    );
    expect((await validate('bad-bucket', { path: 's3://Bad_Bucket/x.parquet', s3: s3() })).err).toContain(
      'source.path: the bucket name: Expected only lowercase letters',
    );
    const badAuth = await validate('bad-auth', { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: { ...s3(), auth: { method: 'accessKey', accessKeyId: 'AKIA' } } });
    expect(badAuth.err).toContain('source.s3.auth.secretAccessKey: required field "secretAccessKey" is missing');
    expect((await validate('s3-local', { path: join(dir, 'parquet'), format: 'parquet', s3: s3() })).err).toContain(
      'source.s3: only an s3:// source.path is read from S3',
    );
    expect((await validate('schema-file', { path: join(dir, 'inc1', 'profiles.parquet'), schema: [{ name: 'id', type: 'string' }] })).err).toContain(
      "source.schema: declares a snapshot's columns",
    );
    expect((await validate('bad-schema', { path: `s3://${BUCKET}/csv/`, format: 'csv', schema: [{ name: 'id', type: 'text' }], s3: s3() })).err).toContain(
      'source.schema[0].type',
    );
    expect((await validate('hive-key', { path: `s3://${BUCKET}/inc1/profiles.parquet`, hivePartitioning: true, s3: s3() })).err).toContain(
      'source.hivePartitioning: applies to a prefix',
    );
  });
});

describe('edge-export export over a snapshot (in process)', () => {
  it('an export of a folder without an audience: the rows as they are, every column', async () => {
    const name = 'rows-folder';
    await config(name, { path: join(dir, 'parquet'), format: 'parquet' }, { audience: undefined, mapping: undefined });
    const { code, out, err } = await runCli('export', '--config', join(dir, `${name}.json`), '--no-progress');
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as Summary;
    expect(summary.rows).toBe(ROWS);
    const files = summary.files.map((f) => `'${join(dir, 'out', name, f.key)}'`).join(', ');
    const columns = `id, "identities.email", country, totalSpend::DOUBLE AS totalSpend, vip::BOOLEAN AS vip, notes`;
    expect(await duckdbRows(`SELECT ${columns} FROM read_csv([${files}], header = true, all_varchar = true) ORDER BY id`)).toEqual(
      await duckdbRows(`SELECT ${columns} FROM read_parquet('${join(dir, 'parquet')}/*.parquet') ORDER BY id`),
    );
  });

  it("an assumed role reads the snapshot: the platform identity assumes the customer's role with its external id", async () => {
    const name = 'assumed-role';
    const auth = { method: 'assumedRole', roleArn, externalId: EXTERNAL_ID, stsEndpoint: proxy.endpoint };
    await config(name, { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: { ...s3(), auth } });
    proxy.seen.length = 0;
    const env = { EDGE_EXPORT_AWS_ACCESS_KEY_ID: platform.accessKeyId, EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: platform.secretAccessKey };
    const { code, out, err } = await cliProcess('node', ['export', '--config', join(dir, `${name}.json`), '--no-progress'], env);
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as Summary;
    const files = summary.files.map((f) => `'${join(dir, 'out', name, f.key)}'`).join(', ');
    const rows = await duckdbRows(`SELECT * FROM read_csv([${files}], header = true, all_varchar = true) ORDER BY ALL`);
    expect(rows).toEqual(await expectedMembers(`read_parquet('${join(dir, 'parquet')}/*.parquet')`));
    expect(proxy.seen.filter((r) => r.method === 'POST' && r.path === '/').length).toBeGreaterThan(0);
    // Without the platform identity, validate says what is missing, at the auth's field.
    const missing = await cliProcess('node', ['validate', '--config', join(dir, `${name}.json`)], { EDGE_EXPORT_AWS_ACCESS_KEY_ID: '', EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: '' });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('source.s3.auth.platformCredentials: The platform identity that assumes roles is not configured');
  });

  it('source.idColumn names the column profiles take their id from', async () => {
    const name = 'id-column';
    await config(name, { path: join(dir, 'parquet'), format: 'parquet', idColumn: 'notes' });
    const { code, out, err } = await runCli('export', '--config', join(dir, `${name}.json`), '--no-progress');
    expect(code, err).toBe(0);
    const file = join(dir, 'out', name, (JSON.parse(out) as Summary).files[0]!.key);
    const rows = await duckdbRows(`SELECT * FROM read_csv('${file}', header = true, all_varchar = true) ORDER BY ALL`);
    const expected = await duckdbRows(
      `SELECT email, profile FROM (SELECT "identities.email" AS email, notes AS profile, row_number() OVER (PARTITION BY "identities.email" ORDER BY updatedAt DESC) AS n
       FROM read_parquet('${join(dir, 'parquet')}/*.parquet') WHERE ${SQL_RULE}) WHERE n = 1 ORDER BY ALL`,
    );
    expect(rows).toEqual(expected);
  });

  it('an NDJSON snapshot exported as its rows needs a schema (it has no footer to say its columns)', async () => {
    const path = await config('ndjson-rows', { path: `s3://${BUCKET}/ndjson/`, format: 'ndjson', s3: s3() }, { audience: undefined, mapping: undefined });
    const { code, err } = await runCli('validate', '--config', path);
    expect(code).toBe(2);
    expect(err).toContain('schema: an NDJSON snapshot exported as its rows needs the columns to read');
  });

  it('incremental over two snapshots with --state: the joined and changed members realized, the exited ones exited', async () => {
    const state = join(dir, 'incremental.state.json');
    const runs: Record<string, unknown>[][] = [];
    for (const step of [1, 2] as const) {
      const name = `incremental-${step}`;
      await config(name, { path: `s3://${BUCKET}/inc${step}/profiles.parquet`, s3: s3() }, { mode: 'incremental' });
      const { code, out, err } = await runCli('export', '--config', join(dir, `${name}.json`), '--state', state, '--no-progress');
      expect(code, err).toBe(0);
      const file = (JSON.parse(out) as Summary).files[0]!;
      runs.push(await duckdbRows(`SELECT * FROM read_csv('${join(dir, 'out', name, file.key)}', header = true, all_varchar = true) ORDER BY ALL`));
    }
    const members = (step: number) => `(${membersSql(`read_parquet('${join(dir, `inc${step}`, 'profiles.parquet')}')`)})`;
    const [m1, m2] = [members(1), members(2)];
    const realized = (sql: string) => duckdbRows(`SELECT email, profile, 'realized' AS segmentMembership_status FROM (${sql}) ORDER BY ALL`);
    expect(runs[0]).toEqual(await realized(`SELECT * FROM ${m1}`));
    const expected = [
      ...(await realized(`SELECT * FROM ${m2} EXCEPT SELECT * FROM ${m1}`)),
      ...(await duckdbRows(`SELECT email FROM ${m1} WHERE email NOT IN (SELECT email FROM ${m2})`)).map((r) => ({ ...r, status: 'exited' })),
    ];
    const got = runs[1]!.map((r) => (r.segmentMembership_status === 'exited' ? { email: r.email, status: 'exited' } : r));
    const order = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(order(got)).toEqual(order(expected));
  });
});

describe.each(['node', 'deno'] as const)('edge-export validate refuses snapshots it cannot read, naming what to fix (%s)', (runtime) => {
  const validate = async (name: string, source: Record<string, unknown>, body: Record<string, unknown> = {}) => {
    const { code, err } = await cli(runtime, ['validate', '--config', await config(`${runtime}-${name}`, source, body)]);
    expect(code, err).toBe(2);
    return err;
  };

  it('a missing key, an empty prefix and a missing folder', async () => {
    expect(await validate('missing-key', { path: `s3://${BUCKET}/parquet/nope.parquet`, s3: s3() })).toContain(
      `source.path: No parquet object at s3://${BUCKET}/parquet/nope.parquet`,
    );
    expect(await validate('empty-prefix', { path: `s3://${BUCKET}/nothing-here/`, format: 'parquet', s3: s3() })).toContain(
      `source.path: No parquet files under s3://${BUCKET}/nothing-here/`,
    );
    expect(await validate('missing-folder', { path: join(dir, 'no-such-folder/'), format: 'parquet' })).toContain(
      `source.path: no such folder: ${join(dir, 'no-such-folder/')}`,
    );
  });

  it('a schema mismatch across files names the file and the column; a rule naming no column names the closest', async () => {
    const mismatch = await validate('mismatch', { path: `s3://${BUCKET}/mixed/`, format: 'parquet', s3: s3() });
    expect(mismatch).toMatch(/source\.path: Snapshot schema mismatch: "mixed\/b\.parquet" has no column "totalSpend"/);
    const typo = await validate('typo', { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: s3() }, { audience: { id: 'a', name: 'a', rule: 'contry = "FR"' } });
    expect(typo).toContain('audience.rule: unknown attribute "contry" (did you mean "country"?)');
    expect(typo).toContain(`no column of s3://${BUCKET}/parquet/ has it`);
  });

  it('denied credentials name the IAM action to grant; the secret is never echoed', async () => {
    const denied = await validate('denied', { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: s3(listOnlyKeys) });
    expect(denied).toContain(`source.s3.auth: Access denied: access key ${listOnlyKeys.accessKeyId} is not allowed s3:GetObject`);
    expect(denied).not.toContain(listOnlyKeys.secretAccessKey);
    const wrong = await validate('wrong-secret', { path: `s3://${BUCKET}/parquet/`, format: 'parquet', s3: s3({ ...readerKeys, secretAccessKey: 'x'.repeat(40) }) });
    expect(wrong).toContain('source.s3.auth:');
    expect(wrong).not.toContain('x'.repeat(40));
  });
});
