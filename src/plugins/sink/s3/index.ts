import { definePlugin } from '../../../core/plugin.ts';
import { ExportError } from '../../../core/errors.ts';
import { S3Client } from './client.ts';
import type { CredentialProvider } from '../../../core/types.ts';
import { verifyBucketRegion } from './bucket.ts';
import type { RetryPolicy } from '../../../core/retry.ts';
import { type MultipartState, uploadObject } from './upload.ts';
import { checkEndpoint, type EndpointPolicy, endpointIssues, type ResolveHost } from '../../../core/security/ssrf.ts';
import type { RunContext, SinkFile, SinkResult, SinkStage } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, type S3SinkInput, type S3SinkOptions, s3SinkOptions } from './options.ts';
import { abortIncompleteUploadsRule, lifecycleNote, permissionPolicy } from './policy.ts';
import { testConnection } from './probe.ts';

export { s3SinkOptions };
export type { S3SinkInput, S3SinkOptions };

export interface S3SinkDeps {
  /** Signing credentials; defaults to the run's auth stages, then options.accessKeyId/secretAccessKey. */
  readonly credentials?: CredentialProvider;
  readonly retry?: RetryPolicy;
  /** Which endpoints this host may call (SSRF); absent: unrestricted (the operator's own CLI). */
  readonly endpoints?: EndpointPolicy;
  /** The host's resolver: a custom endpoint's addresses are checked too when it has one. */
  readonly resolveHost?: ResolveHost;
}

/** The S3 sink stage, with `remove` for replacing a run's files. */
export interface S3SinkStage extends SinkStage {
  readonly bucket: string;
  remove(ctx: RunContext, key: string): Promise<void>;
}

/**
 * Publishes files into an S3 bucket (or S3-compatible store): single PutObject for small files,
 * streaming multipart for large ones, SHA-256 checksums on every request, nothing at the key on failure.
 *
 * @example s3Sink({ bucket: 'acme-exports', region: 'eu-west-1', partSize: 8 * 1024 * 1024, concurrency: 4 }, { credentials })
 */
export function s3Sink(input: S3SinkInput, deps: S3SinkDeps = {}): S3SinkStage {
  const options = parse(s3SinkOptions, input, 'sink/s3 options');
  if (options.endpoint !== undefined && deps.endpoints) checkEndpoint(options.endpoint, 'endpoint', deps.endpoints);
  const fallback = staticCredentials(options);
  const target = {
    bucket: options.bucket,
    region: options.region,
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.forcePathStyle !== undefined && { forcePathStyle: options.forcePathStyle }),
  };
  // Injected credentials first, then the pipeline's auth stages, then keys given in the options.
  const client = (ctx: RunContext) =>
    new S3Client({
      target,
      credentials: deps.credentials ?? ctx.credentials ?? fallback,
      fetch: ctx.fetch,
      ...(deps.retry && { retry: deps.retry }),
    });
  const fullKey = (key: string) => joinKey(options.prefix, key);
  let regionChecked: Promise<void> | undefined;
  const checkRegion = (ctx: RunContext) => {
    if (!options.verifyRegion) return;
    regionChecked ??= verifyBucketRegion(client(ctx), ctx.signal).catch((error: unknown) => {
      regionChecked = undefined;
      throw error;
    });
    return regionChecked;
  };
  return Object.freeze({
    kind: 'sink',
    name: 's3',
    bucket: options.bucket,
    // A custom endpoint's name is resolved at configuration time and each address checked (the
    // served host's fetch checks again as it connects).
    check: async () =>
      options.endpoint !== undefined && deps.endpoints
        ? endpointIssues(options.endpoint, 'endpoint', deps.endpoints, deps.resolveHost)
        : [],
    async write(ctx: RunContext, file: SinkFile): Promise<SinkResult> {
      const key = fullKey(file.key);
      await checkRegion(ctx);
      const resume = await ctx.uploads?.get(key);
      const existed = resume ? undefined : await exists(client(ctx), key, ctx.signal);
      const result = await uploadObject(client(ctx), file.body, {
        key,
        contentType: file.contentType,
        ...(file.contentEncoding !== undefined && { contentEncoding: file.contentEncoding }),
        settings: options,
        partSize: options.partSize ?? DEFAULT_PART_SIZE,
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        ...(options.multipartThreshold !== undefined && { multipartThreshold: options.multipartThreshold }),
        ...(ctx.signal && { signal: ctx.signal }),
        ...(resume && { resume }),
        ...(ctx.uploads && { onState: (state: MultipartState) => ctx.uploads?.put(state) }),
        onWarning: (message, fields) => ctx.log?.('warn', message, fields),
      });
      await ctx.uploads?.delete(key);
      return { key, size: result.size, location: `s3://${options.bucket}/${key}`, ...(existed && { replaced: true }) };
    },
    async remove(ctx: RunContext, key: string): Promise<void> {
      const res = await client(ctx).request({
        action: 's3:DeleteObject',
        method: 'DELETE',
        key: fullKey(key),
      });
      await res.body?.cancel();
    },
    policy: (folderPath: string) =>
      permissionPolicy({
        bucket: options.bucket,
        folderPath: joinKey(options.prefix, folderPath),
        tags: options.tags !== undefined && Object.keys(options.tags).length > 0,
        acl: options.acl !== undefined,
        ...(options.kmsKeyId !== undefined && { kmsKeyId: options.kmsKeyId, region: options.region }),
      }),
    lifecycle: (folderPath: string) => ({
      configuration: abortIncompleteUploadsRule(joinKey(options.prefix, folderPath)),
      note: lifecycleNote(target),
    }),
    probe: (ctx: RunContext, folderPath: string) => testConnection({ client: client(ctx), folderPath: joinKey(options.prefix, folderPath) }),
    toJSON: () => ({
      kind: 'sink',
      name: 's3',
      bucket: options.bucket,
      region: options.region,
      endpoint: options.endpoint,
      prefix: options.prefix,
    }),
  });
}

/**
 * Whether an object is at `key` (HeadObject, under s3:GetObject): true, false, or undefined when S3
 * would not say (no permission, or an answer without a body to explain it) — then the run treats
 * the file as its own. Only an abort stops the export here; the upload itself reports real failures.
 */
async function exists(client: S3Client, key: string, signal?: AbortSignal): Promise<boolean | undefined> {
  try {
    const res = await client.request({ action: 's3:GetObject', method: 'HEAD', key, ...(signal && { signal }) });
    await res.body?.cancel();
    return true;
  } catch (error) {
    if (error instanceof ExportError && error.code === 'ABORTED') throw error;
    return error instanceof ExportError && error.details?.status === 404 ? false : undefined;
  }
}

function staticCredentials(options: S3SinkOptions): CredentialProvider {
  const { accessKeyId, secretAccessKey, sessionToken } = options;
  return async () => {
    if (!accessKeyId || !secretAccessKey) {
      throw new ExportError(
        'AUTH_FAILED',
        'sink/s3 has no credentials: configure an auth plugin (accessKey or assumedRole)',
        { plugin: 'sink/s3', stage: 'sink' },
      );
    }
    return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) };
  };
}

/** `prefix/key` with exactly one slash between them. */
function joinKey(prefix: string | undefined, key: string): string {
  if (!prefix) return key;
  return `${prefix.replace(/\/+$/, '')}/${key.replace(/^\/+/, '')}`;
}

export const plugin = definePlugin({
  name: 'sink/s3',
  description:
    'Amazon S3 or an S3-compatible store: single put or streaming multipart, SSE, ACL, storage class, tags, checksums.',
  options: s3SinkOptions,
  secrets: ['secretAccessKey', 'sessionToken'],
  create: (options, platform) =>
    s3Sink(
      {
        ...options,
        // The host's sizing for its memory (a Worker: smaller parts, fewer in flight) unless set.
        partSize: options.partSize ?? platform.multipart?.partSize ?? DEFAULT_PART_SIZE,
        concurrency: options.concurrency ?? platform.multipart?.concurrency ?? DEFAULT_CONCURRENCY,
      },
      {
        ...(platform.endpoints && { endpoints: platform.endpoints }),
        ...(platform.resolveHost && { resolveHost: (name: string) => platform.resolveHost!(name) }),
      },
    ),
});
