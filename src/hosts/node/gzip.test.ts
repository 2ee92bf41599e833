import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { collectBytes, concatBytes, fromIterable } from '../../core/streams.ts';
import type { RunContext } from '../../core/types.ts';
import { gzip } from '../../plugins/compression/gzip/index.ts';
import { nodeGzip, plugin } from './gzip.ts';

const ctx = {} as RunContext;
const text = (i: number) => new TextEncoder().encode(`${i},name-${i},${i * 1.5}\n`.repeat(200));

describe('nodeGzip', () => {
  it('has the same stage shape as the web gzip stage, so it substitutes for it', () => {
    const { open: _a, ...node } = nodeGzip();
    const { open: _b, ...web } = gzip();
    expect(node).toEqual(web);
    expect(plugin.name).toBe('compression/gzip');
  });

  it('round-trips a chunked stream at the default and at an explicit level', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => text(i));
    for (const stage of [nodeGzip(), nodeGzip({ level: 9 }), nodeGzip({ level: 0 })]) {
      const compressed = await collectBytes(fromIterable(chunks).pipeThrough(stage.open(ctx)!));
      expect(Buffer.compare(gunzipSync(compressed), concatBytes(chunks))).toBe(0);
    }
  });

  it('level 1 by default: output differs from level 9 on compressible input', async () => {
    const input = [text(1), text(2), text(3)];
    const fast = await collectBytes(fromIterable(input).pipeThrough(nodeGzip().open(ctx)!));
    const best = await collectBytes(fromIterable(input).pipeThrough(nodeGzip({ level: 9 }).open(ctx)!));
    expect(fast.byteLength).toBeGreaterThan(best.byteLength);
  });

  it('refuses a bad level, naming the field and what was expected', () => {
    expect(() => nodeGzip({ level: 12 })).toThrow(ConfigError);
    try {
      nodeGzip({ level: 1.5 });
    } catch (error) {
      const issue = (error as ConfigError).issues[0]!;
      expect(issue.path).toBe('level');
      expect(issue.received).toBe('1.5');
    }
  });
});
