/**
 * Test connection: learn each permission an export needs without leaving anything in the bucket.
 * Anything the probe creates is created only once the permission to remove it is proven:
 *
 * 1. bucket reads: ListBucket, GetBucketLocation, ListBucketMultipartUploads;
 * 2. proofs on things that do not exist: DeleteObject on a missing key (`If-Match: *`, so S3 answers
 *    404 instead of adding a delete marker in a versioned bucket; stores that ignore it answer 204),
 *    AbortMultipartUpload and ListMultipartUploadParts on a made-up upload id (404 NoSuchUpload when
 *    allowed), GetObject on a missing key (404 when allowed);
 * 3. PutObject: a multipart upload opened and aborted when the abort is proven (nothing ever reaches
 *    a key), else a small object put and deleted when the delete is proven, else not tested;
 * 4. GetObject again, on a real probe object, only when the missing key answered an ambiguous 403
 *    (AWS answers 403 for a missing key without s3:ListBucket on it) and the object can be deleted.
 *
 * Each answer is told apart: 403 AccessDenied is a missing permission, 501 NotImplemented or 405
 * MethodNotAllowed is an operation the store does not implement (s3rver has no multipart abort),
 * anything else an error. Only s3:PutObject is required; without any other permission an export
 * still succeeds, and the result says what breaks without it.
 */
import { ExportError } from '../../../core/errors.ts';
import type { ProbeResult, ProbeStatus } from '../../../core/types.ts';
import type { S3Client, S3Request } from './client.ts';
import { abortCommand } from './multipart.ts';
import { BUCKET_ACTIONS, bucketArn, folderPrefix, OBJECT_ACTIONS, objectArn } from './policy.ts';
import { xmlValue } from '../../../core/xml.ts';

export type { ProbeResult, ProbeStatus };

export interface TestConnectionInput {
  readonly client: Pick<S3Client, 'request' | 'target'>;
  /** The destination's folder path; macros are cut off (the probe lives under the fixed prefix). */
  readonly folderPath: string;
  /** Distinguishes concurrent probes; defaults to a random UUID. */
  readonly probeId?: string;
}

/** What breaks when a permission other than s3:PutObject is missing (PutObject is required). */
export const IMPACT: Readonly<Record<string, string>> = {
  's3:ListBucket':
    'Without s3:ListBucket, S3 answers 403 instead of 404 for a missing key, so a run cannot tell a new file from one that replaces an earlier export (a run that fails later then removes it).',
  's3:GetBucketLocation':
    'Without s3:GetBucketLocation the bucket region is not checked before uploading (a wrong region still fails, at the first upload).',
  's3:ListBucketMultipartUploads':
    'Without s3:ListBucketMultipartUploads an upload orphaned by a lost CreateMultipartUpload answer is not found and aborted; it stays open until a lifecycle rule removes it.',
  's3:GetObject':
    'Without s3:GetObject a run cannot see whether a file replaces an earlier export of the same name (a run that fails later then removes it), nor confirm a multipart upload whose completion answer was lost.',
  's3:DeleteObject':
    'Without s3:DeleteObject a run that fails after publishing some of its files leaves them in the bucket.',
  's3:ListMultipartUploadParts':
    'Without s3:ListMultipartUploadParts a run interrupted during a multipart upload cannot resume it, and its retry fails.',
  's3:AbortMultipartUpload':
    'Without s3:AbortMultipartUpload a failed multipart upload stays open (its parts stored and billed) until a lifecycle rule removes it; `edge-export policy` prints one.',
};

/** The order results are reported in: the bucket's actions, then the objects' (the lists policy.ts grants). */
const ORDER = [...BUCKET_ACTIONS, ...OBJECT_ACTIONS];

/** One answer: allowed (with the response when there is one), or why not. */
type Outcome =
  | { readonly status: 'ok'; readonly response?: Response }
  | { readonly status: Exclude<ProbeStatus, 'ok' | 'untested'>; readonly message: string };

/**
 * Probes every permission an export needs and returns one result per IAM action, in a fixed order.
 * Never throws for a missing permission; other failures (wrong secret, no such bucket, network) are
 * reported as errors on each probe they break.
 *
 * @example (await testConnection({ client, folderPath: 'exports/%SEGMENT_ID%' })).filter((r) => !r.ok)
 */
export async function testConnection(input: TestConnectionInput): Promise<ProbeResult[]> {
  const { bucket } = input.client.target;
  const prefix = folderPrefix(input.folderPath);
  const p: Probe = {
    client: input.client,
    prefix,
    key: `${prefix}.edge-export-probe-${input.probeId ?? crypto.randomUUID()}`,
    onBucket: bucketArn(bucket),
    onObjects: objectArn(bucket, input.folderPath),
  };
  const found = new Map<string, ProbeResult>();
  const report = (result: ProbeResult) => found.set(result.action, result);

  // 1. Bucket reads.
  // ListObjects (v1): the same permission as v2, and s3rver fails a truncated v2 listing with a 500.
  const list = { prefix, 'max-keys': '1' };
  report(result(p, 's3:ListBucket', await attempt(p, { action: 's3:ListBucket', method: 'GET', query: list })));
  report(
    result(p, 's3:GetBucketLocation', await attempt(p, { action: 's3:GetBucketLocation', method: 'GET', query: { location: '' } })),
  );
  const uploads = { uploads: '', prefix, 'max-uploads': '1' };
  report(
    result(p, 's3:ListBucketMultipartUploads', await attempt(p, { action: 's3:ListBucketMultipartUploads', method: 'GET', query: uploads })),
  );

  // 2. Proofs on things that do not exist: nothing is created.
  const deleted = await proveDelete(p);
  const noUpload = { uploadId: `edge-export-probe-no-such-upload-${crypto.randomUUID()}` };
  const aborted = await attempt(p, { action: 's3:AbortMultipartUpload', method: 'DELETE', key: p.key, query: noUpload }, 'NoSuchUpload');
  const parts = await attempt(p, { action: 's3:ListMultipartUploadParts', method: 'GET', key: p.key, query: noUpload }, 'NoSuchUpload');
  const read = await attempt(p, { action: 's3:GetObject', method: 'GET', key: p.key }, 'NoSuchKey');
  report(result(p, 's3:ListMultipartUploadParts', parts));

  // 3. PutObject, creating only what can be removed.
  const deleteNotes = [deleted.note];
  let abortNote: string | undefined;
  let put: Outcome | undefined;
  if (aborted.status === 'ok') {
    const opened = await openAndAbort(p);
    put = opened.put;
    abortNote = opened.leftover;
  }
  // The object path also settles an ambiguous GetObject (403 on a missing key).
  const getUnsure = read.status === 'missing';
  if (deleted.outcome.status === 'ok' && (put === undefined || (getUnsure && put.status === 'ok'))) {
    const made = await putGetDelete(p, getUnsure);
    put ??= made.put;
    if (made.get) report(result(p, 's3:GetObject', made.get));
    deleteNotes.push(made.leftover, made.versioned ? versionNote(p) : undefined);
  }
  if (!found.has('s3:GetObject')) {
    const unsure = getUnsure
      ? 'Checked on a missing key, where S3 also answers 403 without s3:ListBucket on it; no probe object could be made to check on (that needs s3:PutObject and s3:DeleteObject).'
      : undefined;
    report(result(p, 's3:GetObject', read, unsure));
  }
  report(put ? result(p, 's3:PutObject', put) : untestedPut(p, deleted.outcome, aborted));
  report(result(p, 's3:DeleteObject', deleted.outcome, deleteNotes));
  report(result(p, 's3:AbortMultipartUpload', aborted, abortNote));
  return ORDER.map((action) => found.get(action)!);
}

interface Probe {
  readonly client: Pick<S3Client, 'request' | 'target'>;
  readonly prefix: string;
  readonly key: string;
  readonly onBucket: string;
  readonly onObjects: string;
}

/**
 * DeleteObject on the missing probe key. `If-Match: *` makes AWS answer 404 NoSuchKey (allowed) and
 * keeps a versioned bucket free of a delete marker; stores that ignore the header answer 204. Any
 * other answer (a 403 the condition alone earns, a store refusing conditional deletes) is settled by
 * the unconditional delete of the same missing key, which creates nothing in an unversioned bucket.
 */
async function proveDelete(p: Probe): Promise<{ outcome: Outcome; note?: string }> {
  const request = { action: 's3:DeleteObject', method: 'DELETE', key: p.key } as const;
  const conditional = await attempt(p, { ...request, headers: { 'if-match': '*' } }, 'NoSuchKey', 'PreconditionFailed');
  if (conditional.status === 'ok') return { outcome: conditional };
  const plain = await attempt(p, request);
  const marker = plain.status === 'ok' && plain.response?.headers.get('x-amz-delete-marker') === 'true';
  return {
    outcome: plain,
    ...(marker && {
      note: `The bucket keeps versions: deleting the missing probe key ${p.key} added a delete marker (no data); removing it needs s3:DeleteObjectVersion.`,
    }),
  };
}

/** Proves s3:PutObject with a multipart upload that is aborted at once (its abort is proven). */
async function openAndAbort(p: Probe): Promise<{ put: Outcome; leftover?: string }> {
  const put = await attempt(p, { action: 's3:PutObject', method: 'POST', key: p.key, query: { uploads: '' } });
  if (put.status !== 'ok') return { put };
  const uploadId = xmlValue((await put.response?.text()) ?? '', 'UploadId');
  if (!uploadId) return { put: { status: 'error', message: `CreateMultipartUpload for ${p.key} returned no UploadId.` } };
  const abort = await attempt(p, { action: 's3:AbortMultipartUpload', method: 'DELETE', key: p.key, query: { uploadId } });
  if (abort.status === 'ok') return { put };
  const command = abortCommand(p.client.target, p.key, uploadId);
  return { put, leftover: `The probe's multipart upload ${uploadId} of ${p.key} could not be aborted (${abort.message}); remove it with: ${command}` };
}

/** Puts a small probe object (its delete is proven), reads it back when asked, and deletes it. */
async function putGetDelete(
  p: Probe,
  read: boolean,
): Promise<{ put: Outcome; get?: Outcome; versioned: boolean; leftover?: string }> {
  const body = new TextEncoder().encode('edge-export connection test\n');
  const put = await attempt(p, { action: 's3:PutObject', method: 'PUT', key: p.key, body, headers: { 'content-type': 'text/plain' } });
  if (put.status !== 'ok') return { put, versioned: false };
  const version = put.response?.headers.get('x-amz-version-id');
  const versioned = version !== null && version !== undefined && version !== 'null';
  const get = read ? await attempt(p, { action: 's3:GetObject', method: 'GET', key: p.key }) : undefined;
  const removed = await attempt(p, { action: 's3:DeleteObject', method: 'DELETE', key: p.key });
  return {
    put,
    ...(get && { get }),
    versioned,
    ...(removed.status !== 'ok' && {
      leftover: `The probe object ${p.key} could not be deleted (${removed.message}); delete it by hand.`,
    }),
  };
}

/** PutObject when nothing could be created safely: untested, or the error that stopped the probe. */
function untestedPut(p: Probe, deleted: Outcome, aborted: Outcome): ProbeResult {
  const base = { action: 's3:PutObject', resource: p.onObjects, ok: false, required: true } as const;
  const stopped = [deleted, aborted].find((o) => o.status === 'error');
  if (stopped && stopped.status === 'error') return { ...base, status: 'error', message: `Not tested: ${stopped.message}` };
  return {
    ...base,
    status: 'untested',
    message:
      'Not tested: without s3:DeleteObject or s3:AbortMultipartUpload the probe could not remove what a write creates. Grant one of them (or run an export) to check s3:PutObject.',
  };
}

function versionNote(p: Probe): string {
  return `The bucket keeps versions: a noncurrent version of the probe object ${p.key} stays until s3:DeleteObjectVersion or a noncurrent-version lifecycle rule removes it.`;
}

/**
 * Sends one probe request. `allowedCodes` are S3 error codes that prove the permission (S3 checks
 * access before existence: NoSuchKey, NoSuchUpload).
 */
async function attempt(p: Probe, req: S3Request, ...allowedCodes: string[]): Promise<Outcome> {
  try {
    const response = await p.client.request(req);
    if (req.method !== 'POST') await response.body?.cancel();
    return { status: 'ok', response };
  } catch (error) {
    if (!(error instanceof ExportError)) throw error;
    const code = error.details?.s3Code;
    if (typeof code === 'string' && allowedCodes.includes(code)) return { status: 'ok' };
    if (error.code === 'S3_ACCESS_DENIED') return { status: 'missing', message: error.message };
    if (unsupported(error)) return { status: 'unsupported', message: error.message };
    return { status: 'error', message: error.message };
  }
}

/** An answer meaning "this store does not implement that operation" (not a denial, not a fault). */
function unsupported(error: ExportError): boolean {
  const status = error.details?.status;
  const code = error.details?.s3Code;
  return status === 501 || code === 'NotImplemented' || (status === 405 && code === 'MethodNotAllowed');
}

function result(p: Probe, action: string, outcome: Outcome, notes?: string | (string | undefined)[]): ProbeResult {
  const extra = [notes].flat().filter((n): n is string => Boolean(n)).join(' ');
  const resource = action === 's3:ListBucket' || action === 's3:GetBucketLocation' || action === 's3:ListBucketMultipartUploads' ? p.onBucket : p.onObjects;
  const required = action === 's3:PutObject';
  const impact = required ? undefined : IMPACT[action];
  const base = { action, resource, required, ...(impact && { impact }) };
  if (outcome.status === 'ok') return { ...base, ok: true, status: 'ok', ...(extra && { message: extra }) };
  const operation = action.replace(/^s3:/, '');
  const why =
    outcome.status === 'missing'
      ? `Missing permission: grant ${action} on ${resource}.`
      : outcome.status === 'unsupported'
        ? `Not supported by this store: ${operation} is not implemented here (${outcome.message.replace(/\.+$/, '')}).`
        : outcome.message.replace(/\.*$/, '.');
  const consequence = impact ? ` ${impact}` : '';
  return { ...base, ok: false, status: outcome.status, message: `${why}${consequence}${extra ? ` ${extra}` : ''}` };
}
