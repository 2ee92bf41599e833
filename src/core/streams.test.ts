import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchRows,
  collect,
  collectRows,
  fromIterable,
  fromRows,
  lineBatches,
  lines,
  pipeThrough,
  utf8Decoder,
} from './streams.ts';
import type { Row } from './types.ts';

const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ i }));

describe('row batches', () => {
  it('fromRows batches a sync iterable, the last batch shorter, none when empty', async () => {
    const batches = await collect(fromRows(rows(1030), 512));
    expect(batches.map((b) => b.length)).toEqual([512, 512, 6]);
    expect(batches.flat()).toEqual(rows(1030));
    expect(await collect(fromRows([]))).toEqual([]);
  });

  it('fromRows batches an async iterable and passes its error on', async () => {
    async function* gen() {
      yield* rows(5);
      throw new Error('gone');
    }
    await expect(collect(fromRows(gen(), 2))).rejects.toThrow('gone');
    async function* ok() {
      yield* rows(5);
    }
    expect((await collect(fromRows(ok(), 2))).map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it('fromRows pulls lazily and closes the iterator on cancel', async () => {
    let made = 0;
    let closed = false;
    function* gen() {
      try {
        for (;;) yield { i: made++ };
      } finally {
        closed = true;
      }
    }
    const reader = fromRows(gen(), 10).getReader();
    expect((await reader.read()).value).toHaveLength(10);
    expect(made).toBeLessThanOrEqual(30);
    await reader.cancel();
    expect(closed).toBe(true);
  });

  it('batchRows groups a row stream; collectRows flattens batches', async () => {
    const batches = await collect(fromIterable(rows(7)).pipeThrough(batchRows(3)));
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(await collectRows(fromIterable(rows(7)).pipeThrough(batchRows(3)))).toEqual(rows(7));
    expect(await collect(fromIterable<Row>([]).pipeThrough(batchRows()))).toEqual([]);
  });
});

describe('lines and lineBatches', () => {
  const bytes = (...parts: string[]) => fromIterable(parts.map((p) => new TextEncoder().encode(p)));

  it('split the same lines, across chunks, CRLF and a missing final newline', async () => {
    const input = () => bytes('a\r\nb', 'c\n\nd', 'é\r');
    const expected = ['a', 'bc', '', 'dé'];
    expect(await collect(input().pipeThrough(lines()))).toEqual(expected);
    const batches = await collect(input().pipeThrough(lineBatches()));
    expect(batches).toEqual([['a'], ['bc', ''], ['dé']]);
  });
});

describe('utf8Decoder', () => {
  /** Text with BOMs, 2-, 3- and 4-byte characters; sometimes a bad byte spliced in. */
  const input = fc
    .record({
      text: fc.string({
        unit: fc.constantFrom('a', '\n', 'é', '€', '😀', '\ufeff', '\u0800', '\uffff', 'Z'),
        maxLength: 40,
      }),
      bad: fc.option(
        fc.record({
          at: fc.nat(),
          bytes: fc.constantFrom(
            [0xff],
            [0x80],
            [0xc0, 0xaf],
            [0xe0, 0x80],
            [0xe2, 0x82],
            [0xf0, 0x9f, 0x98],
            [0xed, 0xa0, 0x80],
            [0xf4, 0x90, 0x80, 0x80],
            [0xc3],
          ),
        }),
        { freq: 3 },
      ),
      cuts: fc.array(fc.nat(), { maxLength: 12 }),
    })
    .map(({ text, bad, cuts }) => {
      let bytes = new TextEncoder().encode(text);
      if (bad) {
        const at = bad.at % (bytes.length + 1);
        bytes = new Uint8Array([...bytes.subarray(0, at), ...bad.bytes, ...bytes.subarray(at)]);
      }
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const p of [...points, bytes.length]) {
        chunks.push(bytes.slice(from, p));
        from = p;
      }
      return chunks;
    });

  /** The text of all chunks, or the error's class, through `decode` (chunks, then null). */
  const run = (decode: (chunk: Uint8Array | null) => string, chunks: Uint8Array[]): string => {
    try {
      return chunks.map((c) => decode(c)).join('') + decode(null);
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };

  it('gives what a fatal TextDecoder gives for the whole input, whatever the chunks (fixed seed)', () => {
    fc.assert(
      fc.property(input, (chunks) => {
        // The whole input decoded in one call: what a streaming decoder must give too. (workerd's
        // streaming TextDecoder also drops a U+FEFF that starts a later chunk, which the Encoding
        // standard keeps, so it cannot be the reference everywhere.)
        const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          whole.set(c, at);
          at += c.length;
        }
        const reference = new TextDecoder('utf-8', { fatal: true });
        const expected = run((c) => (c === null ? reference.decode(whole) : ''), chunks);
        expect(run(utf8Decoder(), chunks)).toBe(expected);
      }),
      { seed: 20261205, numRuns: 20_000 },
    );
  });

  it('drops a BOM at the start only, even one cut across chunks', () => {
    const decode = utf8Decoder();
    expect([0xef, 0xbb, 0xbf, 0x61, 0xef].map((b) => decode(new Uint8Array([b]))).join('')).toBe('a');
    expect(decode(new Uint8Array([0xbb, 0xbf])) + decode(null)).toBe('\ufeff');
  });
});

describe('pipeThrough', () => {
  const double = () =>
    new TransformStream<number, number>({
      transform: (n, controller) => controller.enqueue(n * 2),
      flush: (controller) => controller.enqueue(-1),
    });

  it('passes every chunk through the pair in order, then flushes and closes', async () => {
    expect(await collect(pipeThrough(fromIterable([1, 2, 3]), double()))).toEqual([2, 4, 6, -1]);
  });

  it("errors the output with the source's error", async () => {
    const boom = new Error('source failed');
    const source = new ReadableStream<number>({
      start(controller) {
        controller.enqueue(1);
        controller.error(boom);
      },
    });
    await expect(collect(pipeThrough(source, double()))).rejects.toBe(boom);
  });

  it('cancels the source when the output is cancelled', async () => {
    let i = 0;
    let onCancel: (reason: unknown) => void = () => {};
    const cancelled = new Promise((resolve) => {
      onCancel = resolve;
    });
    const source = new ReadableStream<number>({
      pull: (controller) => controller.enqueue(i++),
      cancel: onCancel,
    });
    const reader = pipeThrough(source, double()).getReader();
    expect((await reader.read()).value).toBe(0);
    await reader.cancel('stop');
    expect(await cancelled).toBe('stop');
  });
});
