/**
 * Test connection: exercise every permission an export needs, on a throwaway probe object under
 * the folder, and report each IAM action as ok or missing with the resource to grant it on.
 */
import { ExportError } from '../../../core/errors.ts';
import type { ProbeResult } from '../../../core/types.ts';
import type { S3Client, S3Request } from './client.ts';
import { bucketArn, folderPrefix, objectArn } from './policy.ts';
import { xmlValue } from '../../../core/xml.ts';

export type { ProbeResult };

export interface TestConnectionInput {
  readonly client: Pick<S3Client, 'request' | 'target'>;
  /** The destination's folder path; macros are cut off (the probe lives under the fixed prefix). */
  readonly folderPath: string;
  /** Distinguishes concurrent probes; defaults to a random UUID. */
  readonly probeId?: string;
}

type Outcome = { ok: true; response?: Response } | { ok: false; message: string; denied: boolean };

/**
 * Probes ListBucket, GetBucketLocation, ListBucketMultipartUploads, PutObject, GetObject, DeleteObject, ListMultipartUploadParts
 * and AbortMultipartUpload. Never throws for a missing permission; other failures (wrong secret,
 * no such bucket, network) are reported on each probe they break.
 *
 * @example (await testConnection({ client, folderPath: 'exports/%SEGMENT_ID%' })).filter((r) => !r.ok)
 */
export async function testConnection(input: TestConnectionInput): Promise<ProbeResult[]> {
  const { bucket } = input.client.target;
  const prefix = folderPrefix(input.folderPath);
  const probe: Probe = {
    client: input.client,
    prefix,
    key: `${prefix}.edge-export-probe-${input.probeId ?? crypto.randomUUID()}`,
    onBucket: bucketArn(bucket),
    onObjects: objectArn(bucket, input.folderPath),
  };
  return [...(await probeBucket(probe)), ...(await probeObject(probe)), ...(await probeMultipart(probe))];
}

interface Probe {
  readonly client: Pick<S3Client, 'request'>;
  readonly prefix: string;
  readonly key: string;
  readonly onBucket: string;
  readonly onObjects: string;
}

async function probeBucket(p: Probe): Promise<ProbeResult[]> {
  const list = { 'list-type': '2', prefix: p.prefix, 'max-keys': '1' };
  const listed = await attempt(p.client, { action: 's3:ListBucket', method: 'GET', query: list });
  const located = await attempt(p.client, {
    action: 's3:GetBucketLocation',
    method: 'GET',
    query: { location: '' },
  });
  const uploads = await attempt(p.client, {
    action: 's3:ListBucketMultipartUploads',
    method: 'GET',
    query: { uploads: '', prefix: p.prefix, 'max-uploads': '1' },
  });
  return [
    toResult('s3:ListBucket', p.onBucket, listed),
    toResult('s3:GetBucketLocation', p.onBucket, located),
    toResult('s3:ListBucketMultipartUploads', p.onBucket, uploads),
  ];
}

/** Put, get and delete a small probe object, reporting anything left behind. */
async function probeObject(p: Probe): Promise<ProbeResult[]> {
  const body = new TextEncoder().encode('edge-export connection test\n');
  const headers = { 'content-type': 'text/plain' };
  const put = await attempt(p.client, { action: 's3:PutObject', method: 'PUT', key: p.key, body, headers });
  // Without a probe object, a 404 still proves the permission: S3 checks access before existence.
  const get = await attempt(p.client, { action: 's3:GetObject', method: 'GET', key: p.key }, !put.ok);
  const del = await attempt(p.client, { action: 's3:DeleteObject', method: 'DELETE', key: p.key });
  const unsure =
    'Checked on a missing object, where S3 also answers 403 without s3:ListBucket; re-test once s3:PutObject is granted.';
  const left = `The probe object ${p.key} was left behind; delete it by hand.`;
  return [
    toResult('s3:PutObject', p.onObjects, put),
    toResult('s3:GetObject', p.onObjects, get, !put.ok && !get.ok ? unsure : undefined),
    toResult('s3:DeleteObject', p.onObjects, del, put.ok && !del.ok ? left : undefined),
  ];
}

/** Open a multipart upload (when PutObject allows), list its parts and abort it. */
async function probeMultipart(p: Probe): Promise<ProbeResult[]> {
  const created = await attempt(p.client, {
    action: 's3:PutObject',
    method: 'POST',
    key: p.key,
    query: { uploads: '' },
  });
  const uploadId = created.ok ? xmlValue((await created.response?.text()) ?? '', 'UploadId') : undefined;
  // With no real upload, NoSuchUpload (404) proves the permission just as well.
  const missingOk = uploadId === undefined;
  const query = { uploadId: uploadId ?? 'edge-export-probe-no-upload' };
  const parts = await attempt(
    p.client,
    { action: 's3:ListMultipartUploadParts', method: 'GET', key: p.key, query },
    missingOk,
  );
  const abort = await attempt(
    p.client,
    { action: 's3:AbortMultipartUpload', method: 'DELETE', key: p.key, query },
    missingOk,
  );
  const open = `Multipart upload ${uploadId} of ${p.key} is still open; abort it by hand.`;
  return [
    toResult('s3:ListMultipartUploadParts', p.onObjects, parts),
    toResult(
      's3:AbortMultipartUpload',
      p.onObjects,
      abort,
      uploadId !== undefined && !abort.ok ? open : undefined,
    ),
  ];
}

/** Sends one probe request; a 404 counts as success when `missingOk` (the target may not exist). */
async function attempt(
  client: Pick<S3Client, 'request'>,
  req: S3Request,
  missingOk = false,
): Promise<Outcome> {
  try {
    const response = await client.request(req);
    if (req.method !== 'POST') await response.body?.cancel();
    return { ok: true, response };
  } catch (error) {
    if (!(error instanceof ExportError)) throw error;
    if (missingOk && error.details?.status === 404) return { ok: true };
    return { ok: false, message: error.message, denied: error.code === 'S3_ACCESS_DENIED' };
  }
}

function toResult(action: string, resource: string, outcome: Outcome, note?: string): ProbeResult {
  if (outcome.ok) return { action, resource, ok: true, ...(note && { message: note }) };
  const why = outcome.denied ? `Missing permission: grant ${action} on ${resource}.` : outcome.message;
  return { action, resource, ok: false, message: note ? `${why} ${note}` : why };
}
