import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../core/errors.ts';
import { collect, collectBytes, collectRows, fromIterable, fromRows } from '../../../core/streams.ts';
import type { FormatContext, Row, RunContext, Schema } from '../../../core/types.ts';
import { type CsvOptionsInput, csv } from '../../format/csv/index.ts';
import { type CsvSourceOptionsInput, csvSource, MAX_BATCH_ROWS, plugin } from './index.ts';
import { webPlatform } from '../../../core/platform.ts';

const ctx = {} as RunContext;
const fixture = (name: string) => new URL(`../../../../fixtures/csv/${name}`, import.meta.url);
const bytesOf = (text: string) => new TextEncoder().encode(text);

/** A stream handing out `bytes` in pieces of `size` bytes. */
const chunked = (bytes: Uint8Array, size: number) =>
  fromIterable(
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.slice(i * size, i * size + size)),
  );

async function read(input: Uint8Array | Blob, options: CsvSourceOptionsInput = {}, size = 1 << 16) {
  const source = csvSource(options);
  const opened = await source.open(ctx, input instanceof Blob ? input : chunked(input, size));
  return { schema: opened.schema, rows: await collectRows(opened.rows) };
}

describe('csv source', () => {
  it('reads the fixture fed one byte at a time: quotes, CRLF, escapes and a UTF-8 BOM across chunks', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('quotes-across-chunks.csv')));
    const expected = JSON.parse(readFileSync(fixture('quotes-across-chunks.expected.json'), 'utf8')) as Row[];
    for (const size of [1, 2, 5, 4096]) {
      const { schema, rows } = await read(bytes, { nullValue: '' }, size);
      expect(schema?.map((c) => c.name)).toEqual(['id', 'name', 'note']);
      expect(rows).toEqual(expected);
    }
  });

  it('reads Blobs and names columns _c0… without a header', async () => {
    const { schema, rows } = await read(new Blob(['a;b\n1;2\n']), { header: false, delimiter: ';' });
    expect(schema).toEqual([
      { name: '_c0', type: 'string' },
      { name: '_c1', type: 'string' },
    ]);
    expect(rows).toEqual([
      { _c0: 'a', _c1: 'b' },
      { _c0: '1', _c1: '2' },
    ]);
  });

  it('reads what format/csv writes, for several option sets, in 3-byte chunks', async () => {
    const schema: Schema = [
      { name: 'text', type: 'string' },
      { name: 'n', type: 'integer' },
    ];
    const values = ['plain', 'a,b', 'say "hi"', 'back\\slash\\', 'l1\r\nl2', '', null, 'ünï ✓ 😀', "it's"];
    const rows: Row[] = values.map((text, n) => ({ text, n }));
    const cases: [CsvOptionsInput, CsvSourceOptionsInput][] = [
      [{}, { nullValue: '' }],
      [
        { escape: '"', delimiter: ';' },
        { escape: '"', delimiter: ';', nullValue: '' },
      ],
      [
        { escape: "'", quoteAll: true, nullValue: 'NULL' },
        { escape: "'", nullValue: 'NULL' },
      ],
      [
        { delimiter: '\t', lineSep: '\r\n' },
        { delimiter: '\t', nullValue: '' },
      ],
      [{ encoding: 'UTF-16' }, { encoding: 'UTF-16', nullValue: '' }],
      [{ encoding: 'UTF-16BE' }, { encoding: 'UTF-16BE', nullValue: '' }],
    ];
    for (const [formatOptions, sourceOptions] of cases) {
      const format = csv(formatOptions);
      const written = await collectBytes(
        fromRows(rows).pipeThrough(format.open({ schema } as FormatContext)),
      );
      const { rows: back } = await read(written, sourceOptions, 3);
      expect(back).toEqual(rows.map((r) => ({ text: r.text, n: String(r.n) })));
    }
  });

  it('reports a row with the wrong number of fields as SOURCE_INVALID with its line', async () => {
    const error = await read(bytesOf('a,b\n1,2\n"x\ny",2\n3\n')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({ code: 'SOURCE_INVALID', plugin: 'source/csv', details: { line: 5 } });
    expect((error as Error).message).toMatch(/line 5: expected 2 fields, found 1/);
  });

  it('reports an unterminated quote as SOURCE_INVALID with the line it opened on', async () => {
    const error = await read(bytesOf('a,b\n1,"open\n2,3\n'), {}, 2).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SOURCE_INVALID', details: { line: 2 } });
    expect((error as Error).message).toMatch(/line 2: unterminated quoted field/);
  });

  it('refuses bytes that are not valid in the encoding, and duplicate header names', async () => {
    await expect(read(new Uint8Array([0x61, 0x0a, 0xff, 0x0a]))).rejects.toMatchObject({
      code: 'SOURCE_INVALID',
    });
    await expect(read(bytesOf('a,a\n1,2\n'))).rejects.toThrow(/duplicate column name "a"/);
  });

  it('returns no rows for an empty input, skips blank lines, and keeps them for one column', async () => {
    expect((await read(new Uint8Array(0))).rows).toEqual([]);
    expect((await read(bytesOf('\na,b\n\n1,2\n\n'))).rows).toEqual([{ a: '1', b: '2' }]);
    expect((await read(bytesOf('a\n1\n\n2\n'), { nullValue: '' })).rows).toEqual([
      { a: '1' },
      { a: null },
      { a: '2' },
    ]);
  });

  it('makes one batch per input chunk, split beyond MAX_BATCH_ROWS', async () => {
    const text = `n\n${Array.from({ length: 10_000 }, (_, i) => `${i}\n`).join('')}`;
    const { rows } = await csvSource().open(ctx, fromIterable([bytesOf(text), bytesOf('x\n')]));
    const batches = await collect(rows);
    expect(batches.map((b) => b.length)).toEqual([MAX_BATCH_ROWS, MAX_BATCH_ROWS, 10_000 - 2 * MAX_BATCH_ROWS, 1]);
    expect(batches.flat().at(-2)).toEqual({ n: '9999' });
  });

  it('detects the byte order of UTF-16 from its BOM, even split across chunks', async () => {
    const be = new Uint8Array([0xfe, 0xff, 0, 0x61, 0, 0x0a, 0, 0x31, 0, 0x0a]);
    expect((await read(be, { encoding: 'UTF-16' }, 1)).rows).toEqual([{ a: '1' }]);
    const le = new Uint8Array([0x61, 0, 0x0a, 0, 0x32, 0]);
    expect((await read(le, { encoding: 'UTF-16' }, 1)).rows).toEqual([{ a: '2' }]);
  });

  it('is a plugin with validated options', () => {
    expect(plugin.name).toBe('source/csv');
    expect(plugin.create(v.parse(plugin.options, undefined), webPlatform())).toMatchObject({
      kind: 'source',
      name: 'csv',
    });
    const result = v.safeParse(plugin.options, { delimiter: ',,', encoding: 'latin1', colour: 1 });
    expect(result.success).toBe(false);
    expect(result.issues?.length).toBe(3);
    expect(() => csvSource({ delimiter: '"' })).toThrow(/quote: quote must differ from the delimiter/);
  });
});
