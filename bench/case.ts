/**
 * One benchmark configuration, run in its own process so peak RSS belongs to it alone.
 * `bench/run.ts` spawns it with a JSON spec and reads the `RESULT {...}` line it prints.
 * Engines: `ours` (runExport with the Node plugin set), `baseline` (papaparse / JSON.stringify /
 * hyparquet-writer in memory → node:zlib → openpgp → @aws-sdk/lib-storage Upload), `duckdb` (COPY TO).
 */
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Readable as NodeReadable } from 'node:stream';
import { constants, createGzip, gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DuckDBInstance } from '@duckdb/node-api';
import { fileWriter, parquetWriteRows } from 'hyparquet-writer';
import * as openpgp from 'openpgp';
import Papa from 'papaparse';
import { counted } from './counted.ts';
import { runExport } from '../src/core/pipeline.ts';
import { fromRows } from '../src/core/streams.ts';
import type { Row } from '../src/core/types.ts';
import { nodeFetch } from '../src/hosts/node/fetch.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import { hostRegistry } from '../src/service/export-service.ts';
import { nodeSha256 } from '../src/hosts/node/sha256.ts';
import { benchRow, benchRows, benchSchema, duckdbRowsSql } from './rows.ts';

export interface CaseSpec {
  engine: 'ours' | 'baseline' | 'duckdb';
  format: 'csv' | 'json' | 'parquet';
  compression: 'none' | 'gzip';
  pgp: boolean;
  sink: 's3' | 'file';
  rows: number;
  /** Where `file` sinks write. */
  dir: string;
  s3?: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
}

export interface CaseResult {
  seconds: number;
  cpuSeconds: number;
  bytes: number;
  rows: number;
  maxRssMiB: number;
  /** RSS sampled every 100 ms while the case ran: the 95th percentile and the median, MiB. */
  p95RssMiB: number;
  medianRssMiB: number;
  key?: string;
}

/** zlib level of both gzip paths (the Node gzip plugin's default), so output sizes are comparable. */
const GZIP_LEVEL = 1;
const BATCH = 10_000;
const PUBLIC_KEY = new URL('../fixtures/pgp/recipient-public.asc', import.meta.url);

async function ours(spec: CaseSpec): Promise<{ bytes: number; key?: string }> {
  const format =
    spec.format === 'parquet'
      ? { use: 'format/parquet', options: { codec: spec.compression === 'gzip' ? 'gzip' : 'snappy' } }
      : { use: `format/${spec.format}` };
  const plugins: { use: string; options?: unknown }[] = [format];
  if (spec.compression === 'gzip' && spec.format !== 'parquet') plugins.push({ use: 'compression/gzip' });
  if (spec.pgp)
    plugins.push({ use: 'encryption/pgp', options: { publicKey: await readFile(PUBLIC_KEY, 'utf8') } });
  plugins.push(
    spec.sink === 's3'
      ? { use: 'sink/s3', options: { ...spec.s3!, forcePathStyle: true, verifyRegion: false } }
      : { use: 'sink/local', options: { directory: spec.dir } },
  );
  const pipeline = hostRegistry(nodePlatform()).build({ plugins }, nodePlatform());
  const result = await runExport(
    pipeline,
    {
      destination: { id: 'bench', name: 'bench' },
      schema: benchSchema,
      rows: fromRows(benchRows(spec.rows)),
      output: { manifest: false, split: { maxRows: Number.MAX_SAFE_INTEGER } },
    },
    { now: () => new Date(), uuid: () => crypto.randomUUID(), fetch: nodeFetch, sha256: nodeSha256 },
  );
  return { bytes: result.bytes, key: result.files[0]!.key };
}

/** Formatted text of the rows in chunks of BATCH rows, the way a plain script would do it. */
function* baselineText(spec: CaseSpec): Generator<Buffer> {
  const columns = benchSchema.map((c) => c.name);
  for (let start = 0; start < spec.rows; start += BATCH) {
    const batch: Row[] = [];
    for (let i = start; i < Math.min(spec.rows, start + BATCH); i++) batch.push(benchRow(i));
    if (spec.format === 'csv')
      yield Buffer.from(`${Papa.unparse(batch, { header: start === 0, columns, newline: '\n' })}\n`);
    else yield Buffer.from(batch.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}

/**
 * Parquet the plain way: hyparquet-writer's row API (`parquetWriteRows`, its default row groups)
 * into a temporary file, which is then uploaded. Memory stays bounded by one row group.
 */
async function baselineParquet(spec: CaseSpec): Promise<string> {
  const types = {
    integer: 'INT64',
    string: 'STRING',
    double: 'DOUBLE',
    boolean: 'BOOLEAN',
    timestamp: 'TIMESTAMP',
  } as const;
  const columns = benchSchema.map((c) => ({ name: c.name, type: types[c.type as keyof typeof types] }));
  const int64 = benchSchema.filter((c) => c.type === 'integer').map((c) => c.name);
  function* rows(): Generator<Row> {
    for (let i = 0; i < spec.rows; i++) {
      const row = benchRow(i);
      for (const name of int64) row[name] = BigInt(row[name] as number);
      yield row;
    }
  }
  mkdirSync(spec.dir, { recursive: true });
  const path = join(spec.dir, 'baseline.parquet');
  const gzip = spec.compression === 'gzip';
  await parquetWriteRows({
    writer: fileWriter(path),
    rows: rows(),
    columns,
    codec: gzip ? 'GZIP' : 'SNAPPY',
    ...(gzip && { compressors: { GZIP: (b: Uint8Array) => gzipSync(b) } }),
  });
  return path;
}

async function baseline(spec: CaseSpec): Promise<{ bytes: number; key: string }> {
  let body: Readable =
    spec.format === 'parquet'
      ? createReadStream(await baselineParquet(spec))
      : NodeReadable.from(baselineText(spec));
  if (spec.compression === 'gzip' && spec.format !== 'parquet') {
    body = body.pipe(createGzip({ level: GZIP_LEVEL, flush: constants.Z_NO_FLUSH }));
  }
  if (spec.pgp) {
    const encryptionKeys = await openpgp.readKey({ armoredKey: await readFile(PUBLIC_KEY, 'utf8') });
    const message = await openpgp.createMessage({
      binary: NodeReadable.toWeb(body) as ReadableStream<Uint8Array>,
    });
    const encrypted = await openpgp.encrypt({ message, encryptionKeys, format: 'binary' });
    body = NodeReadable.fromWeb(encrypted as never);
  }
  const { stream: countedBody, bytes } = counted(body);
  const { endpoint, bucket, accessKeyId, secretAccessKey } = spec.s3!;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  const key = `baseline/${spec.format}-${spec.compression}${spec.pgp ? '-pgp' : ''}`;
  await new Upload({ client, params: { Bucket: bucket, Key: key, Body: countedBody } }).done();
  client.destroy();
  return { bytes: bytes(), key };
}

async function duckdb(spec: CaseSpec): Promise<{ bytes: number }> {
  const path = join(
    spec.dir,
    `duckdb.${spec.format}${spec.compression === 'gzip' && spec.format !== 'parquet' ? '.gz' : ''}`,
  );
  const options =
    spec.format === 'parquet'
      ? `FORMAT parquet, COMPRESSION ${spec.compression === 'gzip' ? 'gzip' : 'snappy'}`
      : `FORMAT ${spec.format}${spec.format === 'csv' ? ', HEADER' : ''}, COMPRESSION ${spec.compression === 'gzip' ? 'gzip' : 'none'}`;
  mkdirSync(spec.dir, { recursive: true });
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`COPY (${duckdbRowsSql(spec.rows)}) TO '${path}' (${options})`);
  db.closeSync();
  return { bytes: statSync(path).size };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as CaseSpec;
const samples: number[] = [];
const sampler = setInterval(() => samples.push(process.memoryUsage.rss() / 2 ** 20), 100);
const started = performance.now();
const cpu = process.cpuUsage();
const out = await (spec.engine === 'ours'
  ? ours(spec)
  : spec.engine === 'baseline'
    ? baseline(spec)
    : duckdb(spec));
const used = process.cpuUsage(cpu);
clearInterval(sampler);
samples.sort((a, b) => a - b);
const quantile = (q: number) =>
  Math.round(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0);
const result: CaseResult = {
  seconds: (performance.now() - started) / 1000,
  cpuSeconds: (used.user + used.system) / 1e6,
  rows: spec.rows,
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  p95RssMiB: quantile(0.95),
  medianRssMiB: quantile(0.5),
  ...out,
};
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
