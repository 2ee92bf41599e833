/**
 * One S3 request at a time, done right: SigV4 (aws4fetch), canonical key encoding, the retry policy
 * around each attempt, ExpiredToken → refresh and retry once, and failures translated into
 * ExportErrors that say what to fix. Web-standard only: fetch, crypto.subtle, AbortSignal.
 */
import { AwsV4Signer } from 'aws4fetch';
import { ExportError } from '../../../core/errors.ts';
import type { CredentialProvider, Credentials } from '../../../core/types.ts';
import { translateFetchFailure, translateS3Error } from './errors.ts';
import { sha256 } from './hash.ts';
import { encodeKey, encodeQuery } from './keys.ts';
import { type RetryPolicy, retryPolicy, withRetry } from '../../../core/retry.ts';

/** Where objects go. A custom endpoint defaults to path-style addressing, AWS to virtual-hosted. */
export interface S3Target {
  readonly bucket: string;
  readonly region: string;
  /** S3-compatible endpoint, e.g. `http://127.0.0.1:9000`; defaults to AWS's regional endpoint. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
}


export interface S3Request {
  /** IAM action the request needs, e.g. `s3:PutObject`; named in error messages. */
  readonly action: string;
  readonly method: string;
  readonly key?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** Must be re-sendable (bytes or a string), never a stream: retries send it again. */
  readonly body?: BodyInit | Uint8Array;
  readonly signal?: AbortSignal;
}

export interface S3ClientOptions {
  readonly target: S3Target;
  readonly credentials: CredentialProvider;
  readonly fetch: typeof fetch;
  readonly retry?: RetryPolicy;
  /** Aborts every request of this client (the run's signal). */
  readonly signal?: AbortSignal;
}

/** A minimal S3 client: one signed, retried, translated request per call. */
export class S3Client {
  readonly target: S3Target;
  private readonly credentials: CredentialProvider;
  private readonly fetcher: typeof fetch;
  private readonly retry: RetryPolicy;
  private readonly signal: AbortSignal | undefined;
  private readonly base: URL;
  private readonly pathStyle: boolean;

  constructor(opts: S3ClientOptions) {
    this.target = opts.target;
    this.credentials = opts.credentials;
    this.fetcher = opts.fetch;
    this.retry = opts.retry ?? retryPolicy();
    this.signal = opts.signal;
    const { bucket, region, endpoint } = opts.target;
    this.base = new URL(endpoint ?? `https://s3.${region}.amazonaws.com`);
    this.pathStyle = opts.target.forcePathStyle ?? (endpoint !== undefined || bucket.includes('.'));
  }

  /** The URL of an object (or of the bucket without a key), key segments RFC 3986-encoded. */
  objectUrl(key?: string): string {
    const origin = `${this.base.protocol}//${this.pathStyle ? '' : `${this.target.bucket}.`}${this.base.host}`;
    const basePath = this.base.pathname.replace(/\/+$/, '');
    const bucketPath = this.pathStyle ? `${basePath}/${this.target.bucket}` : basePath;
    if (key === undefined) return `${origin}${bucketPath || '/'}`;
    return `${origin}${bucketPath}/${encodeKey(key)}`;
  }

  /** Sends one request with retries; resolves with a 2xx response or throws a translated ExportError. */
  async request(req: S3Request): Promise<Response> {
    try {
      return await this.withRetries(req, false);
    } catch (error) {
      if (!(error instanceof ExportError) || error.code !== 'S3_EXPIRED_TOKEN') throw error;
      return this.withRetries(req, true);
    }
  }

  private withRetries(req: S3Request, forceRefresh: boolean): Promise<Response> {
    const signal = anySignal([this.signal, req.signal]);
    const retryable = (e: unknown) => e instanceof ExportError && e.details?.retryable === true;
    return withRetry(
      this.retry,
      (n) => this.attempt(req, forceRefresh && n === 1, signal),
      retryable,
      signal,
    );
  }

  private async attempt(
    req: S3Request,
    forceRefresh: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const creds = await this.credentials(forceRefresh ? { forceRefresh: true } : undefined);
    const signed = await this.sign(req, creds);
    const timeout = AbortSignal.timeout(this.retry.attemptTimeoutMs);
    let res: Response;
    try {
      res = await this.fetcher(signed.url, {
        method: req.method,
        headers: signed.headers,
        body: req.body as BodyInit | undefined,
        redirect: 'manual',
        signal: anySignal([signal, timeout]),
      });
    } catch (error) {
      if (signal?.aborted)
        throw new ExportError('ABORTED', `S3 ${req.action} was aborted`, {
          stage: 'sink',
          cause: signal.reason,
        });
      throw translateFetchFailure(error, req.action, this.base.origin);
    }
    if (res.status < 300) return res;
    const body = await readErrorBody(req.method, res);
    const { bucket, region } = this.target;
    throw translateS3Error({
      status: res.status,
      headers: res.headers,
      body,
      action: req.action,
      bucket,
      region,
      ...(req.key !== undefined && { key: req.key }),
      accessKeyId: creds.accessKeyId,
      endpoint: this.base.origin,
    });
  }

  private async sign(req: S3Request, creds: Credentials): Promise<{ url: URL; headers: Headers }> {
    const headers: Record<string, string> = { ...req.headers };
    const hasHash = Object.keys(headers).some((h) => h.toLowerCase() === 'x-amz-content-sha256');
    if (!hasHash && req.body instanceof Uint8Array)
      headers['x-amz-content-sha256'] = (await sha256(req.body)).hex;
    if (!hasHash && typeof req.body === 'string')
      headers['x-amz-content-sha256'] = (await sha256(new TextEncoder().encode(req.body))).hex;
    if (req.body instanceof ReadableStream)
      throw new ExportError('INTERNAL', `S3 ${req.action}: a stream body cannot be retried; buffer it first`);
    const signer = new AwsV4Signer({
      method: req.method,
      url: this.objectUrl(req.key) + encodeQuery(req.query),
      headers,
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken !== undefined && { sessionToken: creds.sessionToken }),
      service: 's3',
      region: this.target.region,
    });
    const signed = await signer.sign();
    return { url: signed.url, headers: signed.headers };
  }
}

async function readErrorBody(method: string, res: Response): Promise<string> {
  if (method === 'HEAD') return '';
  try {
    return await res.text();
  } catch {
    return '';
  }
}

/** One signal that aborts when any of the given ones does. */
function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}
