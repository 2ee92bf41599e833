/**
 * compression/zstd read back by the system `zstd` tool (`zstd -t`, `zstd -dc`, `zstd -l` for the
 * frame count) and by DuckDB (`read_csv` of a `.csv.zst`): big inputs become several independent
 * frames that the tool decompresses as one stream; a whole export's files, manifest sizes and
 * checksums count compressed bytes, and `split.maxBytes` counts formatted bytes, as with gzip.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../src/core/pipeline.ts';
import { Registry } from '../src/core/registry.ts';
import { fromRows } from '../src/core/streams.ts';
import type { CompressionStage, RunContext, Schema } from '../src/core/types.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import { FRAME_BYTES, zstd } from '../src/plugins/compression/zstd/index.ts';
import { builtinPlugins } from '../src/plugins/index.ts';
import { fixedRuntime, memorySink } from './support/memory-sink.ts';
import { byteInput, randomChunk, textChunk } from './support/byte-input.ts';

const ctx = {} as RunContext;
const platform = nodePlatform();
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-export-zstd-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Compresses to a file, checks it with `zstd -t`, and returns the frame count and `zstd -dc`'s output hash. */
async function compressAndCheck(stage: CompressionStage, source: ReadableStream<Uint8Array>, name: string) {
  const file = join(dir, `${name}.zst`);
  await source.pipeThrough(stage.open(ctx)!).pipeTo(Writable.toWeb(createWriteStream(file)));
  execFileSync('zstd', ['-q', '-t', file]); // throws on a non-zero exit
  const plain = execFileSync('zstd', ['-q', '-dc', file], { maxBuffer: 256 * 1024 * 1024 });
  const frames = Number(/^\s*(\d+)\s/m.exec(execFileSync('zstd', ['-l', file], { encoding: 'utf8' }).split('\n')[1]!)?.[1]);
  await rm(file);
  return { sha256: createHash('sha256').update(plain).digest('hex'), frames };
}

describe.each([1, 3, 9])('zstd level %i, read back by the zstd tool', (level) => {
  it('random bytes, ~6 MiB in uneven chunks: two frames', async () => {
    const data = byteInput(190, randomChunk);
    const out = await compressAndCheck(zstd({ level }, platform), data.stream, `random-${level}`);
    expect(out.sha256).toBe(data.sha256());
    expect(out.frames).toBe(Math.ceil(data.size() / FRAME_BYTES));
    expect(out.frames).toBe(2);
  });

  it('UTF-8 CSV text, ~10 MiB in uneven chunks: three frames or more', async () => {
    const data = byteInput(200, textChunk);
    const out = await compressAndCheck(zstd({ level }, platform), data.stream, `text-${level}`);
    expect(out.sha256).toBe(data.sha256());
    expect(out.frames).toBe(Math.ceil(data.size() / FRAME_BYTES));
    expect(out.frames).toBeGreaterThanOrEqual(3);
  });
});

describe('zstd edge cases', () => {
  it('an empty input still makes a valid zstd file (one empty frame)', async () => {
    const data = byteInput(0, randomChunk);
    const out = await compressAndCheck(zstd({}, platform), data.stream, 'empty');
    expect(out).toEqual({ sha256: data.sha256(), frames: 1 });
  });

  it('one-byte chunks, and exactly one frame of input', async () => {
    const bytes = byteInput(3000, (i) => new Uint8Array([i & 0xff]));
    expect((await compressAndCheck(zstd({}, platform), bytes.stream, 'bytes')).sha256).toBe(bytes.sha256());
    const exact = byteInput(1, () => new Uint8Array(FRAME_BYTES).fill(7));
    expect(await compressAndCheck(zstd({}, platform), exact.stream, 'exact')).toEqual({ sha256: exact.sha256(), frames: 1 });
  });

  it('level 19 on a small input', async () => {
    const data = byteInput(5, textChunk);
    expect((await compressAndCheck(zstd({ level: 19 }, platform), data.stream, 'max')).sha256).toBe(data.sha256());
  });
});

describe('zstd memory', () => {
  it("does not grow with the file: the wasm memory after ~90 MiB is what it was after the first frames", async () => {
    // Catch the instance's memory as the stage instantiates the wasm.
    const Instance = WebAssembly.Instance;
    let memory: WebAssembly.Memory | undefined;
    WebAssembly.Instance = class extends Instance {
      constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
        super(module, imports);
        memory = Object.values(this.exports).find((e) => e instanceof WebAssembly.Memory);
      }
    };
    try {
      const stage = zstd({ level: 3 }, nodePlatform());
      const sizes: number[] = [];
      const data = byteInput(1536, (i) => {
        if (i === 128 || i === 1535) sizes.push(memory!.buffer.byteLength); // after 8 MiB, and at the end
        return textChunk(i).subarray(0, 65536);
      });
      let compressed = 0;
      const count = new WritableStream<Uint8Array>({
        write(chunk) {
          compressed += chunk.byteLength;
        },
      });
      await data.stream.pipeThrough(stage.open(ctx)!).pipeTo(count);
      expect(data.size()).toBeGreaterThan(80 * 1024 * 1024);
      expect(compressed).toBeLessThan(data.size() / 3);
      expect(sizes[1]).toBe(sizes[0]);
      expect(sizes[1]).toBeLessThanOrEqual(32 * 1024 * 1024);
    } finally {
      WebAssembly.Instance = Instance;
    }
  });
});

describe('an export with compression/zstd', () => {
  const SCHEMA: Schema = [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'email', type: 'string' },
    { name: 'note', type: 'string' },
  ];
  const rows = function* (count: number) {
    for (let id = 0; id < count; id++) yield { id, email: `user${id}@example.com`, note: id % 7 === 0 ? 'comma, "quote"' : `n${id} ${'z'.repeat(id % 300)}` };
  };
  const MAX_BYTES = 256 * 1024;

  it('files are .csv.zst with Content-Encoding zstd; the manifest counts compressed bytes; maxBytes counts formatted bytes; DuckDB reads them', async () => {
    const pipeline = new Registry(builtinPlugins).build(
      { plugins: [{ use: 'format/csv', options: { escape: '"' } }, { use: 'compression/zstd', options: { level: 5 } }, { use: 'manifest/json' }] },
      platform,
    );
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      {
        destination: { id: 'd', name: 'dest' },
        audience: { id: 'a', name: 'A' },
        schema: SCHEMA,
        rows: fromRows(rows(20_000), 700),
        output: { split: { maxBytes: MAX_BYTES }, fileName: { dateTime: 'none' } },
      },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.length).toBeGreaterThan(3);
    const manifest = JSON.parse(mem.text(result.manifest!.key));
    const ids: number[] = [];
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      for (const [n, file] of result.files.entries()) {
        expect(file.key).toBe(`dest_a${n === 0 ? '' : `_${n + 1}`}.csv.zst`);
        const object = mem.objects.get(file.key)!;
        expect(object).toMatchObject({ contentType: 'text/csv; charset=utf-8', contentEncoding: 'zstd' });
        // The manifest's size and checksum are those of the object as stored (compressed).
        expect(manifest.exportResults[n]).toEqual({ sinkPath: '', name: file.name, size: object.body.byteLength, rows: file.rows, sha256: createHash('sha256').update(object.body).digest('hex') });
        const path = join(dir, file.name);
        await writeFile(path, object.body);
        const plain = execFileSync('zstd', ['-q', '-dc', path]);
        // The limit is on formatted (uncompressed) bytes, as with gzip; the object is much smaller.
        expect(plain.byteLength).toBeLessThanOrEqual(MAX_BYTES);
        expect(object.body.byteLength).toBeLessThan(plain.byteLength / 2);
        const read = (await duck.runAndReadAll(`SELECT id, email, note FROM read_csv('${path}', header = true) ORDER BY id`)).getRowObjectsJson();
        expect(read).toHaveLength(file.rows);
        for (const row of read) ids.push(Number(row.id));
        expect(read[0]).toEqual({ id: read[0]!.id, email: `user${read[0]!.id}@example.com`, note: [...rows(Number(read[0]!.id) + 1)].at(-1)!.note });
      }
    } finally {
      duck.closeSync();
    }
    expect(ids).toEqual([...Array(20_000).keys()]);
  });

  it('is refused at configuration time on a host without the zstd wasm, at the plugin', () => {
    const build = () => new Registry(builtinPlugins).build({ plugins: [{ use: 'format/csv' }, { use: 'compression/zstd' }] });
    expect(build).toThrow(/plugins\[1\]: zstd is not available on this host \(web\)/);
    expect(() => new Registry(builtinPlugins).build({ plugins: [{ use: 'format/csv' }, { use: 'compression/zstd', options: { level: 20 } }] }, platform)).toThrow(
      /plugins\[1\]\.options\.level: expected a zstd level 1–19/,
    );
  });
});
