/**
 * Shared pieces of the reliability suite: deterministic rows, a fast seeded retry policy, fetch
 * wrappers that inject faults the proxy cannot (slow and ExpiredToken responses), and the audit
 * that counts lost, duplicated and partial objects and open multipart uploads after runs.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client as SdkS3Client,
} from '@aws-sdk/client-s3';
import type { ExportResult } from '../../src/core/pipeline.ts';
import { retryPolicy } from '../../src/core/retry.ts';
import type { Row, Runtime, Schema } from '../../src/core/types.ts';

export const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'email', type: 'string' },
  { name: 'note', type: 'string' },
  { name: 'score', type: 'double' },
];

/** Row `i`: a quote, a comma and a null now and then, so encoders do real work. */
export function row(i: number): Row {
  return { id: i, email: `user${i}@example.com`, note: i % 5 === 0 ? null : `say "hi", ${i}`, score: i / 8 };
}

export function* rows(n: number, from = 0): Generator<Row> {
  for (let i = from; i < from + n; i++) yield row(i);
}

/** A seeded generator (mulberry32), so every fault plan is reproducible. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Backoff without waiting: the jitter is seeded and sleeping is a no-op. */
export function fastRetry(maxAttempts: number) {
  return retryPolicy({ maxAttempts, random: seeded(42), sleep: async () => undefined });
}

export function runtime(fetchImpl: typeof fetch = globalThis.fetch, runId = 'run'): Runtime {
  return { now: () => new Date('2026-03-04T05:06:07Z'), uuid: () => `${runId}-${crypto.randomUUID()}`, fetch: fetchImpl };
}

export interface FetchFaults {
  readonly fetch: typeof fetch;
  readonly injected: () => number;
}

/** Delays a seeded share of responses (a slow network or a throttled server), up to `maxMs`. */
export function slowFetch(seed: number, rate: number, maxMs: number, base: typeof fetch = fetch): FetchFaults {
  const random = seeded(seed);
  let injected = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const res = await base(input, init);
    if (random() < rate) {
      injected++;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * maxMs)));
    }
    return res;
  };
  return { fetch: wrapped, injected: () => injected };
}

const EXPIRED =
  '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><RequestId>R1</RequestId></Error>';

export interface Expiring extends FetchFaults {
  /** The credential provider a sink signs with; `forceRefresh` renews the (simulated) session. */
  readonly credentials: (options?: { forceRefresh?: boolean }) => Promise<{ accessKeyId: string; secretAccessKey: string }>;
  readonly refreshes: () => number;
}

/**
 * Temporary credentials that lapse every `every` requests, mid-run: from then on every request
 * gets 400 ExpiredToken (as S3 answers) until the sink asks its provider for fresh credentials.
 */
export function expiringCredentials(
  keys: { accessKeyId: string; secretAccessKey: string },
  every: number,
  base: typeof fetch = fetch,
): Expiring {
  let requests = 0;
  let expired = false;
  let injected = 0;
  let refreshes = 0;
  const wrapped: typeof fetch = async (input, init) => {
    if (++requests % every === 0) expired = true;
    if (expired) {
      injected++;
      await (init?.body as ReadableStream | undefined)?.cancel?.().catch(() => {});
      return new Response(EXPIRED, { status: 400, headers: { 'content-type': 'application/xml' } });
    }
    return base(input, init);
  };
  return {
    fetch: wrapped,
    injected: () => injected,
    refreshes: () => refreshes,
    credentials: async (options) => {
      if (options?.forceRefresh) {
        refreshes++;
        expired = false;
      }
      return keys;
    },
  };
}

export interface Audit {
  /** Files a successful run reported that are missing or differ in S3. */
  lost: number;
  /** Objects holding the same bytes as a reported file under another key, or a key reported twice. */
  duplicated: number;
  /** Other objects under the prefix: leftovers of failed runs, partial bodies. */
  partial: number;
  openUploads: number;
  objects: number;
}

async function sha256Of(reader: SdkS3Client, bucket: string, key: string): Promise<string> {
  const got = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
  return createHash('sha256').update(bytes).digest('hex');
}

/** Compares what is in the bucket under `prefix` with what the successful runs reported. */
export async function audit(reader: SdkS3Client, bucket: string, prefix: string, runs: readonly ExportResult[]): Promise<Audit> {
  const listed = await reader.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const objects = new Map((listed.Contents ?? []).map((o) => [o.Key!, o.Size ?? 0]));
  const reported = runs.flatMap((r) => [...r.files, ...(r.manifest ? [r.manifest] : [])]);
  let lost = 0;
  for (const file of reported) {
    const size = objects.get(file.key);
    const expected = 'sha256' in file ? file.sha256 : undefined;
    if (size !== file.size || (expected && (await sha256Of(reader, bucket, file.key)) !== expected)) lost++;
  }
  const keys = new Set(reported.map((f) => f.key));
  const hashes = new Set(runs.flatMap((r) => r.files.map((f) => f.sha256)));
  let duplicated = reported.length - keys.size;
  let partial = 0;
  for (const key of [...objects.keys()].filter((k) => !keys.has(k))) {
    if (hashes.has(await sha256Of(reader, bucket, key))) duplicated++;
    else partial++;
  }
  const uploads = await reader.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return {
    lost,
    duplicated,
    partial,
    openUploads: (uploads.Uploads ?? []).length,
    objects: objects.size,
  };
}

/** One line of the results table (printed, and copied into docs/RELIABILITY.md). */
export function report(scenario: string, fields: Record<string, number | string>): void {
  console.log(`RELIABILITY | ${scenario} | ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' | ')}`);
}
