import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { collectBytes, concatBytes, fromIterable } from '../../core/streams.ts';
import type { RunContext } from '../../core/types.ts';
import { gzip } from '../../plugins/compression/gzip/index.ts';
import { zlibGzip } from './gzip.ts';

const ctx = {} as RunContext;
const text = (i: number) => new TextEncoder().encode(`${i},name-${i},${i * 1.5}\n`.repeat(200));
const node = { gzip: zlibGzip };

describe('compression/gzip on the Node platform (zlib)', () => {
  it('round-trips a chunked stream at the default and at an explicit level', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => text(i));
    for (const stage of [gzip({}, node), gzip({ level: 9 }, node), gzip({ level: 0 }, node)]) {
      const compressed = await collectBytes(fromIterable(chunks).pipeThrough(stage.open(ctx)!));
      expect(Buffer.compare(gunzipSync(compressed), concatBytes(chunks))).toBe(0);
    }
  });

  it('level 1 by default: output differs from level 9 on compressible input', async () => {
    const input = [text(1), text(2), text(3)];
    const fast = await collectBytes(fromIterable(input).pipeThrough(gzip({}, node).open(ctx)!));
    const best = await collectBytes(fromIterable(input).pipeThrough(gzip({ level: 9 }, node).open(ctx)!));
    expect(fast.byteLength).toBeGreaterThan(best.byteLength);
  });

  it('writes the same bytes as zlib at the same level, whichever host decides', async () => {
    const input = [text(4), text(5)];
    const viaPlatform = await collectBytes(fromIterable(input).pipeThrough(gzip({ level: 6 }, node).open(ctx)!));
    const direct = await collectBytes(fromIterable(input).pipeThrough(zlibGzip(6)));
    expect(Buffer.compare(viaPlatform, direct)).toBe(0);
  });

  it('refuses a bad level, naming the field and what was expected', () => {
    expect(() => gzip({ level: 12 }, node)).toThrow(ConfigError);
    try {
      gzip({ level: 1.5 }, node);
      expect.unreachable();
    } catch (error) {
      const issue = (error as ConfigError).issues[0]!;
      expect(issue.path).toBe('level');
      expect(issue.received).toBe('1.5');
    }
  });
});
