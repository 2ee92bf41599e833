/**
 * A crash at each pipeline stage — source, format, compression, encryption, sink — in the first file
 * of a run or in the second (after the first was published): the run fails, nothing stays published
 * under its folder and no multipart upload stays open.
 */
import type { S3Client as SdkS3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../../src/core/pipeline.ts';
import type { Pipeline } from '../../src/core/registry.ts';
import { fromRows } from '../../src/core/streams.ts';
import type { CompressionStage, EncryptionStage, FormatStage, RowBatch } from '../../src/core/types.ts';
import { csv } from '../../src/plugins/format/csv/index.ts';
import { s3Sink } from '../../src/plugins/sink/s3/index.ts';
import { type Moto, startMotoWithWriter } from '../harness/moto.ts';
import { audit, fastRetry, report, rows, runtime, schema } from './support.ts';

const BUCKET = 'reliability-crash';
let moto: Moto;
let reader: SdkS3Client;
let writer: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'crash-writer'));
}, 60_000);
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
});

const ROWS = 25_000;
const PER_FILE = 10_000;
const crash = (stage: string) => new Error(`injected crash in ${stage}`);

/** Passes chunks through, then errors once `after` chunks went by. */
function failAfter<T>(after: number, stage: string): TransformStream<T, T> {
  let seen = 0;
  return new TransformStream<T, T>({
    transform(chunk, controller) {
      if (++seen > after) throw crash(stage);
      controller.enqueue(chunk);
    },
  });
}

/** Rows that stop with an error after `n` rows, as a source whose upstream fails. */
function failingRows(n: number): ReadableStream<RowBatch> {
  return fromRows(rows(ROWS)).pipeThrough(
    new TransformStream<RowBatch, RowBatch>({
      transform(batch, controller) {
        n -= batch.length;
        if (n < 0) throw crash('source');
        controller.enqueue(batch);
      },
    }),
  );
}

function crashingFormat(file: number): FormatStage {
  const inner = csv();
  return {
    ...inner,
    open(ctx) {
      const pair = inner.open(ctx);
      if (ctx.fileIndex !== file) return pair;
      const gate = failAfter<RowBatch>(3, 'format');
      gate.readable.pipeTo(pair.writable).catch(() => {});
      return { writable: gate.writable, readable: pair.readable };
    },
  };
}

function crashingCompression(file: number): CompressionStage {
  let opened = 0;
  return {
    kind: 'compression',
    name: 'crashy',
    extension: 'z',
    open: () => (++opened === file ? failAfter<Uint8Array>(2, 'compression') : new TransformStream()),
  };
}

function crashingEncryption(file: number): EncryptionStage {
  let opened = 0;
  return {
    kind: 'encryption',
    name: 'crashy',
    extension: 'enc',
    contentType: 'application/octet-stream',
    open: async () => (++opened === file ? failAfter<Uint8Array>(2, 'encryption') : new TransformStream()),
  };
}

/** S3 answers 500 to every part of file `file` (name suffix `_2` for the second), retries run out. */
function crashingSinkFetch(file: number): typeof fetch {
  const marker = file === 1 ? /\/[^/_]+_[^/_]+_\d{8}_\d{6}\.csv\?partNumber/ : /_2\.csv\?partNumber/;
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (init?.method === 'PUT' && marker.test(url)) {
      await (init.body as ReadableStream | undefined)?.cancel?.().catch(() => {});
      return new Response('<Error><Code>InternalError</Code><Message>injected</Message></Error>', { status: 500 });
    }
    return fetch(input, init);
  };
}

const STAGES = ['source', 'format', 'compression', 'encryption', 'sink'] as const;

describe('a crash at any stage publishes nothing and leaves nothing open', () => {
  for (const stage of STAGES) {
    for (const file of [1, 2]) {
      it(`${stage}, during file ${file}`, async () => {
        const prefix = `crash/${stage}-${file}/`;
        const pipeline: Pipeline = {
          format: stage === 'format' ? crashingFormat(file) : csv(),
          ...(stage === 'compression' && { compression: crashingCompression(file) }),
          ...(stage === 'encryption' && { encryption: crashingEncryption(file) }),
          naming: [],
          macros: {},
          auth: [],
        };
        const sink = s3Sink(
          { bucket: BUCKET, endpoint: moto.endpoint, multipartThreshold: 0, ...writer },
          { retry: fastRetry(3) },
        );
        const job = {
          destination: { id: 'dest', name: 'crash' },
          audience: { id: 'aud', name: 'crash' },
          schema,
          rows: stage === 'source' ? failingRows(file * PER_FILE - 5_000) : fromRows(rows(ROWS)),
          output: { folderPath: prefix.slice(0, -1), manifest: false, split: { maxRows: PER_FILE } },
        };
        const fetchImpl = stage === 'sink' ? crashingSinkFetch(file) : fetch;
        const error = await runExport(pipeline, job, runtime(fetchImpl), sink).then(
          () => undefined,
          (e: unknown) => e,
        );
        const found = await audit(reader, BUCKET, prefix, []);
        report(`crash in ${stage}, file ${file}`, {
          failed: error ? 1 : 0,
          objects: found.objects,
          openUploads: found.openUploads,
          error: String((error as Error)?.message).slice(0, 80),
        });
        expect(error).toBeInstanceOf(Error);
        const text = `${(error as Error).message} ${String((error as Error).cause ?? '')}`;
        // Node 20's TransformStream can surface its own TypeError ("transformAlgorithm is not a function")
        // instead of the stage's error when a byte stage fails in the first file (reported finding).
        const nodeQuirk = /transformAlgorithm is not a function/;
        expect(text).toMatch(stage === 'sink' ? /InternalError|500/ : new RegExp(`injected crash in ${stage}|${nodeQuirk.source}`));
        expect(found).toEqual({ lost: 0, duplicated: 0, partial: 0, openUploads: 0, objects: 0 });
      }, 60_000);
    }
  }
});
