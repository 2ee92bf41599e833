/**
 * Snapshot sources read from S3 (moto with auth enforced) through a request-counting loopback proxy:
 * projection is proved at the server (the requests and bytes moto answered, against the file size
 * and the footer's column-chunk ranges), across several files and row groups, a Hive prefix,
 * NDJSON and CSV; refusals (missing key, empty prefix, schemas that differ, denied credentials) say
 * what to fix. Values are checked against DuckDB's read_parquet of the same files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webPlatform } from '../src/core/platform.ts';
import { Registry } from '../src/core/registry.ts';
import { type ObjectStore, type ReadStats, type SnapshotSource, openSnapshotStore, planSnapshot, projection, readUnit, snapshotSourceIssues, toSnapshotSource } from '../src/core/snapshot/index.ts';
import { collect } from '../src/core/streams.ts';
import type { Row } from '../src/core/types.ts';
import { builtinPlugins } from '../src/plugins/index.ts';
import { type CountingProxy, startCountingProxy } from './harness/counting-proxy.ts';
import { type Moto, createBucket, createRole, createUser, s3Reader, startMoto } from './harness/moto.ts';
import { trustPolicy } from '../src/plugins/auth/assumedRole/trust.ts';
import { customerCsv, customerNdjson, customerNeeds, customerParquet, customerRows, readSnapshot, refusal } from './support/snapshot-fixtures.ts';

const BUCKET = 'snap-lake';
const rows = customerRows(450);
const FILES: Record<string, Uint8Array | string> = {
  'crm/part-0.parquet': customerParquet(rows.slice(0, 300)),
  'crm/part-1.parquet': customerParquet(rows.slice(300, 450)),
  'crm/_SUCCESS': '',
  'hive/market=EU/part-0.parquet': customerParquet(rows.slice(0, 120)),
  'hive/market=North%20America/part-0.parquet': customerParquet(rows.slice(120, 200)),
  'nd/a.ndjson': customerNdjson(rows.slice(0, 40)),
  'nd/b.ndjson': customerNdjson(rows.slice(40, 70)),
  'csv/a.csv': customerCsv(rows.slice(0, 25)),
  'bad/a.parquet': customerParquet(rows.slice(0, 10)),
  'bad/b.parquet': customerParquet(rows.slice(10, 20), 100, { scoreType: 'STRING' }),
};
const needs = customerNeeds;
const readPolicy = (actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [
    ...(actions.includes('s3:ListBucket') ? [{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` }] : []),
    ...(actions.includes('s3:GetObject') ? [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${BUCKET}/*` }] : []),
  ],
});

let moto: Moto;
let admin: S3Client;
let proxy: CountingProxy;
let db: DuckDBConnection;
const dir = mkdtempSync(join(tmpdir(), 'edge-export-snapshot-'));
const users: Record<'reader' | 'listOnly' | 'getOnly', { accessKeyId: string; secretAccessKey: string }> = {} as never;
const platform = webPlatform();
const EXTERNAL_ID = 'src-5c1d2e3f';
let platformIdentity: { accessKeyId: string; secretAccessKey: string };
let role: { arn: string };
const registry = new Registry(builtinPlugins);

beforeAll(async () => {
  moto = await startMoto();
  admin = s3Reader(moto);
  await createBucket(moto, BUCKET);
  for (const [key, body] of Object.entries(FILES)) {
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), body);
  }
  const platformUser = await createUser(moto, 'snap-platform', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] });
  platformIdentity = platformUser;
  role = await createRole(moto, 'snap-reader-role', trustPolicy({ platformPrincipalArn: platformUser.arn, externalId: EXTERNAL_ID }), readPolicy(['s3:ListBucket', 's3:GetObject']));
  for (const [name, actions] of [
    ['reader', ['s3:ListBucket', 's3:GetObject']],
    ['listOnly', ['s3:ListBucket']],
    ['getOnly', ['s3:GetObject']],
  ] as const) {
    const { accessKeyId, secretAccessKey } = await createUser(moto, `snap-${name}`, readPolicy([...actions]));
    users[name] = { accessKeyId, secretAccessKey };
  }
  await moto.enableAuth();
  proxy = await startCountingProxy(moto.endpoint);
  db = await (await DuckDBInstance.create(':memory:')).connect();
}, 120_000);

afterAll(async () => {
  db?.closeSync();
  admin?.destroy();
  await proxy?.stop();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A source as a user gives it (validated by the shared schema), and its store through the proxy. */
function open(format: string, at: { key?: string; prefix?: string }, extra: Record<string, unknown> = {}, user: keyof typeof users = 'reader'): { store: ObjectStore; source: SnapshotSource } {
  const checked = snapshotSourceIssues({
    name: 'lake',
    format,
    location: { type: 's3', bucket: BUCKET, endpoint: proxy.endpoint, ...at, auth: { method: 'accessKey', ...users[user] } },
    ...extra,
  });
  expect(checked.issues).toEqual([]);
  const config = checked.source!;
  return { store: openSnapshotStore(config.location, { platform, registry }), source: toSnapshotSource(config) };
}


async function duck(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}


/** Row values as DuckDB's JSON rows show them. */
const asDuck = (row: Row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? String(v.getTime()) : v]));

describe('snapshot sources on S3 (moto, auth enforced)', () => {
  it('plans a prefix of Parquet files: footers by two ranged GETs each, marker files skipped', async () => {
    const { store, source } = open('parquet', { prefix: 'crm/' }, { rowsPerTask: 1000 });
    proxy.seen.length = 0;
    const plan = await planSnapshot(store, source);
    expect(plan.files.map((f) => [f.key, f.rowGroups])).toEqual([
      ['crm/part-0.parquet', [100, 100, 100]],
      ['crm/part-1.parquet', [100, 50]],
    ]);
    expect(plan.units).toEqual([
      { file: 0, rowGroups: [0, 3], rows: 300 },
      { file: 1, rowGroups: [0, 2], rows: 150 },
    ]);
    expect(proxy.seen.map((r) => [r.method, r.path, r.query.get('list-type'), r.range, r.status])).toEqual([
      ['GET', `/${BUCKET}`, '2', undefined, 200],
      ['GET', `/${BUCKET}/crm/part-0.parquet`, null, expect.stringMatching(/^bytes=\d+-\d+$/), 206],
      ['GET', `/${BUCKET}/crm/part-0.parquet`, null, expect.stringMatching(/^bytes=\d+-\d+$/), 206],
      ['GET', `/${BUCKET}/crm/part-1.parquet`, null, expect.stringMatching(/^bytes=\d+-\d+$/), 206],
      ['GET', `/${BUCKET}/crm/part-1.parquet`, null, expect.stringMatching(/^bytes=\d+-\d+$/), 206],
    ]);
    const footerBytes = proxy.seen.slice(1).reduce((n, r) => n + r.bytes, 0);
    const footers = ['crm/part-0.parquet', 'crm/part-1.parquet'].map((k) => new DataView((FILES[k] as Uint8Array).buffer).getUint32((FILES[k] as Uint8Array).length - 8, true) + 8);
    expect(footerBytes).toBe(footers[0]! + footers[1]!);
  });

  it('lists a prefix page by page (continuation tokens)', async () => {
    const checked = snapshotSourceIssues({ name: 'lake', format: 'parquet', location: { type: 's3', bucket: BUCKET, endpoint: proxy.endpoint, prefix: 'crm/', auth: { method: 'accessKey', ...users.reader } } });
    const store = openSnapshotStore(checked.source!.location, { platform, registry, listPageSize: 1 });
    proxy.seen.length = 0;
    const keys = [];
    for await (const object of store.list('crm/')) keys.push(object.key);
    expect(keys).toEqual(['crm/_SUCCESS', 'crm/part-0.parquet', 'crm/part-1.parquet']);
    expect(proxy.seen.map((r) => [r.query.get('max-keys'), r.query.has('continuation-token')])).toEqual([
      ['1', false],
      ['1', true],
      ['1', true],
    ]);
  });

  it('fetches only the projected column chunks at the server, and the values DuckDB reads', async () => {
    const { store, source } = open('parquet', { prefix: 'crm/' }, { rowsPerTask: 1000 });
    const plan = await planSnapshot(store, source);
    const columns = projection(plan.schema, source, needs);
    expect(columns).toEqual(['id', 'updatedAt', 'country', 'person.name', 'identities.email']);
    const got: Row[] = [];
    let fileBytes = 0;
    let served = 0;
    for (const [u, unit] of plan.units.entries()) {
      proxy.seen.length = 0;
      const stats: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
      got.push(...(await collect(readUnit(store, plan, unit, columns, stats))).flat());
      const file = FILES[plan.files[unit.file]!.key] as Uint8Array;
      const footer = parquetMetadata(file.slice().buffer);
      // What moto answered: the footer (2 ranged GETs), then for each row group one ranged GET
      // covering exactly its projected chunks (they are adjacent but for small gaps).
      expect(proxy.seen.every((r) => r.method === 'GET' && r.status === 206 && r.range !== undefined)).toBe(true);
      const data = proxy.seen.slice(2).map((r) => {
        const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(r.range!)!.map(Number);
        return { start: start!, end: end! + 1, bytes: r.bytes };
      });
      expect(data).toHaveLength(footer.row_groups.length);
      footer.row_groups.forEach((group, g) => {
        const chunks = group.columns.map((c) => {
          const start = Number(c.meta_data!.dictionary_page_offset ?? c.meta_data!.data_page_offset);
          return { name: c.meta_data!.path_in_schema[0]!, start, end: start + Number(c.meta_data!.total_compressed_size) };
        });
        const projected = chunks.filter((c) => columns.includes(c.name));
        expect(data[g]).toEqual({ start: projected[0]!.start, end: projected.at(-1)!.end, bytes: projected.at(-1)!.end - projected[0]!.start });
        const notes = chunks.find((c) => c.name === 'notes')!;
        expect(data.some((r) => r.start < notes.end && notes.start < r.end)).toBe(false);
      });
      const seenBytes = proxy.seen.reduce((n, r) => n + r.bytes, 0);
      expect({ u, requests: stats.requests, bytes: stats.bytesFetched, rows: stats.rows }).toEqual({ u, requests: proxy.seen.length, bytes: seenBytes, rows: unit.rows });
      fileBytes += file.length;
      served += seenBytes;
    }
    // The wide notes column is most of each file: a projected read fetches a fraction of it.
    expect(served).toBeLessThan(fileBytes / 4);
    const expected = await duck(
      `SELECT id, epoch_ms(updatedAt) AS updatedAt, country, "person.name", "identities.email" FROM read_parquet('${dir}/crm/*.parquet') ORDER BY id`,
    );
    expect(got.map(asDuck)).toEqual(expected);
    expect(got).toHaveLength(450);
  });

  it('reads a Hive-partitioned prefix with its partition column, as DuckDB does', async () => {
    const { store, source } = open('parquet', { prefix: 'hive/' }, { hivePartitioning: true });
    const got = await readSnapshot(store, source, ['id', 'score', 'market']);
    const expected = await duck(`SELECT id, score, market FROM read_parquet('${dir}/hive/*/*.parquet', hive_partitioning = true) ORDER BY id`);
    expect(got).toEqual(expected);
    expect(new Set(got.map((r) => r.market))).toEqual(new Set(['EU', 'North America']));
  });

  it('streams NDJSON and CSV objects, projected', async () => {
    const nd = open('ndjson', { prefix: 'nd/' });
    proxy.seen.length = 0;
    const ndRows = await readSnapshot(nd.store, nd.source);
    expect(ndRows).toEqual(
      rows.slice(0, 70).map((r) => ({ id: r.id, updatedAt: r.updatedAt.toISOString(), country: r.country, 'person.name': r['person.name'], 'identities.email': r['identities.email'] })),
    );
    // One list, then one whole GET per file.
    expect(proxy.seen.map((r) => [r.path, r.range])).toEqual([
      [`/${BUCKET}`, undefined],
      [`/${BUCKET}/nd/a.ndjson`, undefined],
      [`/${BUCKET}/nd/b.ndjson`, undefined],
    ]);
    const csv = open('csv', { key: 'csv/a.csv' });
    const csvRows = await readSnapshot(csv.store, csv.source, ['id', 'country']);
    const expected = await duck(`SELECT CAST(id AS VARCHAR) AS id, country FROM read_csv('${dir}/csv/a.csv', all_varchar = true) ORDER BY CAST(id AS INTEGER)`);
    expect(csvRows).toEqual(expected);
  });

  it('refuses a missing key and an empty prefix, naming them and the format', async () => {
    const missing = open('parquet', { key: 'crm/part-9.parquet' });
    const noKey = await refusal(planSnapshot(missing.store, missing.source));
    expect([noKey.code, noKey.message]).toEqual(['SOURCE_NOT_FOUND', `No parquet object at s3://${BUCKET}/crm/part-9.parquet: check the source's key.`]);
    const empty = open('parquet', { prefix: 'nd/' });
    const noFiles = await refusal(planSnapshot(empty.store, empty.source));
    expect([noFiles.code, noFiles.message]).toEqual(['SOURCE_NOT_FOUND', `No parquet files under s3://${BUCKET}/nd/: check the source's prefix and format.`]);
  });

  it('refuses files whose schemas differ, and files that lack a declared column', async () => {
    const bad = open('parquet', { prefix: 'bad/' });
    const across = await refusal(planSnapshot(bad.store, bad.source));
    expect([across.code, across.message]).toEqual([
      'SOURCE_INVALID',
      'Snapshot schema mismatch: "bad/b.parquet": column "score" is string, expected double as in the first file "bad/a.parquet".',
    ]);
    const declared = open('parquet', { prefix: 'crm/' }, { schema: [{ name: 'id', type: 'integer' }, { name: 'score', type: 'string' }] });
    const vsDeclared = await refusal(planSnapshot(declared.store, declared.source));
    expect(vsDeclared.message).toBe('Snapshot schema mismatch: "crm/part-0.parquet": column "score" is double, expected string as in the declared schema.');
  });

  it('refuses to read an object replaced since the plan (If-Match on every GET)', async () => {
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swap/a.parquet', Body: FILES['crm/part-1.parquet'] }));
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swap/b.ndjson', Body: FILES['nd/a.ndjson'] }));
    const parquet = open('parquet', { prefix: 'swap/' });
    const ndjson = open('ndjson', { prefix: 'swap/' });
    const plans = [await planSnapshot(parquet.store, parquet.source), await planSnapshot(ndjson.store, ndjson.source)];
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swap/a.parquet', Body: FILES['crm/part-0.parquet'] }));
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'swap/b.ndjson', Body: FILES['nd/b.ndjson'] }));
    for (const [plan, key] of [
      [plans[0]!, 'swap/a.parquet'],
      [plans[1]!, 'swap/b.ndjson'],
    ] as const) {
      const error = await refusal(collect(readUnit(parquet.store, plan, plan.units[0]!, ['id'])));
      expect([error.code, error.message]).toEqual(['SOURCE_CHANGED', `s3://${BUCKET}/${key} was replaced since the run was planned: run the export again (it plans the snapshot afresh).`]);
    }
  });

  it('reads with an assumed role, its credentials from STS as a destination gets them', async () => {
    const checked = snapshotSourceIssues({
      name: 'lake',
      format: 'parquet',
      location: { type: 's3', bucket: BUCKET, endpoint: proxy.endpoint, key: 'crm/part-1.parquet', auth: { method: 'assumedRole', roleArn: role.arn, stsEndpoint: moto.endpoint } },
    });
    expect(checked.issues).toEqual([]);
    const env = { EDGE_EXPORT_AWS_ACCESS_KEY_ID: platformIdentity.accessKeyId, EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: platformIdentity.secretAccessKey };
    const store = openSnapshotStore(checked.source!.location, { platform: webPlatform({ env }), registry, externalId: EXTERNAL_ID });
    expect(await readSnapshot(store, toSnapshotSource(checked.source!), ['id'])).toEqual(rows.slice(300, 450).map((r) => ({ id: r.id })));
    // The role trusts the platform only with the external id the host assigned.
    const wrong = openSnapshotStore(checked.source!.location, { platform: webPlatform({ env }), registry, externalId: 'src-someone-else' });
    const refused = await refusal(planSnapshot(wrong, toSnapshotSource(checked.source!)));
    expect(refused.code).toBe('AUTH_FAILED');
    expect(refused.message).toMatch(/^Cannot assume role arn:aws:iam::\d{12}:role\/snap-reader-role: .*external id "src-someone-else"/);
  });

  it('names the IAM action refused: s3:ListBucket to list a prefix, s3:GetObject to read', async () => {
    const listOnly = open('parquet', { prefix: 'crm/' }, {}, 'listOnly');
    const noGet = await refusal(planSnapshot(listOnly.store, listOnly.source));
    expect(noGet.code).toBe('S3_ACCESS_DENIED');
    expect(noGet.message).toBe(
      `Access denied: access key ${users.listOnly.accessKeyId} is not allowed s3:GetObject on arn:aws:s3:::${BUCKET}/crm/part-0.parquet. Grant s3:GetObject on arn:aws:s3:::${BUCKET}/crm/part-0.parquet in the IAM policy (and check the bucket policy and any KMS key policy).`,
    );
    const getOnly = open('parquet', { prefix: 'crm/' }, {}, 'getOnly');
    const noList = await refusal(planSnapshot(getOnly.store, getOnly.source));
    expect(noList.code).toBe('S3_ACCESS_DENIED');
    expect(noList.message).toMatch(new RegExp(`^Access denied: access key ${users.getOnly.accessKeyId} is not allowed s3:ListBucket on arn:aws:s3:::${BUCKET}\\. Grant s3:ListBucket`));
    // The same user reads one named object.
    const one = open('parquet', { key: 'crm/part-1.parquet' }, {}, 'getOnly');
    expect(await readSnapshot(one.store, one.source, ['id'])).toEqual(rows.slice(300, 450).map((r) => ({ id: r.id })));
  });
});
