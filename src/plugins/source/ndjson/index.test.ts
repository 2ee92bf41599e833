import { describe, expect, it } from 'vitest';
import { collect, fromIterable } from '../../../core/streams.ts';
import type { RunContext } from '../../../core/types.ts';
import { MAX_BATCH_ROWS, ndjsonSource } from './index.ts';

const ctx = {} as RunContext;
const chunks = (...parts: string[]) => fromIterable(parts.map((p) => new TextEncoder().encode(p)));

describe('source/ndjson', () => {
  it('makes one batch per input chunk, skipping blank lines, split beyond MAX_BATCH_ROWS', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `{"i":${i}}\n`).join('');
    const { rows } = await ndjsonSource().open(ctx, chunks('{"a":1}\n\n{"a"', ':2}\n', many));
    const batches = await collect(rows);
    expect(batches.map((b) => b.length)).toEqual([1, 1, MAX_BATCH_ROWS, 5000 - MAX_BATCH_ROWS]);
    expect(batches.flat().slice(0, 3)).toEqual([{ a: 1 }, { a: 2 }, { i: 0 }]);
  });

  it('names the line of a bad row, counting blank lines and earlier chunks', async () => {
    const { rows } = await ndjsonSource().open(ctx, chunks('{"a":1}\n\n', '[1]\n'));
    await expect(collect(rows)).rejects.toThrow('NDJSON line 3: expected a JSON object');
    const { rows: broken } = await ndjsonSource().open(ctx, new Blob(['{"a":1}\n{oops}']));
    await expect(collect(broken)).rejects.toMatchObject({ code: 'SOURCE_INVALID', details: { line: 2 } });
  });

  it('refuses a line nested deeper than the JSON depth limit, naming it', async () => {
    const deep = `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const { rows } = await ndjsonSource().open(ctx, chunks('{"a":1}\n', `${deep}\n`));
    await expect(collect(rows)).rejects.toMatchObject({ code: 'SOURCE_INVALID', details: { line: 2 } });
  });
});
