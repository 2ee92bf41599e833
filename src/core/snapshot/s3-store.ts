/**
 * An ObjectStore over an S3 bucket (or any S3-compatible endpoint), through the sink's S3Client:
 * SigV4, the retry policy, ExpiredToken → refresh, and failures that say what to fix. Credentials
 * come from the location's auth plugin (`auth/accessKey`, `auth/assumedRole`, …) exactly as a
 * destination's sink gets them. Web-standard only: it runs on the Worker, Node and Deno.
 */
import { credentialProvider } from '../auth.ts';
import { ExportError } from '../errors.ts';
import type { Platform } from '../platform.ts';
import type { Registry } from '../registry.ts';
import type { RetryPolicy } from '../retry.ts';
import { checkEndpoint } from '../security/ssrf.ts';
import type { AuthStage, CredentialProvider, RunContext } from '../types.ts';
import { xmlBlocks, xmlValue } from '../xml.ts';
import { S3Client } from '../../plugins/sink/s3/client.ts';
import { sourceChanged } from './errors.ts';
import type { S3SnapshotLocation } from './schema.ts';
import type { ObjectInfo, ObjectStore } from './types.ts';

export interface S3StoreDeps {
  /** The host: its fetch, clock and environment (an assumed role's platform identity), its endpoint policy. */
  readonly platform: Platform;
  /** Where `auth/<method>` is found (the host's registry). */
  readonly registry: Registry;
  /** An assumed role's external id, as the host assigns it. */
  readonly externalId?: string;
  /** Signing credentials given directly (tests, embedders); else the location's auth plugin. */
  readonly credentials?: CredentialProvider;
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
  /** Keys per ListObjectsV2 page (S3's default and most: 1000). */
  readonly listPageSize?: number;
}

/**
 * The ObjectStore of an S3 location, signing with its auth plugin's credentials.
 *
 * @example const store = s3ObjectStore(source.location, { platform, registry: hostRegistry(platform) })
 */
export function s3ObjectStore(location: S3SnapshotLocation, deps: S3StoreDeps): ObjectStore {
  const { platform } = deps;
  if (location.endpoint !== undefined && platform.endpoints) checkEndpoint(location.endpoint, 'location.endpoint', platform.endpoints);
  const client = new S3Client({
    target: {
      bucket: location.bucket,
      region: location.region,
      ...(location.endpoint !== undefined && { endpoint: location.endpoint }),
      // S3-compatible stores (MinIO, R2, moto) are reached path-style unless told otherwise.
      forcePathStyle: location.forcePathStyle ?? location.endpoint !== undefined,
    },
    credentials: deps.credentials ?? authCredentials(location, deps),
    fetch: platform.fetch,
    ...(deps.retry && { retry: deps.retry }),
    ...(deps.signal && { signal: deps.signal }),
  });
  return s3Store(client, deps.listPageSize);
}

/** The credentials of a location's `auth/<method>` plugin, bound to the host's clock and fetch. */
function authCredentials(location: S3SnapshotLocation, deps: S3StoreDeps): CredentialProvider {
  const { method, ...options } = location.auth;
  const stages = deps.registry.create(
    { use: `auth/${method}`, options: { ...options, ...(deps.externalId !== undefined && { externalId: deps.externalId }) } },
    deps.platform,
    'location.auth',
  ) as AuthStage[];
  const ctx: RunContext = { ...deps.platform, runId: 'snapshot', scheduledTime: deps.platform.now(), ...(deps.signal && { signal: deps.signal }) };
  return credentialProvider(stages, ctx);
}

/** An ObjectStore over one S3 client (its bucket), listing `pageSize` keys per request. */
export function s3Store(client: S3Client, pageSize?: number): ObjectStore {
  const { bucket } = client.target;
  return {
    describe: `s3://${bucket}`,
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      let token: string | undefined;
      do {
        const query: Record<string, string> = {
          'list-type': '2',
          prefix,
          ...(pageSize !== undefined && { 'max-keys': String(pageSize) }),
          ...(token !== undefined && { 'continuation-token': token }),
        };
        const res = await client.request({ action: 's3:ListBucket', method: 'GET', query });
        const xml = await res.text();
        for (const block of xmlBlocks(xml, 'Contents')) {
          const key = xmlValue(block, 'Key');
          if (key === undefined) continue;
          const etag = xmlValue(block, 'ETag');
          yield { key, size: Number(xmlValue(block, 'Size') ?? 0), ...(etag && { etag }) };
        }
        token = xmlValue(xml, 'IsTruncated') === 'true' ? xmlValue(xml, 'NextContinuationToken') : undefined;
      } while (token !== undefined);
    },
    async head(key: string): Promise<ObjectInfo | undefined> {
      try {
        const res = await client.request({ action: 's3:GetObject', method: 'HEAD', key });
        await res.body?.cancel();
        const etag = res.headers.get('etag');
        return { key, size: Number(res.headers.get('content-length') ?? 0), ...(etag && { etag }) };
      } catch (error) {
        if (error instanceof ExportError && error.details?.status === 404 && error.details.s3Code !== 'NoSuchBucket') return undefined;
        throw error;
      }
    },
    async read(key: string, start: number, end: number, etag?: string): Promise<Uint8Array> {
      if (end <= start) return new Uint8Array(0);
      const res = await get(client, key, { range: `bytes=${start}-${end - 1}`, ...(etag !== undefined && { 'if-match': etag }) });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const range = /^bytes (\d+)-(\d+)\//.exec(res.headers.get('content-range') ?? '');
      const exact = res.status === 206 ? range !== null && Number(range[1]) === start && Number(range[2]) === end - 1 : start === 0;
      if (!exact || bytes.length !== end - start) {
        throw new ExportError('S3_ERROR', `S3 s3:GetObject on ${key} did not honour the byte range ${start}-${end - 1} (HTTP ${res.status}, ${bytes.length} bytes)`, {
          stage: 'source',
          details: { key, status: res.status, retryable: false },
        });
      }
      return bytes;
    },
    async stream(key: string, etag?: string): Promise<ReadableStream<Uint8Array>> {
      const res = await get(client, key, etag === undefined ? {} : { 'if-match': etag });
      if (!res.body) return new ReadableStream({ start: (c) => c.close() });
      return res.body;
    },
  };
}

/**
 * A GetObject: a missing object is SOURCE_NOT_FOUND naming the key (a missing bucket stays
 * S3_NO_SUCH_BUCKET), another version than `if-match` SOURCE_CHANGED.
 */
async function get(client: S3Client, key: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await client.request({ action: 's3:GetObject', method: 'GET', key, headers });
  } catch (error) {
    if (error instanceof ExportError && error.details?.status === 412) throw sourceChanged(`s3://${client.target.bucket}`, key);
    if (error instanceof ExportError && error.details?.status === 404 && error.details.s3Code !== 'NoSuchBucket') {
      throw new ExportError('SOURCE_NOT_FOUND', `No object at "${key}": check the source's key (or prefix).`, {
        stage: 'source',
        cause: error,
        details: { key },
      });
    }
    throw error;
  }
}
