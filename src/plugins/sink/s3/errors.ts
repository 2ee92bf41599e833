/**
 * Turns S3 error answers into ExportErrors that say what the user must fix: which IAM action on
 * which resource, which credential is wrong, which region the bucket really lives in.
 * Messages carry identifiers (bucket, key, access key id), never secrets, and nothing the remote
 * server wrote in its own words (its `<Message>`) nor the address a failed connection tried: an
 * endpoint is the user's choice, and its answers must not make the API a way to read other servers.
 * What the remote says is used only when it has the shape of what S3 sends (an error code, a region).
 */
import { type ErrorCode, ExportError } from '../../../core/errors.ts';
import { networkFailure } from '../../../core/security/failure.ts';
import { endpointRefusal } from '../../../core/security/ssrf.ts';
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

/** An S3 error code (`AccessDenied`, `SlowDown`): a short CamelCase word, else not one. */
const S3_CODE = /^[A-Z][A-Za-z0-9.]{1,63}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const REQUEST_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;

/** The S3 error code of a failure, inferred from the status when the body has none (HEAD). */
export function s3ErrorCode(status: number, body: string): string | undefined {
  const code = xmlValue(body, 'Code')?.trim();
  if (code) return S3_CODE.test(code) ? code : undefined;
  if (status === 301) return 'PermanentRedirect';
  if (status === 403) return 'AccessDenied';
  if (status === 404) return 'NotFound';
  return undefined;
}

/** The region a bucket really lives in, from S3's header or error body. */
export function bucketRegion(headers: Headers, body: string): string | undefined {
  const header = headers.get('x-amz-bucket-region')?.trim();
  if (header) return REGION.test(header) ? header : undefined;
  const region = xmlValue(body, 'Region')?.trim();
  if (region) return REGION.test(region) ? region : undefined;
  const endpoint = xmlValue(body, 'Endpoint');
  const named = endpoint ? /s3[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(endpoint)?.[1] : undefined;
  return named && REGION.test(named) ? named : undefined;
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
      requestId: requestIdOf(failure),
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
      return ['S3_ERROR', `S3 ${f.action} on ${resource} failed: HTTP ${f.status}${code ? ` ${code}` : ''}.`];
  }
}

function wrongRegion(f: S3Failure): string {
  const real = bucketRegion(f.headers, f.body);
  if (real && real !== f.region)
    return `Bucket "${f.bucket}" is in region ${real}, not ${f.region}: set the destination's region to ${real}.`;
  return `Bucket "${f.bucket}" is not in region ${f.region}: set the destination's region to the bucket's region.`;
}

/** S3's request id, when the answer has one of the shape S3 sends. */
function requestIdOf(f: S3Failure): string | undefined {
  const id = (f.headers.get('x-amz-request-id') ?? xmlValue(f.body, 'RequestId'))?.trim();
  return id && REQUEST_ID.test(id) ? id : undefined;
}

/**
 * Builds the error for a request that never got an answer: the class of the failure (connection
 * refused, timed out, TLS, DNS, reset), never the runtime's text, which names the address it tried.
 * A refusal by the host's endpoint policy is final (not retried).
 */
export function translateFetchFailure(error: unknown, action: string, _endpoint?: string): ExportError {
  const refused = endpointRefusal(error);
  if (refused) {
    return new ExportError('ENDPOINT_REFUSED', `S3 ${action}: the endpoint was ${refused.message}`, {
      stage: 'sink',
      cause: error,
      details: { action, retryable: false },
    });
  }
  return new ExportError('NETWORK', `S3 ${action} could not reach the endpoint: ${networkFailure(error)}`, {
    stage: 'sink',
    cause: error,
    details: { action, retryable: true },
  });
}
