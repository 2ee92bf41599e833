import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { collectBytes, fromIterable } from '../../../core/streams.ts';
import { plugin, zstd, zstdFrames } from './index.ts';

/** A stand-in compressor that keeps each frame visible: its length (4 bytes) then its bytes. */
const framed = async () => (input: Uint8Array) => {
  const out = new Uint8Array(4 + input.byteLength);
  new DataView(out.buffer).setUint32(0, input.byteLength);
  out.set(input, 4);
  return out;
};
const frameSizes = (bytes: Uint8Array) => {
  const sizes: number[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    const size = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);
    sizes.push(size);
    at += 4 + size;
  }
  return sizes;
};

describe('compression/zstd', () => {
  const host = { zstdWasm: async () => new Uint8Array() };

  it('describes itself: .zst and Content-Encoding zstd', () => {
    expect(zstd({}, host)).toMatchObject({ kind: 'compression', name: 'zstd', extension: 'zst', contentEncoding: 'zstd' });
  });

  it('cuts its input into frames of exactly frameBytes, whatever the chunking, the last one shorter', async () => {
    const chunks = [3, 9, 1, 20, 7].map((n, i) => new Uint8Array(n).fill(i));
    const out = await collectBytes(fromIterable(chunks).pipeThrough(zstdFrames(framed, 8)));
    expect(frameSizes(out)).toEqual([8, 8, 8, 8, 8]);
    const tail = await collectBytes(fromIterable([new Uint8Array(19)]).pipeThrough(zstdFrames(framed, 8)));
    expect(frameSizes(tail)).toEqual([8, 8, 3]);
    // The bytes pass in order.
    const payload = [...out].filter((_, i) => i % 12 >= 4);
    expect(payload).toEqual(chunks.flatMap((c) => [...c]));
  });

  it('writes one empty frame for an empty input, and no empty frame after a full one', async () => {
    expect(frameSizes(await collectBytes(fromIterable<Uint8Array>([]).pipeThrough(zstdFrames(framed, 8))))).toEqual([0]);
    expect(frameSizes(await collectBytes(fromIterable([new Uint8Array(16)]).pipeThrough(zstdFrames(framed, 8))))).toEqual([8, 8]);
  });

  it('takes a zstd level 1–19 and refuses anything else', () => {
    expect(v.safeParse(plugin.options, {}).success).toBe(true);
    expect(v.safeParse(plugin.options, { level: 19 }).success).toBe(true);
    for (const bad of [{ level: 0 }, { level: 20 }, { level: 2.5 }, { level: '3' }, { speed: 1 }]) {
      expect(v.safeParse(plugin.options, bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(plugin.name).toBe('compression/zstd');
  });

  it('refuses a host without the zstd wasm, naming the host', () => {
    expect(() => zstd({}, { name: 'elsewhere' })).toThrow('zstd is not available on this host (elsewhere)');
    expect(() => zstd({}, host)).not.toThrow();
  });
});
