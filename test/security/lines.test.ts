/**
 * The NDJSON readers are linear in their input however long a line is (issue 15: one 64 MiB line
 * cost 37 s of CPU). Each reader splits one 16 MiB line and, as the reference, the same bytes as
 * 256 lines of 64 KiB, in the same 64 KiB chunks; the long line may cost at most a few times the
 * reference. A reader that re-scans its carried line with every chunk does 256 chunks × 8 MiB on
 * average and lands far above the bound (before the fix: 65–95×).
 */
import { describe, expect, it } from 'vitest';
import { fromIterable, iterate, lineBatches, lineSplitter, lines, pipeThrough } from '../../src/core/streams.ts';
import type { RunContext } from '../../src/core/types.ts';
import { ndjsonSource } from '../../src/plugins/source/ndjson/index.ts';
import { readRecords } from '../../src/worker/ingest.ts';

const CHUNK = 64 * 1024;
const SIZE = 16 * 1024 * 1024;
/** How many times the reference time the long line may take. */
const BOUND = 6;
/**
 * The least reference time the bound is taken of, ms. Since UTF-8 is decoded without `stream`
 * (utf8Decoder) the 256 short lines take 2–4 ms, and the long line's one fixed cost, allocating and
 * joining its 16 MiB, is then most of its time (about 20 ms); a reader that re-scans its carried line
 * costs hundreds of ms here, far above 6 × 10.
 */
const FLOOR_MS = 10;

/** One JSON object per line, `count` lines making `SIZE` bytes in all (the payload padded with x). */
function ndjson(count: number): Uint8Array {
  const overhead = '{"id":"p","v":""}\n'.length;
  const line = `{"id":"p","v":"${'x'.repeat(SIZE / count - overhead)}"}\n`;
  return new TextEncoder().encode(line.repeat(count));
}

function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += CHUNK) parts.push(bytes.subarray(i, i + CHUNK));
  return fromIterable(parts);
}

/**
 * The least CPU time (ms, this process) of three runs of `read` after a warm-up run, and how many
 * items it produced. CPU time rather than wall time: the machine is shared.
 */
async function timed(read: () => Promise<number>): Promise<{ ms: number; items: number }> {
  let best = Number.POSITIVE_INFINITY;
  let items = await read();
  for (let i = 0; i < 3; i++) {
    const start = process.cpuUsage();
    items = await read();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return { ms: best, items };
}

async function count<T>(stream: ReadableStream<T>, size: (item: T) => number = () => 1): Promise<number> {
  let n = 0;
  for await (const item of iterate(stream)) n += size(item);
  return n;
}

const readers: [string, (bytes: Uint8Array) => Promise<number>][] = [
  [
    'lineSplitter',
    async (bytes) => {
      const split = lineSplitter();
      let n = 0;
      for await (const chunk of iterate(chunked(bytes))) n += split(chunk).length;
      return n + split(null).length;
    },
  ],
  ['lines()', (bytes) => count(pipeThrough(chunked(bytes), lines()))],
  ['lineBatches()', (bytes) => count(pipeThrough(chunked(bytes), lineBatches()), (batch) => batch.length)],
  [
    'source/ndjson',
    async (bytes) => count((await ndjsonSource().open({} as RunContext, chunked(bytes))).rows, (b) => b.length),
  ],
  [
    'API ingestion (readRecords)',
    async (bytes) => {
      let n = 0;
      for await (const record of readRecords(chunked(bytes), 'ndjson', Number.POSITIVE_INFINITY)) {
        expect(record).not.toHaveProperty('error');
        n++;
      }
      return n;
    },
  ],
];

describe('NDJSON readers are linear on long lines', () => {
  const long = ndjson(1);
  const short = ndjson(256);
  for (const [name, read] of readers) {
    it(`${name}: one 16 MiB line costs at most ${BOUND}× the same bytes as 64 KiB lines`, async () => {
      const reference = await timed(() => read(short));
      const measured = await timed(() => read(long));
      expect(reference.items).toBe(256);
      expect(measured.items).toBe(1);
      expect(measured.ms, `long line ${measured.ms.toFixed(0)} ms, reference ${reference.ms.toFixed(0)} ms`).toBeLessThan(
        BOUND * Math.max(reference.ms, FLOOR_MS),
      );
    });
  }
});
