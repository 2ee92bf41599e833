/** Deterministic test bodies, streams and run contexts for the S3 integration tests. */
import { createHash } from 'node:crypto';
import type { RunContext } from '../../src/core/types.ts';

/** Seeded pseudo-random bytes (xorshift32): incompressible and reproducible. */
export function seededBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
    out[i + 1] = (x >>> 8) & 0xff;
    out[i + 2] = (x >>> 16) & 0xff;
    out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

/** A stream over `bytes` in uneven chunks, so part cutting crosses chunk boundaries. */
export function chunkedStream(bytes: Uint8Array, chunkSize = 100_003): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

/** A stream that yields `bytes` and then errors, like a failing upstream stage. */
export function failingStream(bytes: Uint8Array, message: string): ReadableStream<Uint8Array> {
  const inner = chunkedStream(bytes).getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await inner.read();
      if (done) controller.error(new Error(message));
      else controller.enqueue(value);
    },
  });
}

/** A run context with real fetch and fixed time. */
export function runContext(overrides: Partial<RunContext> = {}): RunContext {
  return {
    runId: 'run-1',
    scheduledTime: new Date('2026-01-02T03:04:05Z'),
    now: () => new Date('2026-01-02T03:04:05Z'),
    uuid: () => '00000000-0000-4000-8000-000000000000',
    fetch: globalThis.fetch,
    ...overrides,
  };
}

/** The least-privilege policy an exporting user needs on `bucket` (see DESIGN.md §1). */
export function writerPolicy(
  bucket: string,
  objectActions = [
    's3:PutObject',
    's3:GetObject',
    's3:DeleteObject',
    's3:AbortMultipartUpload',
    's3:ListMultipartUploadParts',
  ],
): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        Resource: `arn:aws:s3:::${bucket}`,
      },
      { Effect: 'Allow', Action: objectActions, Resource: `arn:aws:s3:::${bucket}/*` },
    ],
  };
}

/** Length and SHA-256 of bytes: compare these, not the arrays (deep-equal on MiB arrays is very slow). */
export function digest(bytes: Uint8Array): string {
  return `${bytes.byteLength}:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Just the key pair of a created user (sink options reject unknown fields such as `arn`). */
export function keyPair(user: { accessKeyId: string; secretAccessKey: string }): {
  accessKeyId: string;
  secretAccessKey: string;
} {
  return { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
}
