/**
 * STS AssumeRole over plain fetch (aws4fetch SigV4), and a cache that shares one in-flight call
 * among concurrent callers and refreshes shortly before the temporary credentials expire.
 * Workers have no DOM parser, so the small STS XML responses are read with `xmlValue`.
 */
import { AwsV4Signer } from 'aws4fetch';
import { ExportError } from '../../../core/errors.ts';
import type { Credentials } from '../../../core/types.ts';
import {
  type RetryPolicy,
  isRetryableFailure,
  isRetryableResponse,
  retryPolicy,
  withRetry,
} from '../../../core/retry.ts';
import { xmlBlocks, xmlValue } from '../../../core/xml.ts';
import { networkFailure } from '../../../core/security/failure.ts';
import { endpointRefusal } from '../../../core/security/ssrf.ts';

/** Where STS lives: the global endpoint by default, or a regional / test endpoint. */
export interface StsTarget {
  /** Defaults to `https://sts.amazonaws.com`. */
  readonly endpoint?: string;
  /** Signing region; the global endpoint signs as `us-east-1`. */
  readonly region?: string;
}

export interface AssumeRoleParams {
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly externalId?: string;
  /** 900–43200; STS defaults to 3600. */
  readonly durationSeconds?: number;
}

export interface AssumeRoleDeps extends StsTarget {
  /** The platform's own long-lived (or session) credentials that call STS. */
  readonly credentials: Credentials;
  readonly fetch: typeof fetch;
  /** Signing time; injected so tests are deterministic. */
  readonly now: () => Date;
  /** Defaults to the S3 client's production policy. */
  readonly retry?: RetryPolicy;
}

/** Temporary credentials, always with an expiration. */
export interface TemporaryCredentials extends Credentials {
  readonly sessionToken: string;
  readonly expiration: Date;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  readonly assumedRoleArn?: string;
}

const STS_VERSION = '2011-06-15';

/**
 * Calls STS AssumeRole with the platform credentials and returns the role's temporary credentials.
 * Throttling, 5xx and network failures are retried (full-jitter backoff); other failures become
 * AUTH_FAILED errors that say what to fix (trust policy, external id, platform key).
 *
 * @example await assumeRole({ credentials, fetch, now: () => new Date() }, { roleArn, roleSessionName: 'edge-export', externalId })
 */
export function assumeRole(deps: AssumeRoleDeps, params: AssumeRoleParams): Promise<TemporaryCredentials> {
  const form = new URLSearchParams({ Action: 'AssumeRole', Version: STS_VERSION });
  form.set('RoleArn', params.roleArn);
  form.set('RoleSessionName', params.roleSessionName);
  if (params.externalId !== undefined) form.set('ExternalId', params.externalId);
  if (params.durationSeconds !== undefined) form.set('DurationSeconds', String(params.durationSeconds));
  const retryable = (e: unknown) => e instanceof ExportError && e.details?.retryable === true;
  return withRetry(deps.retry ?? retryPolicy(), () => attempt(deps, params, form.toString()), retryable);
}

/** One signed AssumeRole request (signed afresh, so a retry carries a current timestamp). */
async function attempt(
  deps: AssumeRoleDeps,
  params: AssumeRoleParams,
  body: string,
): Promise<TemporaryCredentials> {
  const { accessKeyId, secretAccessKey, sessionToken } = deps.credentials;
  const signed = await new AwsV4Signer({
    method: 'POST',
    url: deps.endpoint ?? 'https://sts.amazonaws.com/',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    accessKeyId,
    secretAccessKey,
    ...(sessionToken !== undefined && { sessionToken }),
    service: 'sts',
    region: deps.region ?? 'us-east-1',
    datetime: amzDate(deps.now()),
  }).sign();
  let response: Response;
  try {
    // STS never redirects: a redirect is answered, not followed (a custom endpoint must not bounce the
    // platform's signed request to another host).
    response = await deps.fetch(signed.url.toString(), { method: 'POST', headers: signed.headers, body, redirect: 'manual' });
  } catch (cause) {
    const refused = endpointRefusal(cause);
    if (refused) throw new ExportError('ENDPOINT_REFUSED', `STS: the endpoint was ${refused.message}`, { cause, stage: 'auth', details: { retryable: false } });
    // The class of failure only: the runtime's text names the address it tried.
    throw new ExportError('NETWORK', `Cannot reach STS: ${networkFailure(cause)}`, {
      cause,
      stage: 'auth',
      details: { retryable: isRetryableFailure(cause) },
    });
  }
  const xml = await response.text();
  if (!response.ok) throw stsError(response.status, xml, params, accessKeyId);
  return parseAssumeRoleResponse(xml);
}

/** Reads the credentials out of an AssumeRole response body. */
export function parseAssumeRoleResponse(xml: string): TemporaryCredentials {
  const creds = xmlBlocks(xml, 'Credentials')[0] ?? '';
  const accessKeyId = xmlValue(creds, 'AccessKeyId')?.trim();
  const secretAccessKey = xmlValue(creds, 'SecretAccessKey')?.trim();
  const sessionToken = xmlValue(creds, 'SessionToken')?.trim();
  const expiration = xmlValue(creds, 'Expiration')?.trim();
  const expires = expiration ? new Date(expiration) : undefined;
  if (!accessKeyId || !secretAccessKey || !sessionToken || !expires || Number.isNaN(expires.getTime())) {
    throw new ExportError('AUTH_FAILED', 'STS AssumeRole answered without complete credentials', {
      stage: 'auth',
    });
  }
  const arn = xmlValue(xmlBlocks(xml, 'AssumedRoleUser')[0] ?? '', 'Arn')?.trim();
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration: expires,
    ...(arn && { assumedRoleArn: arn }),
  };
}

const STS_CODE = /^[A-Z][A-Za-z0-9.]{1,63}$/;

/** Turns an STS error response into a message naming what the user (or operator) must fix. */
export function stsError(
  status: number,
  xml: string,
  params: AssumeRoleParams,
  platformKeyId: string,
): ExportError {
  // Only what has the shape STS gives is used: its error code, request id and the caller's ARN; its
  // message text is never repeated (an STS endpoint may be the user's choice, and anything's answer).
  const given = xmlValue(xml, 'Code')?.trim();
  const code = given && STS_CODE.test(given) ? given : `HTTP ${status}`;
  const raw = xmlValue(xml, 'Message') ?? '';
  const id = xmlValue(xml, 'RequestId')?.trim();
  const requestId = id && /^[A-Za-z0-9-]{1,128}$/.test(id) ? id : undefined;
  const retryable = isRetryableResponse(status, code);
  const details = {
    status,
    stsCode: code,
    roleArn: params.roleArn,
    retryable,
    ...(requestId && { requestId }),
  };
  const options = { stage: 'auth', details };
  const caller = /User: (arn:aws[a-z-]*:(?:iam|sts)::\d{12}:[\w+=,.@/-]{1,512})/.exec(raw)?.[1] ?? 'the platform identity';
  switch (code) {
    case 'AccessDenied': {
      const ext = params.externalId === undefined ? 'no external id' : `external id "${params.externalId}"`;
      return new ExportError(
        'AUTH_FAILED',
        `Cannot assume role ${params.roleArn}: the role's trust policy does not allow ${caller} to assume it, ` +
          `or the external id is wrong. The trust policy must name ${caller} as an AWS principal allowed ` +
          `sts:AssumeRole with the condition StringEquals sts:ExternalId = the destination's external id ` +
          `(this request sent ${ext}), and ${caller}'s own IAM policy must allow sts:AssumeRole on the role.`,
        options,
      );
    }
    case 'InvalidClientTokenId':
      return new ExportError(
        'AUTH_FAILED',
        `STS does not recognise the platform access key ${platformKeyId} (or its session token): ` +
          'check EDGE_EXPORT_AWS_ACCESS_KEY_ID / EDGE_EXPORT_AWS_SESSION_TOKEN.',
        options,
      );
    case 'SignatureDoesNotMatch':
      return new ExportError(
        'AUTH_FAILED',
        `STS rejected the signature of platform access key ${platformKeyId}: the platform secret key ` +
          '(EDGE_EXPORT_AWS_SECRET_ACCESS_KEY) is wrong.',
        options,
      );
    case 'ExpiredToken':
      return new ExportError(
        'AUTH_FAILED',
        "The platform's own session token has expired: renew EDGE_EXPORT_AWS_SESSION_TOKEN.",
        options,
      );
    case 'RegionDisabledException':
      return new ExportError(
        'AUTH_FAILED',
        "STS is not activated in this region for the role's account: activate it in the account's IAM settings, or set stsRegion to a region where it is.",
        options,
      );
    default:
      return new ExportError(
        retryable ? 'NETWORK' : 'AUTH_FAILED',
        `STS AssumeRole failed for ${params.roleArn} (${code}).`,
        options,
      );
  }
}

/**
 * Caches credentials until `skewMs` before they expire. Concurrent callers share one in-flight load;
 * `forceRefresh` (after an ExpiredToken) discards the cached value.
 */
export class CredentialCache {
  #cached: Credentials | undefined;
  #inFlight: Promise<Credentials> | undefined;

  constructor(readonly skewMs = 5 * 60_000) {}

  /** Cached credentials while they are fresh at `now`, otherwise the result of one shared `load()`. */
  get(now: Date, load: () => Promise<Credentials>, forceRefresh = false): Promise<Credentials> {
    if (forceRefresh) this.#cached = undefined;
    const cached = this.#cached;
    if (cached && (!cached.expiration || now.getTime() < cached.expiration.getTime() - this.skewMs)) {
      return Promise.resolve(cached);
    }
    if (this.#inFlight) return this.#inFlight;
    const pending = load().then(
      (creds) => {
        this.#cached = creds;
        this.#inFlight = undefined;
        return creds;
      },
      (error: unknown) => {
        this.#inFlight = undefined;
        throw error;
      },
    );
    this.#inFlight = pending;
    return pending;
  }
}

/** `YYYYMMDDTHHMMSSZ`, the SigV4 timestamp. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}
