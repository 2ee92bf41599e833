/**
 * Issue 3's end-to-end proof: a user holding exactly the policy `edge-export policy` generates runs
 * `edge-export test-connection` and exports CSV, JSON and Parquet (single put and multipart) through
 * the CLI into moto with auth enforced; every object read back with @aws-sdk/client-s3 equals the
 * bytes the pipeline wrote (the manifest's SHA-256) and parses back to the rows; zstd CSV is read
 * back by the system `zstd` tool and DuckDB.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { gunzipSync } from 'node:zlib';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { keyPair } from './harness/data.ts';
import { type Moto, createBucket, createUser, motoSinkPlugins, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'export-bucket';
const FOLDER = 'exports/%SEGMENT_ID%';
let moto: Moto;
let reader: S3Client;
let dir: string;
let user: { accessKeyId: string; secretAccessKey: string };

const cli = runCli;

/** Writes an export config for `plugins` (format and extras) against moto with `creds`. */
async function config(name: string, format: object[], creds: { accessKeyId: string; secretAccessKey: string }, rows: number) {
  const source = join(dir, `${name}.ndjson`);
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    lines.push(JSON.stringify({ id: i, email: `user${i}@example.com`, note: i % 11 === 0 ? 'comma, "quote"' : `n${i}`, score: i / 4 }));
  }
  await writeFile(source, `${lines.join('\n')}\n`);
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      plugins: {
        plugins: [
          ...format,
          { use: 'naming/segment' },
          { use: 'manifest/json' },
          ...motoSinkPlugins(moto, BUCKET, creds, { partSize: 5 * 1024 * 1024 }),
        ],
      },
      destination: { id: 'dest-1', name: 'S3 test' },
      audience: { id: name, name },
      source: { path: source },
      schema: [
        { name: 'id', type: 'integer' },
        { name: 'email', type: 'string' },
        { name: 'note', type: 'string' },
        { name: 'score', type: 'double' },
      ],
      output: { folderPath: FOLDER, fileName: { dateTime: 'none' } },
      runId: `run-${name}`,
    }),
  );
  return path;
}

async function getObject(key: string): Promise<Uint8Array> {
  const res = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return res.Body!.transformToByteArray();
}
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-export-'));
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  // The policy comes from the CLI itself: the user holds exactly what `edge-export policy` prints.
  const draft = await config('policy', [{ use: 'format/csv' }], { accessKeyId: 'AKIAEXAMPLE000000000', secretAccessKey: 'x'.repeat(40) }, 1);
  const printed = await cli('policy', '--config', draft);
  expect(printed.code).toBe(0);
  user = keyPair(await createUser(moto, 'least-privilege', JSON.parse(printed.out).permissionPolicy));
  await moto.enableAuth();
  reader = s3Reader(moto);
});
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('export to S3 with exactly the generated least-privilege policy', () => {
  it('test-connection reports every permission ok', async () => {
    const { code, out } = await cli('test-connection', '--config', await config('probe', [{ use: 'format/csv' }], user, 1));
    const report = JSON.parse(out);
    expect(report.results.filter((r: { ok: boolean }) => !r.ok)).toEqual([]);
    expect(report.results.map((r: { action: string }) => r.action)).toEqual(
      expect.arrayContaining(['s3:ListBucket', 's3:GetBucketLocation', 's3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListMultipartUploadParts']),
    );
    expect(code).toBe(0);
  });

  it.each([
    ['csv-small', [{ use: 'format/csv', options: { escape: '"' } }], 500, 'csv'],
    ['json-small', [{ use: 'format/json' }], 500, 'json'],
    ['parquet-small', [{ use: 'format/parquet' }], 500, 'parquet'],
    ['csv-multipart', [{ use: 'format/csv', options: { escape: '"' } }], 400_000, 'csv'],
    ['json-gzip-multipart', [{ use: 'format/json' }, { use: 'compression/gzip', options: { level: 0 } }], 220_000, 'json.gz'],
  ])('%s: objects equal the bytes written and parse back to the rows', async (name, format, rows, extension) => {
    const { code, out, err } = await cli('export', '--no-progress', '--config', await config(name, format, user, rows));
    expect(err).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.files).toHaveLength(1);
    const file = summary.files[0];
    expect(file.key).toBe(`exports/${name}/S3_test_${name}.${extension}`);
    const body = await getObject(file.key);
    expect(body.byteLength).toBe(file.size);
    expect(sha256(body)).toBe(file.sha256);
    if (name.includes('multipart')) expect(file.size).toBeGreaterThan(3 * 5 * 1024 * 1024 - 1);

    const manifest = JSON.parse(new TextDecoder().decode(await getObject(summary.manifest.key)));
    expect(manifest.exportResults).toEqual([{ sinkPath: `exports/${name}`, name: file.name, size: file.size, rows, sha256: file.sha256 }]);

    if (extension === 'csv') {
      const parsed = Papa.parse<Record<string, string>>(new TextDecoder().decode(body), { header: true, skipEmptyLines: true });
      expect(parsed.data).toHaveLength(rows);
      expect(parsed.data[11]).toEqual({ id: '11', email: 'user11@example.com', note: 'comma, "quote"', score: '2.75' });
    } else if (extension.startsWith('json')) {
      const text = new TextDecoder().decode(extension.endsWith('gz') ? gunzipSync(body) : body);
      const lines = text.trim().split('\n');
      expect(lines).toHaveLength(rows);
      expect(JSON.parse(lines[11]!)).toEqual({ id: 11, email: 'user11@example.com', note: 'comma, "quote"', score: 2.75 });
    } else {
      const path = join(dir, `${name}.parquet`);
      await writeFile(path, body);
      const db = await DuckDBInstance.create();
      const connection = await db.connect();
      const result = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(score) AS s FROM read_parquet('${path}')`);
      expect(result.getRowObjects()[0]).toEqual({ n: rows, s: (rows * (rows - 1)) / 2 / 4 });
      connection.closeSync();
    }
  });

  it('csv-zstd: a .csv.zst of several frames that `zstd -t` accepts, `zstd -dc` restores and DuckDB reads', async () => {
    const rows = 400_000;
    const name = 'csv-zstd';
    const format = [{ use: 'format/csv', options: { escape: '"' } }, { use: 'compression/zstd', options: { level: 2 } }];
    const { code, out, err } = await cli('export', '--no-progress', '--config', await config(name, format, user, rows));
    expect(err).toBe('');
    expect(code).toBe(0);
    const file = JSON.parse(out).files[0];
    expect(file.key).toBe(`exports/${name}/S3_test_${name}.csv.zst`);
    const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: file.key }));
    expect(got.ContentEncoding).toBe('zstd');
    const body = await got.Body!.transformToByteArray();
    expect(body.byteLength).toBe(file.size);
    expect(sha256(body)).toBe(file.sha256);
    const path = join(dir, `${name}.csv.zst`);
    await writeFile(path, body);
    expect(spawnSync('zstd', ['-q', '-t', path]).status).toBe(0);
    const plain = spawnSync('zstd', ['-q', '-dc', path], { maxBuffer: 64 * 1024 * 1024 }).stdout;
    expect(plain.byteLength).toBeGreaterThan(2 * 4 * 1024 * 1024); // so several 4 MiB frames
    const parsed = Papa.parse<Record<string, string>>(plain.toString(), { header: true, skipEmptyLines: true });
    expect(parsed.data).toHaveLength(rows);
    expect(parsed.data[11]).toEqual({ id: '11', email: 'user11@example.com', note: 'comma, "quote"', score: '2.75' });
    const db = await DuckDBInstance.create();
    const connection = await db.connect();
    const result = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(score) AS s, max(email) FILTER (WHERE id = 11) AS e FROM read_csv('${path}', header = true)`);
    expect(result.getRowObjects()[0]).toEqual({ n: rows, s: (rows * (rows - 1)) / 2 / 4, e: 'user11@example.com' });
    connection.closeSync();
  });

  it('leaves no multipart upload open', async () => {
    const open = await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(open.Uploads ?? []).toEqual([]);
  });
});
