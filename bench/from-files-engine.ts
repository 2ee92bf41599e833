/**
 * One engine of the from-files bench (bench/from-files.ts) on one input file, run in its own child
 * process so its wall time, CPU time and peak RSS are its own. Ours is not here: it runs as the CLI
 * itself (`bin/edge-export.js export --config …`). Prints `RESULT {"bytes": n}`.
 *
 * - `duckdb`: `COPY (SELECT * FROM read_json|read_csv|read_parquet(input)) TO output (…)`, DuckDB's
 *   default threads; gzip through `COMPRESSION gzip` (DuckDB's fixed zlib level, 6).
 * - `baseline`: the plain JavaScript way — `readline` + `JSON.parse` (NDJSON), papaparse's streaming
 *   parser (CSV), hyparquet row group by row group (Parquet) → `Papa.unparse` per 10,000 rows (CSV) or
 *   `JSON.stringify` per row (NDJSON) → `node:zlib` gzip at the given level → a file or an S3 upload
 *   (`@aws-sdk/lib-storage` Upload); Parquet with hyparquet-writer's `parquetWriteRows`.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet/src/node.js';
import { fileWriter, parquetWriteRows } from 'hyparquet-writer';
import Papa from 'papaparse';
import { counted } from './counted.ts';
import { benchSchema } from './rows.ts';

export type InputFormat = 'ndjson' | 'csv' | 'parquet';
export type OutputFormat = 'csv' | 'csv-gzip' | 'json-gzip' | 'parquet-snappy' | 'parquet-zstd';

export interface EngineSpec {
  engine: 'duckdb' | 'baseline';
  input: InputFormat;
  inputPath: string;
  output: OutputFormat;
  /** Local output file (ignored with `s3`). */
  outputPath: string;
  /** zlib level of the baseline's gzip (DuckDB's is fixed). */
  level: number;
  /** Upload to S3 instead of writing `outputPath` (baseline only). */
  s3?: { endpoint: string; region: string; bucket: string; key: string; accessKeyId: string; secretAccessKey: string };
}

type Row = Record<string, unknown>;
const BATCH = 10_000;
const columns = benchSchema.map((c) => c.name);

async function duckdb(spec: EngineSpec): Promise<number> {
  const reader = { ndjson: 'read_json', csv: 'read_csv', parquet: 'read_parquet' }[spec.input];
  const options = {
    csv: 'FORMAT csv, HEADER',
    'csv-gzip': 'FORMAT csv, HEADER, COMPRESSION gzip',
    'json-gzip': 'FORMAT json, COMPRESSION gzip',
    'parquet-snappy': 'FORMAT parquet, COMPRESSION snappy',
    'parquet-zstd': 'FORMAT parquet, COMPRESSION zstd',
  }[spec.output];
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`COPY (SELECT * FROM ${reader}('${spec.inputPath}')) TO '${spec.outputPath}' (${options})`);
  db.closeSync();
  return statSync(spec.outputPath).size;
}

/** The input's rows in batches of about BATCH, as a plain script reads each format. */
async function* baselineRows(spec: EngineSpec): AsyncGenerator<Row[]> {
  if (spec.input === 'ndjson') {
    let batch: Row[] = [];
    for await (const line of createInterface({ input: createReadStream(spec.inputPath), crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line === '') continue;
      batch.push(JSON.parse(line) as Row);
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } else if (spec.input === 'csv') {
    // papaparse's Node stream mode: one object per record, numbers and booleans typed, empty → null.
    const parsed = createReadStream(spec.inputPath).pipe(
      Papa.parse(Papa.NODE_STREAM_INPUT, { header: true, dynamicTyping: true, skipEmptyLines: true }),
    ) as NodeJS.ReadableStream;
    let batch: Row[] = [];
    for await (const row of parsed) {
      const record = row as unknown as Row;
      for (const name of columns) if (record[name] === '') record[name] = null;
      batch.push(record);
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } else {
    const file = await asyncBufferFromFile(spec.inputPath);
    const metadata = await parquetMetadataAsync(file);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      yield (await parquetReadObjects({ file, metadata, rowStart, rowEnd })) as Row[];
      rowStart = rowEnd;
    }
  }
}

/** JSON.stringify cannot take a bigint (hyparquet's INT64): a plain script turns them into numbers. */
const plain = (_key: string, value: unknown) => (typeof value === 'bigint' ? Number(value) : value);

async function* baselineText(spec: EngineSpec): AsyncGenerator<Buffer> {
  let first = true;
  for await (const batch of baselineRows(spec)) {
    if (spec.output.startsWith('csv')) {
      yield Buffer.from(`${Papa.unparse(batch, { header: first, columns, newline: '\n' })}\n`);
    } else {
      yield Buffer.from(batch.map((r) => `${JSON.stringify(r, plain)}\n`).join(''));
    }
    first = false;
  }
}

/** hyparquet-writer's row API, with the bench's types: INT64 as bigint, timestamps as Date. */
async function baselineParquet(spec: EngineSpec, path: string): Promise<void> {
  const types = { integer: 'INT64', string: 'STRING', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP' } as const;
  const schema = benchSchema.map((c) => ({ name: c.name, type: types[c.type as keyof typeof types] }));
  const int64 = benchSchema.filter((c) => c.type === 'integer').map((c) => c.name);
  const stamps = benchSchema.filter((c) => c.type === 'timestamp').map((c) => c.name);
  async function* rows(): AsyncGenerator<Row> {
    for await (const batch of baselineRows(spec)) {
      for (const row of batch) {
        for (const name of int64) if (row[name] !== null && typeof row[name] !== 'bigint') row[name] = BigInt(row[name] as number);
        for (const name of stamps) if (typeof row[name] === 'string') row[name] = new Date(`${(row[name] as string).replace(' ', 'T')}Z`);
        yield row;
      }
    }
  }
  const zstd = spec.output === 'parquet-zstd';
  if (zstd) await zstdInit();
  await parquetWriteRows({
    writer: fileWriter(path),
    rows: rows() as unknown as Iterable<Row>,
    columns: schema,
    codec: zstd ? 'ZSTD' : 'SNAPPY',
    ...(zstd && { compressors: { ZSTD: (b: Uint8Array) => zstdCompress(b, 3) } }),
  });
}

async function baseline(spec: EngineSpec): Promise<number> {
  if (spec.output.startsWith('parquet')) {
    await baselineParquet(spec, spec.outputPath);
    return statSync(spec.outputPath).size;
  }
  let body: Readable = Readable.from(baselineText(spec));
  if (spec.output.endsWith('gzip')) body = body.pipe(createGzip({ level: spec.level, flush: constants.Z_NO_FLUSH }));
  if (!spec.s3) {
    await pipeline(body, createWriteStream(spec.outputPath));
    return statSync(spec.outputPath).size;
  }
  const { stream: countedBody, bytes } = counted(body);
  const { endpoint, region, bucket, key, accessKeyId, secretAccessKey } = spec.s3;
  const client = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  await new Upload({ client, params: { Bucket: bucket, Key: key, Body: countedBody } }).done();
  client.destroy();
  return bytes();
}

const spec = JSON.parse(process.argv[2] ?? '{}') as EngineSpec;
const bytes = spec.engine === 'duckdb' ? await duckdb(spec) : await baseline(spec);
process.stdout.write(`RESULT ${JSON.stringify({ bytes })}\n`);
process.exit(0);
