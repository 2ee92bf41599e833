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
