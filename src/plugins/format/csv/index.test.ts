import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigError, ExportError } from '../../../core/errors.ts';
import { collect, collectBytes, fromRows } from '../../../core/streams.ts';
import type { FormatContext, Row, Schema } from '../../../core/types.ts';
import { CHUNK_BYTES, csv, plugin } from './index.ts';
import { webPlatform } from '../../../core/platform.ts';

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'at', type: 'timestamp' },
];
const ctx = (s: Schema = schema) => ({ schema: s, fileIndex: 1 }) as unknown as FormatContext;

function* generate(count: number): Generator<Row> {
  for (let i = 0; i < count; i++) {
    yield { id: i, name: i % 3 === 0 ? `n,${i}` : `n${i}`, score: i / 4, at: i * 1000 };
  }
}

describe('csv format stage', () => {
  it('describes itself', () => {
    const stage = csv({ encoding: 'UTF-16' });
    expect(stage).toMatchObject({
      kind: 'format',
      name: 'csv',
      extension: 'csv',
      contentType: 'text/csv; charset=utf-16',
    });
    expect(csv().contentType).toBe('text/csv; charset=utf-8');
    expect(Object.isFrozen(stage)).toBe(true);
  });

  it('throws a ConfigError naming the field for bad options', () => {
    expect(() => csv({ delimiter: '' })).toThrow(ConfigError);
    expect(() => csv({ delimiter: '' })).toThrow(/delimiter: delimiter must be exactly one character/);
  });

  it('writes the header even for no rows, and no header when asked', async () => {
    const text = async (header: boolean) =>
      new TextDecoder().decode(await collectBytes(fromRows([]).pipeThrough(csv({ header }).open(ctx()))));
    expect(await text(true)).toBe('id,name,score,at\n');
    expect(await text(false)).toBe('');
  });

  it('batches rows into ~64 KiB chunks instead of one chunk per row', async () => {
    const chunks = await collect(fromRows(generate(20_000)).pipeThrough(csv().open(ctx())));
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.byteLength).toBeGreaterThanOrEqual(CHUNK_BYTES);
      expect(chunk.byteLength).toBeLessThan(CHUNK_BYTES + 1024);
    }
  });

  it('streams 1,000,000 lazily generated rows without holding the output', async () => {
    const reader = fromRows(generate(1_000_000)).pipeThrough(csv().open(ctx())).getReader();
    let bytes = 0;
    let newlines = 0;
    let largest = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      largest = Math.max(largest, value.byteLength);
      for (let i = value.indexOf(10); i >= 0; i = value.indexOf(10, i + 1)) newlines++;
    }
    expect(newlines).toBe(1_000_001);
    expect(bytes).toBeGreaterThan(30 * 1024 * 1024);
    expect(largest).toBeLessThan(CHUNK_BYTES + 1024);
  });

  it('fails the stream with FORMAT_FAILED naming the row and column', async () => {
    const rows: Row[] = [
      { id: 1, at: 0 },
      { id: 2, at: 'yesterday' },
    ];
    // Row numbers count across batches: one batch of two rows, or two batches of one.
    for (const size of [512, 1]) {
      const error = await collect(fromRows(rows, size).pipeThrough(csv().open(ctx()))).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ExportError);
      expect(error).toMatchObject({ code: 'FORMAT_FAILED', plugin: 'format/csv', details: { row: 2 } });
      expect((error as Error).message).toMatch(/row 2: column "at": expected a date or timestamp/);
    }
  });

  it('is a plugin whose options schema defaults and validates', () => {
    expect(plugin.name).toBe('format/csv');
    const options = v.parse(plugin.options, undefined);
    const stage = plugin.create(options, webPlatform());
    expect(stage).toMatchObject({ kind: 'format', name: 'csv' });
    expect(v.safeParse(plugin.options, { quote: '""' }).success).toBe(false);
  });

  it('writes a lone surrogate as U+FFFD in UTF-16 too, as UTF-8 output has it', async () => {
    for (const encoding of ['UTF-8', 'UTF-16LE']) {
      const stage = csv({ encoding, header: false });
      const bytes = await collectBytes(
        fromRows([{ name: 'a\ud800b\udc00 😀' }]).pipeThrough(
          stage.open(ctx([{ name: 'name', type: 'string' }])),
        ),
      );
      expect(new TextDecoder(encoding === 'UTF-8' ? 'utf-8' : 'utf-16le').decode(bytes)).toBe(
        'a\ufffdb\ufffd 😀\n',
      );
    }
  });
});
