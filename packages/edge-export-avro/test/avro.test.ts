import { spawnSync } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AvroWriter, avro, crc32, plugin } from '../src/index.ts';
import type { FormatContext, Row, Schema } from 'edge-export/plugin';
import { Registry } from '../../../src/core/registry.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { webPlatform } from '../../../src/core/platform.ts';
import { nodePlatform } from '../../../src/hosts/node/platform.ts';
import { blocksOf, readAvro } from './read-back.ts';

const COLUMNS: Schema = [
  { name: 'id', type: 'string', nullable: false },
  { name: 'email address', type: 'string' },
  { name: 'visits', type: 'integer' },
  { name: 'spend', type: 'double' },
  { name: 'vip', type: 'boolean' },
  { name: 'seen', type: 'timestamp' },
  { name: 'born', type: 'date' },
  { name: 'tags', type: { list: 'string' } },
  { name: 'address', type: { struct: [{ name: 'city', type: 'string' }, { name: 'zip', type: 'integer' }] } },
];

/** The Node host's zstd (the reference zstd wasm), as a host hands it to plugins. */
const zstdHost = { zstd: nodePlatform().zstd! };

/** Runs the format over rows given in batches, as the pipeline does, and returns the file's bytes. */
async function encode(options: Parameters<typeof avro>[0], batches: Row[][], columns: Schema = COLUMNS): Promise<Uint8Array> {
  const stage = avro(options, options?.codec === 'zstandard' ? zstdHost : {});
  const ctx = { schema: columns, fileIndex: 1 } as unknown as FormatContext;
  const pair = stage.open(ctx);
  const write = async () => {
    const writer = pair.writable.getWriter();
    for (const batch of batches) await writer.write(batch);
    await writer.close();
  };
  const [bytes] = await Promise.all([new Response(pair.readable).arrayBuffer(), write()]);
  return new Uint8Array(bytes);
}

const rows = (n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `p${i}`,
    'email address': i % 3 === 0 ? null : `p${i}@example.com`,
    visits: i % 4 === 0 ? undefined : i * 1000,
    spend: i * 10.5,
    vip: i % 2 === 0,
    seen: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    born: '1990-05-17',
    tags: i % 5 === 0 ? [] : ['a', i % 2 ? null : 'b'],
    address: i % 7 === 0 ? null : { city: 'Köln', zip: 50667 },
  }));

describe('AvroWriter: the binary encoding of the spec', () => {
  const bytes = (write: (w: AvroWriter) => void) => {
    const w = new AvroWriter(4);
    write(w);
    return [...w.take()];
  };
  it('writes longs as zig-zag varints (the spec examples, and the 64-bit extremes)', () => {
    expect(bytes((w) => {
      for (const n of [0, -1, 1, -2, 2, -64, 64]) w.long(n);
    })).toEqual([0, 1, 2, 3, 4, 0x7f, 0x80, 0x01]);
    expect(bytes((w) => w.long(2 ** 40))).toEqual(bytes((w) => w.bigLong(2n ** 40n)));
    expect(bytes((w) => w.bigLong(-(2n ** 63n)))).toEqual([...Array(9).fill(0xff), 0x01]);
    expect(() => new AvroWriter().bigLong(2n ** 63n)).toThrow(/does not fit an Avro long/);
  });
  it('writes strings as a length and UTF-8, lone surrogates as U+FFFD', () => {
    expect(bytes((w) => w.string('foo'))).toEqual([0x06, 0x66, 0x6f, 0x6f]);
    expect(bytes((w) => w.string('é\ud800'))).toEqual([0x0a, 0xc3, 0xa9, 0xef, 0xbf, 0xbd]);
    const long = 'x'.repeat(100);
    expect(bytes((w) => w.string(long))).toEqual([0xc8, 0x01, ...Array(100).fill(0x78)]);
  });
  it('writes doubles as 8 little-endian bytes', () => {
    expect(bytes((w) => w.double(1))).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  });
  it('computes the CRC-32 the snappy codec appends (the standard check value)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('format/avro read back by avsc', () => {
  for (const codec of ['null', 'deflate', 'snappy', 'zstandard'] as const) {
    it(`codec ${codec}: every row and type comes back, in blocks of blockRows`, async () => {
      const input = rows(25);
      const file = await encode({ codec, blockRows: 10 }, [input.slice(0, 3), [], input.slice(3)]);
      const read = await readAvro(file);
      expect(read.codec).toBe(codec);
      expect(read.blocks).toEqual([10, 10, 5]);
      expect(read.records).toHaveLength(25);
      read.records.forEach((record, i) => {
        const row = input[i]!;
        expect(record).toEqual({
          id: row.id,
          email_address: row['email address'],
          visits: row.visits ?? null,
          spend: row.spend,
          vip: row.vip,
          seen: (row.seen as Date).getTime() * 1000,
          born: Date.UTC(1990, 4, 17) / 86_400_000,
          tags: row.tags,
          address: row.address === null ? null : { city: 'Köln', zip: 50667 },
        });
      });
    });
  }

  it('derives the schema: nullable unions, logical types, arrays, nested records, Avro names', async () => {
    const { schema } = await readAvro(await encode({ recordName: 'Member', namespace: 'com.acme' }, [rows(1)]));
    expect(schema).toEqual({
      type: 'record',
      name: 'Member',
      namespace: 'com.acme',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'email_address', doc: 'column "email address"', type: ['null', 'string'], default: null },
        { name: 'visits', type: ['null', 'long'], default: null },
        { name: 'spend', type: ['null', 'double'], default: null },
        { name: 'vip', type: ['null', 'boolean'], default: null },
        { name: 'seen', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
        { name: 'born', type: ['null', { type: 'int', logicalType: 'date' }], default: null },
        { name: 'tags', type: ['null', { type: 'array', items: ['null', 'string'] }], default: null },
        {
          name: 'address',
          type: [
            'null',
            {
              type: 'record',
              name: 'Member_address',
              fields: [
                { name: 'city', type: ['null', 'string'], default: null },
                { name: 'zip', type: ['null', 'long'], default: null },
              ],
            },
          ],
          default: null,
        },
      ],
    });
  });

  it('keeps microseconds, 64-bit integers, text of nested values in string columns; unusable values become null', async () => {
    const columns: Schema = [
      { name: 't', type: 'timestamp' },
      { name: 'n', type: 'integer' },
      { name: 's', type: 'string' },
      { name: 'x', type: 'double' },
    ];
    const file = await encode({ codec: 'null' }, [
      [
        { t: '2026-01-02T03:04:05.123456Z', n: 2n ** 52n + 1n, s: { a: [1, 2n] }, x: '2.5' },
        { t: 'not a time', n: 1.5, s: ['x'], x: 'abc' },
      ],
    ], columns);
    const { records } = await readAvro(file);
    expect(records).toEqual([
      { t: Date.parse('2026-01-02T03:04:05.123Z') * 1000 + 456, n: 2 ** 52 + 1, s: '{"a":[1,"2"]}', x: 2.5 },
      { t: null, n: null, s: '["x"]', x: null },
    ]);
  });

  it('refuses a value a non-nullable column cannot hold, naming the column, not the value', async () => {
    const columns: Schema = [{ name: 'visits', type: 'integer', nullable: false }];
    await expect(encode({}, [[{ visits: 'secret@example.com' }]], columns)).rejects.toThrow(
      'format/avro: column "visits" is not nullable, and a string value is not a value of its type',
    );
  });

  it('writes a valid file with no rows: the header only', async () => {
    const read = await readAvro(await encode({}, [[]]));
    expect(read.records).toEqual([]);
    expect(read.blocks).toEqual([]);
  });

  it('closes a block at blockBytes, so a block of wide rows stays small', async () => {
    const wide = Array.from({ length: 40 }, (_, i) => ({ id: `${i}`.padEnd(10_000, 'x') }));
    const read = await readAvro(await encode({ codec: 'deflate', blockBytes: 65_536 }, [wide], [{ name: 'id', type: 'string' }]));
    expect(read.blocks).toEqual([7, 7, 7, 7, 7, 5]);
    expect(read.records.map((r) => r.id)).toEqual(wide.map((r) => r.id));
  });

  it('streams: a full block is sent on before the file ends, and no chunk is larger than a block', async () => {
    const stage = avro({ codec: 'null', blockRows: 1000, blockBytes: 65_536 });
    const pair = stage.open({ schema: COLUMNS, fileIndex: 1 } as unknown as FormatContext);
    const reader = pair.readable.getReader();
    const writer = pair.writable.getWriter();
    const written = writer.write(rows(1000));
    // Header, then the block's count and size, its rows and the sync marker, while the file is still open.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) chunks.push((await reader.read()).value!);
    await written;
    expect(chunks[0]!.subarray(0, 4)).toEqual(new Uint8Array([0x4f, 0x62, 0x6a, 0x01]));
    expect(chunks[3]).toEqual(chunks[0]!.subarray(-16));
    // 20,000 more rows: every chunk stays under one block (64 KiB of rows, plus the row that crossed it).
    const more = (async () => {
      for (let i = 0; i < 20; i++) await writer.write(rows(1000));
      await writer.close();
    })();
    let largest = 0;
    let blocks = 1;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      largest = Math.max(largest, r.value.byteLength);
      if (r.value.byteLength === 16) blocks++;
    }
    await more;
    expect(largest).toBeLessThan(65_536 + 1024);
    expect(blocks).toBeGreaterThan(20);
  });

  it('deflate blocks are raw RFC 1951 deflate: node:zlib inflates them to the uncompressed blocks', async () => {
    const input = rows(30);
    const plain = blocksOf(await encode({ codec: 'null', blockRows: 20 }, [input]));
    const deflated = blocksOf(await encode({ codec: 'deflate', level: 9, blockRows: 20 }, [input]));
    expect(deflated.map((b) => b.count)).toEqual([20, 10]);
    expect(deflated.map((b) => [...inflateRawSync(b.data)])).toEqual(plain.map((b) => [...b.data]));
    expect(deflated[0]!.data.byteLength).toBeLessThan(plain[0]!.data.byteLength);
  });

  it('zstandard blocks are one zstd frame each, nothing after it: the zstd tool decompresses them to the uncompressed blocks', async () => {
    const input = rows(30);
    const plain = blocksOf(await encode({ codec: 'null', blockRows: 20 }, [input]));
    for (const level of [undefined, 1, 19]) {
      const file = await encode({ codec: 'zstandard', blockRows: 20, ...(level && { level }) }, [input]);
      expect((await readAvro(file)).codec).toBe('zstandard');
      const zstded = blocksOf(file);
      expect(zstded.map((b) => b.count)).toEqual([20, 10]);
      for (const [i, block] of zstded.entries()) {
        expect([...block.data.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]); // the frame magic (RFC 8878)
        // `zstd -d` fails on anything after the frame that is not another frame (a CRC suffix would be).
        const tool = spawnSync('zstd', ['-q', '-dc'], { input: block.data });
        expect(tool.status, tool.stderr.toString()).toBe(0);
        expect([...tool.stdout]).toEqual([...plain[i]!.data]);
      }
      expect(zstded[0]!.data.byteLength).toBeLessThan(plain[0]!.data.byteLength);
    }
  });
});

describe('format/avro against avsc on random rows (fast-check)', () => {
  const columns: Schema = [
    { name: 'i', type: 'integer' },
    { name: 'd', type: 'double' },
    { name: 's', type: 'string' },
    { name: 'b', type: 'boolean' },
    { name: 'l', type: { list: 'string' } },
  ];
  const row = fc.record({
    i: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    d: fc.option(fc.double()),
    s: fc.option(fc.string({ unit: 'binary' })),
    b: fc.option(fc.boolean()),
    l: fc.option(fc.array(fc.option(fc.string({ unit: 'binary' })), { maxLength: 4 })),
  });
  const wellFormed = (s: string) => (s as string & { toWellFormed(): string }).toWellFormed();

  it('every row reads back as written: 64-bit integers exact, doubles bit for bit (-0, NaN), strings as UTF-8', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 60 }),
        fc.constantFrom('null', 'deflate', 'snappy', 'zstandard'),
        fc.integer({ min: 1, max: 25 }),
        async (rows, codec, blockRows) => {
          const file = await encode({ codec, blockRows }, [rows.slice(0, 7), rows.slice(7)], columns);
          const read = await readAvro(file, { bigints: true });
          expect(read.records).toEqual(
            rows.map((r) => ({
              i: r.i,
              d: r.d,
              s: r.s === null ? null : wellFormed(r.s),
              b: r.b,
              l: r.l === null ? null : r.l.map((item) => (item === null ? null : wellFormed(item))),
            })),
          );
          expect(read.blocks.reduce((n, c) => n + c, 0)).toBe(rows.length);
          expect(read.blocks.every((c) => c <= blockRows)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the plugin through the registry', () => {
  const registry = new Registry([plugin]);
  const manifest = (options: unknown) => ({ plugins: [{ use: 'format/avro', options }] });
  it('builds with defaults: deflate, .avro, no outer compression', () => {
    const pipeline = registry.build(manifest(undefined), webPlatform());
    expect(pipeline.format).toMatchObject({ name: 'avro', extension: 'avro', contentType: 'application/avro', compressible: false });
  });
  it('refuses bad options with the path, the expectation and a did-you-mean-free codec list', () => {
    let error: unknown;
    try {
      registry.build(manifest({ codec: 'lz4', blockRows: 0, level: 3, extra: 1 }), webPlatform());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^plugins\[0\]\.options\.codec: .*expected one of null, deflate, snappy/),
        expect.stringMatching(/^plugins\[0\]\.options\.blockRows: /),
        expect.stringMatching(/^plugins\[0\]\.options\.extra: /),
      ]),
    );
  });
  it('refuses a level for a codec without one, and a deflate level above 9', () => {
    expect(() => registry.build(manifest({ codec: 'snappy', level: 3 }), webPlatform())).toThrow(/options\.level.*only the deflate and zstandard codecs take a level/s);
    expect(() => registry.build(manifest({ codec: 'deflate', level: 12 }), webPlatform())).toThrow(/options\.level.*deflate levels go from 1 to 9/s);
    expect(() => registry.build(manifest({ codec: 'zstandard', level: 19 }), nodePlatform())).not.toThrow();
  });
  it('zstandard takes the host\'s zstd: a host without one refuses it at formatOptions.codec when checked', async () => {
    const without = await registry.check(manifest({ codec: 'zstandard' }), webPlatform({ name: 'bare' }));
    expect(without.pipeline).toBeUndefined();
    expect(without.issues).toEqual([
      {
        path: 'plugins[0].options.codec',
        message: expect.stringMatching(/^zstandard is not available on this host \(bare\): it needs the host's zstd \(Platform\.zstd\)/),
        expected: '"null" | "deflate" | "snappy" on this host',
        received: '"zstandard"',
      },
    ]);
    // Built without the check, it still refuses to write rather than writing an unreadable file.
    const format = registry.build(manifest({ codec: 'zstandard' }), webPlatform({ name: 'bare' })).format;
    expect(() => format.open({ schema: COLUMNS, fileIndex: 1 } as unknown as FormatContext)).toThrow(/zstandard is not available on this host \(bare\)/);
    for (const host of [nodePlatform(), webPlatform({ zstd: zstdHost.zstd })]) {
      expect((await registry.check(manifest({ codec: 'zstandard' }), host)).issues).toEqual([]);
    }
  });
});
