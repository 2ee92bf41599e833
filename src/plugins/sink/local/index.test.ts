import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedRuntime } from '../../../../test/support/memory-sink.ts';
import { ExportError } from '../../../core/errors.ts';
import { concatBytes, fromIterable } from '../../../core/streams.ts';
import type { RunContext } from '../../../core/types.ts';
import { localSink } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'edge-export-local-sink-'));
const ctx = { ...fixedRuntime(), runId: 'r', scheduledTime: new Date(0) } as RunContext;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('localSink', () => {
  it('writes every byte in order, whatever the chunking (tiny, many, and large chunks)', async () => {
    const chunks = [
      ...Array.from({ length: 3000 }, (_, i) => new Uint8Array([i & 0xff, (i >> 8) & 0xff, 7])),
      new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 13) & 0xff),
      new Uint8Array(1),
    ];
    const result = await localSink({ directory: dir }).write(ctx, { key: 'a/b.bin', contentType: 'x', body: fromIterable(chunks) });
    const expected = concatBytes(chunks);
    expect(result.size).toBe(expected.byteLength);
    expect(Buffer.compare(readFileSync(join(dir, 'a', 'b.bin')), expected)).toBe(0);
    expect(readdirSync(join(dir, 'a'))).toEqual(['b.bin']);
  });

  it('writes every byte in order when chunks straddle, fill and exceed its 1 MiB write buffer', async () => {
    const MiB = 1024 * 1024;
    const sizes = [MiB - 1, 2, MiB, 0, MiB / 2 - 1, MiB / 2, MiB / 2 + 1, 1, 3 * MiB + 5, 700_000, 400_000, 17];
    const chunks = sizes.map((n, k) => new Uint8Array(n).map((_, i) => (i * 7 + k) & 0xff));
    const result = await localSink({ directory: dir }).write(ctx, { key: 'e/f.bin', contentType: 'x', body: fromIterable(chunks) });
    const expected = concatBytes(chunks);
    expect(result.size).toBe(expected.byteLength);
    expect(Buffer.compare(readFileSync(join(dir, 'e', 'f.bin')), expected)).toBe(0);
  });

  it('leaves no file, not even the temporary one, when the body fails', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
        controller.error(new Error('source broke'));
      },
    });
    const write = localSink({ directory: dir }).write(ctx, { key: 'c/d.bin', contentType: 'x', body });
    await expect(write).rejects.toBeInstanceOf(ExportError);
    expect(readdirSync(join(dir, 'c'))).toEqual([]);
  });
});
