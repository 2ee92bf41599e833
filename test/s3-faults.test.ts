import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  GetObjectCommand,
  type S3Client as SdkS3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportError } from '../src/core/errors.ts';
import { retryPolicy } from '../src/core/retry.ts';
import { s3Sink } from '../src/plugins/sink/s3/index.ts';
import { chunkedStream, digest, runContext, seededBytes } from './harness/data.ts';
import { type FaultPlan, startFaultProxy, seededFaults } from './harness/fault-proxy.ts';
import { type Moto, startMotoWithWriter } from './harness/moto.ts';

const BUCKET = 'faults-bucket';
const MiB = 1024 * 1024;
let moto: Moto;
let reader: SdkS3Client;
let writer: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'writer'));
});
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
});

/** Backoff without waiting: the jitter is seeded and sleeping is a no-op. */
function fastRetry(maxAttempts: number) {
  let x = 42;
  const random = () => {
    x = (x * 16807) % 2147483647;
    return x / 2147483647;
  };
  return retryPolicy({ maxAttempts, random, sleep: async () => undefined });
}

async function withProxy<T>(plan: FaultPlan, run: (endpoint: string) => Promise<T>) {
  const proxy = await startFaultProxy(moto.endpoint, plan);
  try {
    return { result: await run(proxy.endpoint), stats: proxy.stats };
  } finally {
    await proxy.stop();
  }
}

async function readBack(key: string): Promise<Uint8Array> {
  const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await got.Body?.transformToByteArray()) ?? new Uint8Array();
}

describe('exports through a faulty network (fault proxy in front of moto)', () => {
  it('complete with intact objects when a seeded third of requests fail', async () => {
    const files = [
      { key: 'flaky/small.csv', body: seededBytes(4000, 1) },
      { key: 'flaky/big.csv', body: seededBytes(17 * MiB + 99, 2) },
      { key: "flaky/odd (1) 'ü'+!*.csv", body: seededBytes(6 * MiB, 3) },
    ];
    const { stats } = await withProxy(seededFaults(1234, 0.33), async (endpoint) => {
      const sink = s3Sink(
        { bucket: BUCKET, endpoint, partSize: 5 * MiB, concurrency: 3, ...writer },
        { retry: fastRetry(10) },
      );
      for (const f of files)
        await sink.write(runContext(), { key: f.key, contentType: 'text/csv', body: chunkedStream(f.body) });
    });
    for (const f of files) expect(digest(await readBack(f.key))).toBe(digest(f.body));
    expect(stats.faults['internal-error']).toBeGreaterThan(0);
    expect(stats.faults['slow-down']).toBeGreaterThan(0);
    expect(stats.faults.drop).toBeGreaterThan(0);
    expect((await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual(
      [],
    );
  });

  it('survives lost responses: a part stored twice, and a completion retried after it succeeded', async () => {
    const lose = new Set(['part 2', 'complete']);
    const plan: FaultPlan = (req) => {
      const what = /partNumber=2&/.test(req.url)
        ? 'part 2'
        : req.method === 'POST' && /uploadId=/.test(req.url)
          ? 'complete'
          : '';
      return lose.delete(what) ? 'lose-response' : null;
    };
    const body = seededBytes(11 * MiB, 8);
    const { stats } = await withProxy(plan, async (endpoint) => {
      const sink = s3Sink(
        { bucket: BUCKET, endpoint, partSize: 5 * MiB, ...writer },
        { retry: fastRetry(5) },
      );
      await sink.write(runContext(), {
        key: 'lost/big.csv',
        contentType: 'text/csv',
        body: chunkedStream(body),
      });
    });
    expect(stats.faults['lose-response']).toBe(2);
    expect(digest(await readBack('lost/big.csv'))).toBe(digest(body));
  });

  it('after an unrecoverable failure leave nothing at the key and no open multipart upload', async () => {
    // Part 3 never gets through (SlowDown forever); everything else does, including the abort.
    const plan: FaultPlan = (req) =>
      req.method === 'PUT' && /partNumber=3&/.test(req.url) ? 'slow-down' : null;
    const outcome = await withProxy(plan, async (endpoint) => {
      const sink = s3Sink(
        { bucket: BUCKET, endpoint, partSize: 5 * MiB, concurrency: 2, ...writer },
        { retry: fastRetry(4) },
      );
      return sink
        .write(runContext(), {
          key: 'doomed/big.csv',
          contentType: 'text/csv',
          body: chunkedStream(seededBytes(21 * MiB, 4)),
        })
        .catch((e: unknown) => e);
    });
    expect(outcome.result).toBeInstanceOf(ExportError);
    expect((outcome.result as ExportError).message).toMatch(/SlowDown/);
    expect(outcome.stats.faults['slow-down']).toBe(4);
    const listed = await reader.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'doomed/' }));
    expect(listed.Contents ?? []).toEqual([]);
    expect((await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual(
      [],
    );
  });

  it('gives up on a dead network with a NETWORK error and leaves nothing behind', async () => {
    const outcome = await withProxy(
      () => 'drop',
      async (endpoint) => {
        const sink = s3Sink(
          { bucket: BUCKET, endpoint, partSize: 5 * MiB, ...writer },
          { retry: fastRetry(3) },
        );
        return sink
          .write(runContext(), {
            key: 'dead/file.csv',
            contentType: 'text/csv',
            body: chunkedStream(seededBytes(100)),
          })
          .catch((e: unknown) => e);
      },
    );
    expect((outcome.result as ExportError).code).toBe('NETWORK');
    expect(outcome.stats.requests).toBe(3);
    const listed = await reader.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dead/' }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});
