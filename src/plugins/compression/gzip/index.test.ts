import { gunzipSync } from 'node:zlib';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { collectBytes, concatBytes, fromIterable } from '../../../core/streams.ts';
import type { RunContext } from '../../../core/types.ts';
import { gzip, plugin } from './index.ts';

const ctx = {} as RunContext;

describe('compression/gzip', () => {
  it('describes itself: .gz and Content-Encoding gzip', () => {
    expect(gzip()).toMatchObject({
      kind: 'compression',
      name: 'gzip',
      extension: 'gz',
      contentEncoding: 'gzip',
    });
  });

  it('compresses a chunked stream that zlib decompresses to the same bytes', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) =>
      new TextEncoder().encode(`row ${i},${'x'.repeat(i)}\n`),
    );
    const pair = gzip().open(ctx)!;
    const compressed = await collectBytes(fromIterable(chunks).pipeThrough(pair));
    expect(compressed[0]).toBe(0x1f);
    expect(compressed[1]).toBe(0x8b);
    expect(Buffer.compare(gunzipSync(compressed), concatBytes(chunks))).toBe(0);
  });

  it('opens an independent stream per file', async () => {
    const stage = gzip();
    const a = collectBytes(fromIterable([new Uint8Array([1, 2, 3])]).pipeThrough(stage.open(ctx)!));
    const b = collectBytes(fromIterable([new Uint8Array([4, 5])]).pipeThrough(stage.open(ctx)!));
    expect([...gunzipSync(await a)]).toEqual([1, 2, 3]);
    expect([...gunzipSync(await b)]).toEqual([4, 5]);
  });

  it('takes a zlib level 0–9 and refuses anything else', () => {
    expect(v.safeParse(plugin.options, {}).success).toBe(true);
    expect(v.safeParse(plugin.options, { level: 9 }).success).toBe(true);
    expect(v.safeParse(plugin.options, { level: 10 }).success).toBe(false);
    expect(v.safeParse(plugin.options, { speed: 1 }).success).toBe(false);
    expect(plugin.name).toBe('compression/gzip');
  });

  it('at an explicit level without native zlib, writes gzip that zlib reads back (fflate)', async () => {
    const chunks = Array.from({ length: 30 }, (_, i) => new TextEncoder().encode(`line ${i} ${'y'.repeat(i * 3)}\n`));
    for (const level of [0, 1, 6, 9]) {
      const compressed = await collectBytes(fromIterable(chunks).pipeThrough(gzip({ level }).open(ctx)!));
      expect(Buffer.compare(gunzipSync(compressed), concatBytes(chunks))).toBe(0);
    }
  });

  it("uses the host's native gzip when it has one, at the level asked (default 1)", async () => {
    const levels: number[] = [];
    const host = {
      gzip: (level: number) => {
        levels.push(level);
        return new CompressionStream('gzip') as ReadableWritablePair<Uint8Array, Uint8Array>;
      },
    };
    for (const stage of [gzip({}, host), gzip({ level: 7 }, host)]) {
      await collectBytes(fromIterable([new Uint8Array([1])]).pipeThrough(stage.open(ctx)!));
    }
    expect(levels).toEqual([1, 7]);
  });
});
