/**
 * Turns S3 error answers into ExportErrors that say what the user must fix: which IAM action on
 * which resource, which credential is wrong, which region the bucket really lives in.
 * Messages carry identifiers (bucket, key, access key id), never secrets.
 */
import { type ErrorCode, ExportError } from '../../../core/errors.ts';
import { resourceArn } from './keys.ts';
import { isRetryableResponse } from '../../../core/retry.ts';
import { xmlValue } from '../../../core/xml.ts';

/** What went wrong, as far as translation needs to know. */
export interface S3Failure {
  readonly status: number;
  readonly headers: Headers;
  /** The XML error body ('' for HEAD or empty answers). */
  readonly body: string;
  /** IAM action of the request, e.g. `s3:PutObject`. */
  readonly action: string;
  readonly bucket: string;
  readonly region: string;
  readonly key?: string;
  readonly accessKeyId?: string;
  readonly endpoint?: string;
}

/** The S3 error code of a failure, inferred from the status when the body has none (HEAD). */
export function s3ErrorCode(status: number, body: string): string | undefined {
  const code = xmlValue(body, 'Code');
  if (code) return code;
  if (status === 301) return 'PermanentRedirect';
  if (status === 403) return 'AccessDenied';
  if (status === 404) return 'NotFound';
  return undefined;
}

/** The region a bucket really lives in, from S3's header or error body. */
export function bucketRegion(headers: Headers, body: string): string | undefined {
  const header = headers.get('x-amz-bucket-region');
  if (header) return header;
  const region = xmlValue(body, 'Region');
  if (region) return region;
  const endpoint = xmlValue(body, 'Endpoint');
  return endpoint ? /s3[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(endpoint)?.[1] : undefined;
}

/** Builds the user-facing error for a failed S3 request. */
export function translateS3Error(failure: S3Failure): ExportError {
  const code = s3ErrorCode(failure.status, failure.body);
  const resource = resourceArn(failure.bucket, failure.region, failure.key);
  const [errorCode, message] = describe(failure, code, resource);
  return new ExportError(errorCode, message, {
    stage: 'sink',
    details: {
      status: failure.status,
      s3Code: code,
      action: failure.action,
      resource,
      requestId: failure.headers.get('x-amz-request-id') ?? xmlValue(failure.body, 'RequestId'),
      retryable: isRetryableResponse(failure.status, code),
    },
  });
}

function describe(f: S3Failure, code: string | undefined, resource: string): [ErrorCode, string] {
  const who = f.accessKeyId ? `access key ${f.accessKeyId}` : 'the credentials';
  const where = f.endpoint ? ` at ${f.endpoint}` : '';
  switch (code) {
    case 'AccessDenied':
    case 'AllAccessDisabled':
      return [
        'S3_ACCESS_DENIED',
        `Access denied: ${who} is not allowed ${f.action} on ${resource}. Grant ${f.action} on ${resource} in the IAM policy (and check the bucket policy and any KMS key policy).`,
      ];
    case 'NoSuchBucket':
      return [
        'S3_NO_SUCH_BUCKET',
        `Bucket "${f.bucket}" does not exist${where}. Check the bucket name, the region and the endpoint.`,
      ];
    case 'SignatureDoesNotMatch':
      return [
        'S3_SIGNATURE_MISMATCH',
        `The request signature does not match: the secret access key given for ${who} is wrong.`,
      ];
    case 'InvalidAccessKeyId':
      return [
        'S3_INVALID_ACCESS_KEY',
        `The access key id ${f.accessKeyId ?? ''} is unknown${where}: it does not exist or was deleted. Check the access key id.`,
      ];
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return [
        'S3_EXPIRED_TOKEN',
        `The temporary credentials of ${who} have expired; refreshing them did not help.`,
      ];
    case 'InvalidToken':
      return ['AUTH_FAILED', `The session token of ${who} is malformed or invalid.`];
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
    case 'IllegalLocationConstraintException':
      return ['S3_WRONG_REGION', wrongRegion(f)];
    default:
      return [
        'S3_ERROR',
        `S3 ${f.action} on ${resource} failed: HTTP ${f.status}${code ? ` ${code}` : ''}${messageOf(f.body)}.`,
      ];
  }
}

function wrongRegion(f: S3Failure): string {
  const real = bucketRegion(f.headers, f.body);
  if (real && real !== f.region)
    return `Bucket "${f.bucket}" is in region ${real}, not ${f.region}: set the destination's region to ${real}.`;
  return `Bucket "${f.bucket}" is not in region ${f.region}: set the destination's region to the bucket's region.`;
}

function messageOf(body: string): string {
  const message = xmlValue(body, 'Message');
  return message ? `: ${message}` : '';
}

/** Builds the error for a request that never got an answer (network failure, timeout). */
export function translateFetchFailure(error: unknown, action: string, endpoint: string): ExportError {
  const reason =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error);
  return new ExportError('NETWORK', `S3 ${action} could not reach ${endpoint}: ${reason}`, {
    stage: 'sink',
    cause: error,
    details: { action, retryable: true },
  });
}
