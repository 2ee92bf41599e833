/**
 * Publishes a byte stream at a key, atomically: a single PutObject for small bodies, otherwise a
 * streaming multipart upload (parts cut from the stream, bounded concurrency, memory bounded by
 * (concurrency + 1) × partSize) that is completed only when every part is in, and aborted on any
 * failure so nothing appears at the key and no upload stays open. Resumable via ListParts. When an
 * abort is refused, the error thrown names the upload left open and the command that removes it
 * (`details.leftoverUploads`).
 */
import { ExportError, withLeftovers } from '../../../core/errors.ts';
import { concatBytes } from '../../../core/streams.ts';
import type { LeftoverUpload } from '../../../core/types.ts';
import type { S3Client } from './client.ts';
import { sha256 } from './hash.ts';
import { type ObjectSettings, objectHeaders } from './headers.ts';
import {
  type UploadedPart,
  abortCommand,
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
} from './multipart.ts';
import { PartReader } from './parts.ts';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 4;
const MAX_PARTS = 10_000;

/** What a durable host persists to resume an interrupted multipart upload. */
export interface MultipartState {
  readonly key: string;
  readonly uploadId: string;
  /** Parts S3 has acknowledged so far, by part number. */
  readonly parts: readonly UploadedPart[];
}

export interface UploadOptions {
  readonly key: string;
  readonly contentType?: string;
  readonly contentEncoding?: string;
  readonly settings?: ObjectSettings;
  /** Bytes per part, ≥ 5 MiB; defaults to 8 MiB. */
  readonly partSize?: number;
  /** Parts in flight at once; defaults to 4. */
  readonly concurrency?: number;
  /** Bodies up to this size go in one PutObject; defaults to partSize. */
  readonly multipartThreshold?: number;
  readonly signal?: AbortSignal;
  /** Continue this upload instead of starting one: parts ListParts reports are not sent again. */
  readonly resume?: { readonly uploadId: string };
  /** Called after the upload starts and after every part, so a host can persist progress. */
  onState?(state: MultipartState): void | Promise<void>;
  /** Abort the multipart upload when anything fails; defaults to true. */
  readonly abortOnFailure?: boolean;
  /** Told when cleaning up after a failure itself fails. */
  onWarning?(message: string, fields: Record<string, unknown>): void;
}

export interface UploadResult {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  /** Present for multipart uploads. */
  readonly uploadId?: string;
  readonly parts?: number;
}

/** Uploads `body` to `opts.key`; see the module comment for the guarantees. */
export async function uploadObject(
  client: S3Client,
  body: ReadableStream<Uint8Array>,
  opts: UploadOptions,
): Promise<UploadResult> {
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE)
    throw new ExportError(
      'CONFIG_INVALID',
      `partSize must be at least ${MIN_PART_SIZE} bytes (5 MiB); received ${partSize}`,
    );
  const reader = new PartReader(body, partSize, Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY) + 1);
  const head: Uint8Array[] = [];
  if (!opts.resume) {
    const threshold = opts.multipartThreshold ?? partSize;
    let size = 0;
    for (;;) {
      const part = await guarded(reader, () => reader.next());
      if (!part) return putObject(client, concatBytes(head), opts);
      head.push(part);
      size += part.byteLength;
      if (size > threshold) break;
      if (await guarded(reader, () => reader.atEnd())) return putObject(client, concatBytes(head), opts);
      // More bytes follow, so a body of exactly the threshold is over it: no need to hold another part.
      if (size === threshold) break;
    }
  }
  return multipartUpload(client, reader, head, { ...opts, partSize });
}

/** `read` of the reader; when the source fails, the reader is cancelled before the error goes on. */
async function guarded<T>(reader: PartReader, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    await reader.cancel(error);
    throw error;
  }
}

/** One PutObject with a SHA-256 checksum. */
export async function putObject(
  client: S3Client,
  bytes: Uint8Array,
  opts: UploadOptions,
): Promise<UploadResult> {
  const hash = await sha256(bytes);
  const res = await client.request({
    action: 's3:PutObject',
    method: 'PUT',
    key: opts.key,
    headers: {
      ...objectHeaders(opts.settings ?? {}, opts.contentType, opts.contentEncoding),
      'x-amz-content-sha256': hash.hex,
      'x-amz-checksum-sha256': hash.base64,
    },
    body: bytes,
    ...(opts.signal && { signal: opts.signal }),
  });
  await res.body?.cancel();
  return { key: opts.key, size: bytes.byteLength, etag: res.headers.get('etag') ?? '' };
}

async function multipartUpload(
  client: S3Client,
  reader: PartReader,
  head: Uint8Array[],
  opts: UploadOptions & { partSize: number },
): Promise<UploadResult> {
  const { key, signal } = opts;
  let uploadId: string;
  let existing: UploadedPart[];
  try {
    [uploadId, existing] = await startOrResume(client, opts);
  } catch (error) {
    await reader.cancel(error);
    throw error;
  }
  const run = new PartRun(client, key, uploadId, opts);
  try {
    run.adopt(existing);
    await run.report();
    const size = await run.uploadAll(reader, head);
    const etag = await complete(client, key, uploadId, run.completed(), size, signal);
    // An orphan that cannot be aborted is only warned about: this export itself succeeded.
    await sweepOrphans(client, key, uploadId, opts);
    return { key, size, etag, uploadId, parts: run.completed().length };
  } catch (error) {
    await reader.cancel(error);
    await run.settle();
    if (opts.abortOnFailure === false) throw error;
    const parts = run.completed();
    const size = { bytes: parts.reduce((n, p) => n + p.size, 0), parts: parts.length };
    const left = await abortQuietly(client, key, uploadId, opts, size);
    const orphans = await sweepOrphans(client, key, uploadId, opts);
    throw withLeftovers(error, [...(left ? [left] : []), ...orphans]);
  }
}

/**
 * Aborts uploads still open for `key` once ours is settled. A CreateMultipartUpload whose answer
 * was lost and retried leaves an upload nobody knows the id of; keys are per run, so any other open
 * upload of this key is such an orphan (or one of an earlier, crashed attempt of the same run).
 * Needs s3:ListBucketMultipartUploads on the bucket; without it, a warning says to rely on a
 * lifecycle rule (AbortIncompleteMultipartUpload) instead.
 */
async function sweepOrphans(client: S3Client, key: string, ours: string, opts: UploadOptions): Promise<LeftoverUpload[]> {
  let open: { key: string; uploadId: string }[];
  try {
    open = (await listMultipartUploads(client, key)).filter((u) => u.key === key && u.uploadId !== ours);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    opts.onWarning?.(
      `Could not look for orphaned multipart uploads of ${key} (grant s3:ListBucketMultipartUploads or add an AbortIncompleteMultipartUpload lifecycle rule): ${reason}`,
      { key },
    );
    return [];
  }
  const left: LeftoverUpload[] = [];
  for (const upload of open) {
    const leftover = await abortQuietly(client, key, upload.uploadId, opts);
    if (leftover) left.push(leftover);
  }
  return left;
}

/**
 * CompleteMultipartUpload, tolerating a retry of a completion whose answer was lost: S3 then
 * answers NoSuchUpload, and the object at the key (with `-<parts>` ETag and our size) proves success.
 */
async function complete(
  client: S3Client,
  key: string,
  uploadId: string,
  parts: UploadedPart[],
  size: number,
  signal?: AbortSignal,
): Promise<string> {
  try {
    return await completeMultipartUpload(client, key, uploadId, parts, signal);
  } catch (error) {
    if (!(error instanceof ExportError) || error.details?.s3Code !== 'NoSuchUpload') throw error;
    const head = await client
      .request({ action: 's3:GetObject', method: 'HEAD', key, ...(signal && { signal }) })
      .catch(() => undefined);
    const etag = head?.headers.get('etag') ?? '';
    if (etag.endsWith(`-${parts.length}"`) && head?.headers.get('content-length') === String(size))
      return etag;
    throw error;
  }
}

/** The upload to continue (with the parts S3 holds) or a new one when there is none or it is gone. */
async function startOrResume(client: S3Client, opts: UploadOptions): Promise<[string, UploadedPart[]]> {
  if (opts.resume) {
    try {
      return [opts.resume.uploadId, await listParts(client, opts.key, opts.resume.uploadId, opts.signal)];
    } catch (error) {
      if (!(error instanceof ExportError) || error.details?.s3Code !== 'NoSuchUpload') throw error;
    }
  }
  const headers = objectHeaders(opts.settings ?? {}, opts.contentType, opts.contentEncoding);
  return [await createMultipartUpload(client, opts.key, headers, opts.signal), []];
}

/**
 * Aborts an upload; when that fails, warns and returns what is left open (`size`: the parts this run
 * knows were stored; an orphan's are unknown) with the command that removes it.
 */
async function abortQuietly(
  client: S3Client,
  key: string,
  uploadId: string,
  opts: UploadOptions,
  size: { bytes: number; parts: number } = { bytes: 0, parts: 0 },
): Promise<LeftoverUpload | undefined> {
  try {
    await abortMultipartUpload(client, key, uploadId);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const command = abortCommand(client.target, key, uploadId);
    opts.onWarning?.(
      `Could not abort multipart upload of ${key}; it stays open until a lifecycle rule removes it: ${reason}`,
      { key, uploadId, bytes: size.bytes, command },
    );
    const { bucket } = client.target;
    return { location: `s3://${bucket}/${key}`, bucket, key, uploadId, ...size, reason, command };
  }
}

/** The parts of one multipart upload: which are done, which are in flight, the first failure. */
class PartRun {
  private readonly done = new Map<number, UploadedPart>();
  private readonly existing = new Map<number, UploadedPart>();
  private readonly inflight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly key: string,
    private readonly uploadId: string,
    private readonly opts: UploadOptions & { partSize: number },
  ) {}

  /** Parts S3 already holds (resume). */
  adopt(parts: readonly UploadedPart[]): void {
    for (const p of parts) this.existing.set(p.partNumber, p);
  }

  completed(): UploadedPart[] {
    return [...this.done.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  async report(): Promise<void> {
    await this.opts.onState?.({ key: this.key, uploadId: this.uploadId, parts: this.completed() });
  }

  /** Reads and uploads every part with bounded concurrency; resolves with the total size. */
  async uploadAll(reader: PartReader, head: Uint8Array[]): Promise<number> {
    const concurrency = Math.max(1, this.opts.concurrency ?? DEFAULT_CONCURRENCY);
    let size = 0;
    for (let n = 1; ; n++) {
      const part = head.shift() ?? (await reader.next());
      this.throwIfFailed();
      if (!part) break;
      if (n > MAX_PARTS)
        throw new ExportError(
          'SINK_FAILED',
          `${this.key} needs more than ${MAX_PARTS} parts: increase partSize`,
          { stage: 'sink' },
        );
      size += part.byteLength;
      if (await this.alreadyUploaded(n, part)) {
        reader.release(part);
        continue;
      }
      this.start(n, part, reader);
      if (this.inflight.size >= concurrency) await Promise.race(this.inflight);
    }
    await Promise.all(this.inflight);
    return size;
  }

  /** Waits for in-flight parts after a failure, ignoring their outcome. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }

  private start(partNumber: number, bytes: Uint8Array, reader: PartReader): void {
    const upload = uploadPart(this.client, this.key, this.uploadId, partNumber, bytes, this.opts.signal);
    const task = upload.then(async (part) => {
      this.done.set(partNumber, part);
      await this.report();
    });
    const tracked: Promise<void> = task.finally(() => {
      this.inflight.delete(tracked);
      // Only after success: a failed request may still be reading the body when its promise rejects.
      upload.then(() => reader.release(bytes), () => undefined);
    });
    tracked.catch((error: unknown) => {
      this.failure ??= { error };
    });
    this.inflight.add(tracked);
  }

  private async alreadyUploaded(partNumber: number, bytes: Uint8Array): Promise<boolean> {
    const prior = this.existing.get(partNumber);
    if (!prior || prior.size !== bytes.byteLength) return false;
    if (prior.checksumSha256 && prior.checksumSha256 !== (await sha256(bytes)).base64) return false;
    this.done.set(partNumber, prior);
    return true;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
