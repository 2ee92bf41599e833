/**
 * The third-party Avro plugin (packages/edge-export-avro) through the CLI: a whole destination with
 * `fileType: "avro"` exports into moto with auth enforced, and avsc reads the object back; a
 * misspelt file type is refused at validation with a suggestion; and the package also loads the way
 * any third-party module does, through a plugin manifest's `modules`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAvro } from '../packages/edge-export-avro/test/read-back.ts';
import { type Moto, startMotoWithWriter } from './harness/moto.ts';
import { runCli } from './support/cli.ts';

const BUCKET = 'avro-bucket';
const root = resolve(import.meta.dirname, '..');
let moto: Moto;
let reader: S3Client;
let writer: { accessKeyId: string; secretAccessKey: string };
let dir: string;

const ROWS = Array.from({ length: 250 }, (_, i) => ({
  id: i,
  email: i % 10 === 0 ? null : `user${i}@example.com`,
  score: i / 4,
  seen: new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString(),
  tags: i % 3 === 0 ? ['a', 'b'] : [],
}));
const SCHEMA = [
  { name: 'id', type: 'integer', nullable: false },
  { name: 'email', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'seen', type: 'timestamp' },
  { name: 'tags', type: { list: 'string' } },
];

beforeAll(async () => {
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'avro-writer'));
  dir = await mkdtemp(join(tmpdir(), 'avro-cli-'));
  await writeFile(join(dir, 'rows.ndjson'), `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`);
}, 120_000);
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes a config whose destination is the API's shape, with `destination` fields merged in. */
async function destinationConfig(name: string, destination: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      destination: {
        id: 'dst-avro',
        name: 'Avro',
        bucket: BUCKET,
        folderPath: 'exports/',
        region: moto.region,
        endpoint: moto.endpoint,
        auth: { method: 'accessKey', ...writer },
        manifest: true,
        ...destination,
      },
      source: { path: 'rows.ndjson' },
      audience: { id: 'all', name: 'All' },
      schema: SCHEMA,
      output: { fileName: { dateTime: 'none' } },
      runId: `run-${name}`,
    }),
  );
  return path;
}

describe('format/avro through the CLI', () => {
  it('exports a destination with fileType "avro" into S3: avsc reads every row, in snappy blocks', async () => {
    const config = await destinationConfig('snappy', { fileType: 'avro', formatOptions: { codec: 'snappy', blockRows: 100 } });
    const { code, out, err } = await runCli('export', '--config', config);
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as { files: { key: string; rows: number; sha256: string }[] };
    expect(summary.files.map((f) => f.key)).toEqual(['exports/Avro_all.avro']);
    const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'exports/Avro_all.avro' }));
    expect(got.ContentType).toBe('application/avro');
    const file = await readAvro(await got.Body!.transformToByteArray());
    expect(file.codec).toBe('snappy');
    expect(file.blocks).toEqual([100, 100, 50]);
    expect(file.records).toEqual(
      ROWS.map((r) => ({ id: r.id, email: r.email, score: r.score, seen: Date.parse(r.seen) * 1000, tags: r.tags })),
    );
  });

  it('splits at maxRows into files that are each a whole container file', async () => {
    const config = await destinationConfig('split', { fileType: 'avro', formatOptions: { codec: 'deflate' } });
    const parsed = JSON.parse(await readFile(config, 'utf8'));
    parsed.output.split = { maxRows: 100 };
    await writeFile(config, JSON.stringify(parsed));
    const { code, out, err } = await runCli('export', '--config', config);
    expect(code, err).toBe(0);
    const keys = (JSON.parse(out) as { files: { key: string }[] }).files.map((f) => f.key);
    expect(keys).toEqual(['exports/Avro_all.avro', 'exports/Avro_all_2.avro', 'exports/Avro_all_3.avro']);
    const ids: unknown[] = [];
    for (const key of keys) {
      const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const file = await readAvro(await got.Body!.transformToByteArray());
      expect(file.codec).toBe('deflate');
      ids.push(...file.records.map((r) => r.id));
    }
    expect(ids).toEqual(ROWS.map((r) => r.id));
  });

  it('exports zstandard blocks with the host\'s zstd into S3: avsc (with fzstd) reads every row', async () => {
    const config = await destinationConfig('zstandard', {
      fileType: 'avro',
      folderPath: 'zstd/',
      formatOptions: { codec: 'zstandard', level: 9, blockRows: 100 },
    });
    const { code, out, err } = await runCli('export', '--config', config);
    expect(code, err).toBe(0);
    const summary = JSON.parse(out) as { files: { key: string }[] };
    expect(summary.files.map((f) => f.key)).toEqual(['zstd/Avro_all.avro']);
    const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'zstd/Avro_all.avro' }));
    const file = await readAvro(await got.Body!.transformToByteArray());
    expect(file.codec).toBe('zstandard');
    expect(file.blocks).toEqual([100, 100, 50]);
    expect(file.records).toEqual(
      ROWS.map((r) => ({ id: r.id, email: r.email, score: r.score, seen: Date.parse(r.seen) * 1000, tags: r.tags })),
    );
  });

  it('validate refuses a misspelt file type and bad Avro options at the destination fields, exit 2', async () => {
    const misspelt = await runCli('validate', '--config', await destinationConfig('misspelt', { fileType: 'avor' }));
    expect(misspelt.code).toBe(2);
    expect(misspelt.err).toMatch(/destination\.fileType: "avor" is not available on this host; expected .*avro.*\(did you mean "avro"\?\)/);
    const options = await runCli('validate', '--config', await destinationConfig('options', { fileType: 'avro', formatOptions: { codec: 'xz', recordName: '1x' } }));
    expect(options.code).toBe(2);
    expect(options.err).toMatch(/destination\.formatOptions\.codec: .*expected one of null, deflate, snappy, zstandard/);
    expect(options.err).toMatch(/destination\.formatOptions\.recordName: .*expected an Avro name/);
    const level = await runCli('validate', '--config', await destinationConfig('level', { fileType: 'avro', formatOptions: { codec: 'deflate', level: 12 } }));
    expect(level.code).toBe(2);
    expect(level.err).toMatch(/destination\.formatOptions\.level: .*deflate levels go from 1 to 9/);
  });

  it("loads as any third-party module does, through a plugin manifest's modules (once, though it is also installed)", async () => {
    const config = join(dir, 'module.json');
    await writeFile(
      config,
      JSON.stringify({
        plugins: {
          modules: [join(root, 'packages/edge-export-avro/src/index.ts')],
          plugins: [{ use: 'format/avro', options: { codec: 'null' } }, { use: 'sink/local', options: { directory: join(dir, 'out') } }],
        },
        destination: { id: 'd', name: 'local' },
        source: { path: 'rows.ndjson' },
        audience: { id: 'a', name: 'A' },
        schema: SCHEMA,
        output: { fileName: { dateTime: 'none' }, manifest: false },
      }),
    );
    const { code, err } = await runCli('export', '--config', config);
    expect(code, err).toBe(0);
    const file = await readAvro(await readFile(join(dir, 'out', 'local_a.avro')));
    expect(file.codec).toBe('null');
    expect(file.records.map((r) => r.id)).toEqual(ROWS.map((r) => r.id));
  });
});
