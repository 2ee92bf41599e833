/**
 * The parallel engine of the Node and Deno hosts: a local NDJSON, CSV or Parquet file read and
 * encoded by worker threads, for a format that can encode rows on its own (`FormatStage.rowEncoder`:
 * CSV, NDJSON). This thread reads a text file in pieces cut at record ends (pieces.ts) — a Parquet
 * file's pieces are its row groups, which the workers read themselves — hands each piece to the least
 * busy worker, and passes the encoded pieces on in file order as row batches that carry
 * their bytes (core/encoded.ts); the pipeline — splits, compression, encryption, the sink — runs
 * here as for any rows, so the files are byte for byte those of the single-threaded path.
 *
 * Memory stays bounded: at most `2 × threads` pieces are read and not yet passed on. A piece a worker
 * cannot read (bad input) fails the run with the error the single-threaded path gives for it: the
 * file is read again on this thread (`reread`) until that error comes up.
 * The Worker (Cloudflare) never runs this: it has no threads and no files.
 */
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { encodedBatch } from '../../core/encoded.ts';
import { ExportError } from '../../core/errors.ts';
import type { RowBatch } from '../../core/types.ts';
import { type CsvBytes, CsvRecordEnds, headerEnd, lastLineEnd } from './pieces.ts';
import type { PieceMessage, PieceResult, WorkerInit } from './protocol.ts';

/** Bytes of input per piece, about (a record longer than that makes a longer piece). */
export const PIECE_BYTES = 1024 * 1024;

export interface ParallelInput extends WorkerInit {
  readonly path: string;
  /** Worker threads (≥ 1). */
  readonly threads: number;
  /** The CSV source's special characters (CSV input only; its first record is the header). */
  readonly csv?: CsvBytes;
  /** A Parquet file's row groups: the pieces are these, read by the workers from the file. */
  readonly rowGroups?: number;
  readonly pieceBytes?: number;
  /** Counts the pieces passed on. */
  readonly report?: { pieces: number };
  /** The input's rows read on this thread, to report the exact error a piece failed with. */
  reread(): Promise<ReadableStream<RowBatch>>;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

/** The worker's script: worker.ts on Deno, which runs TypeScript itself; on Node its bundle (bundle.ts). */
export async function workerScript(): Promise<URL> {
  return isDeno ? new URL('./worker.ts', import.meta.url) : await (await import('./bundle.ts')).workerBundle();
}

async function startWorker(init: WorkerInit): Promise<Worker> {
  const url = await workerScript();
  // A young generation of 8 MiB: ~20 MiB less peak RSS than V8's default for a worker, no slower
  // (NDJSON → CSV+gzip at 1M rows, 3 runs each: 216–222 against 238–244 MiB).
  return new Worker(url, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
}

/** 0 … n − 1. */
async function* count(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Yields the file in pieces that end at a record end (`cut`), each a copy of its own. */
async function* readPieces(path: string, pieceBytes: number, cut: (bytes: Uint8Array, from: number, to: number) => number) {
  const file = await open(path, 'r');
  try {
    let buf = new Uint8Array(pieceBytes);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) {
        if (length > 0) yield buf.slice(0, length);
        return;
      }
      const end = cut(buf, length, length + bytesRead);
      length += bytesRead;
      if (end > 0) {
        yield buf.slice(0, end);
        buf.copyWithin(0, end, length);
        length -= end;
      } else if (length === buf.length) {
        // No record ends in a whole piece: read on into a bigger buffer.
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
    }
  } finally {
    await file.close();
  }
}

/** How to end each engine still running (its stream not read to the end nor cancelled). */
const running = new Set<() => void>();

/**
 * Ends every engine still running: a run that failed before it read its rows (or never cancelled
 * them) must not leave worker threads that keep the process from exiting. The CLI calls it when an
 * export ends, however it ends.
 */
export function stopParallelWorkers(): void {
  for (const stop of running) stop();
}

/** The rows of `input.path`, encoded by worker threads, in file order. */
export function parallelRows(input: ParallelInput): ReadableStream<RowBatch> {
  const pieceBytes = input.pieceBytes ?? PIECE_BYTES;
  const init: WorkerInit = { path: input.path, source: input.source, format: input.format, schema: input.schema };
  const scanner = input.csv ? new CsvRecordEnds(input.csv) : undefined;
  const pieces: AsyncGenerator<Uint8Array | number> =
    input.rowGroups !== undefined
      ? count(input.rowGroups)
      : readPieces(input.path, pieceBytes, scanner ? (b, from, to) => scanner.scan(b, from, to) : (b, _from, to) => lastLineEnd(b, to));
  const results = new Map<number, PieceResult>();
  let workers: { worker: Worker; busy: number }[] = [];
  let header: Uint8Array | undefined;
  let sent = 0;
  let passed = 0;
  let reading = true;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let stopped = false;
  /** Ends the workers and the file (once); nothing waits for them to be gone. */
  const stop = () => {
    if (stopped) return;
    stopped = true;
    running.delete(stop);
    for (const { worker } of workers) {
      worker.unref();
      worker.terminate().catch(() => {});
    }
    pieces.return(undefined).catch(() => {});
  };

  /** Reads and sends pieces while fewer than 2 × threads are read and not yet passed on. */
  async function send(): Promise<void> {
    while (reading && sent - passed < 2 * workers.length) {
      const next = await pieces.next();
      if (next.done) {
        reading = false;
        return;
      }
      const target = workers.reduce((a, b) => (b.busy < a.busy ? b : a));
      target.busy++;
      if (typeof next.value === 'number') {
        target.worker.postMessage({ seq: sent++, group: next.value } satisfies PieceMessage);
        continue;
      }
      let bytes = next.value;
      if (input.csv && !header) {
        // The header record goes before every piece, so each parses into the same columns.
        const end = headerEnd(bytes, input.csv);
        header = bytes.slice(0, end < 0 ? bytes.length : end);
        bytes = bytes.subarray(header.length);
      }
      const message: PieceMessage = { seq: sent++, bytes, ...(header && { header }) };
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      target.worker.postMessage(message, whole ? [bytes.buffer as ArrayBuffer] : []);
    }
  }

  running.add(stop);
  return new ReadableStream<RowBatch>({
    async start() {
      const started = await Promise.all(Array.from({ length: Math.max(1, input.threads) }, () => startWorker(init)));
      workers = started.map((worker) => ({ worker, busy: 0 }));
      // Stopped while they started: end them now.
      if (stopped) {
        stopped = false;
        stop();
      }
      for (const w of workers) {
        w.worker.on('message', (result: PieceResult) => {
          w.busy--;
          results.set(result.seq, result);
          notify();
        });
        w.worker.on('error', (error) => {
          failed ??= error;
          notify();
        });
        w.worker.on('exit', (code) => {
          if (!stopped) failed ??= new Error(`a parallel export worker exited with code ${code}`);
          notify();
        });
      }
    },
    async pull(controller) {
      try {
        for (;;) {
          if (failed) throw failed;
          const result = results.get(passed);
          if (result) {
            results.delete(passed);
            passed++;
            if (input.report) input.report.pieces++;
            if ('failure' in result) throw await exactError(input, result.failure);
            if (result.encoded.ends.length > 0 || result.encoded.error) return controller.enqueue(encodedBatch(result.encoded));
            continue;
          }
          if (!reading && passed === sent) {
            controller.close();
            return stop();
          }
          const woken = new Promise<void>((resolve) => {
            wake = resolve;
          });
          await send();
          // Wait for a worker only while one has a piece; the file may have just ended instead.
          if (!results.has(passed) && !failed && sent > passed) await woken;
        }
      } catch (error) {
        stop();
        throw error;
      }
    },
    cancel: () => stop(),
  });
}

/** The error the single-threaded path gives for this input (a worker said `failure`). */
async function exactError(input: ParallelInput, failure: string): Promise<unknown> {
  try {
    const reader = (await input.reread()).getReader();
    while (!(await reader.read()).done) {
      // read until the error the bad piece holds comes up
    }
  } catch (error) {
    return error;
  }
  return new ExportError('SOURCE_INVALID', `${input.source.use}: ${failure}`, { plugin: input.source.use, stage: 'source' });
}
