/** The multipart-upload operations of S3, one function per API call, on top of S3Client. */
import { ExportError } from '../../../core/errors.ts';
import type { S3Client } from './client.ts';
import { translateS3Error } from './errors.ts';
import { sha256 } from './hash.ts';
import { xmlBlocks, xmlEscape, xmlValue } from '../../../core/xml.ts';

/** A part S3 holds for an upload. */
export interface UploadedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  /** Base64 SHA-256 of the part, when known. */
  readonly checksumSha256?: string;
}

/** Starts a multipart upload and returns its id. Object headers (SSE, ACL, tags…) go here. */
export async function createMultipartUpload(
  client: S3Client,
  key: string,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<string> {
  const res = await client.request({
    action: 's3:PutObject',
    method: 'POST',
    key,
    query: { uploads: '' },
    headers: { ...headers, 'x-amz-checksum-algorithm': 'SHA256' },
    ...(signal && { signal }),
  });
  const uploadId = xmlValue(await res.text(), 'UploadId');
  if (!uploadId)
    throw new ExportError('S3_ERROR', `S3 CreateMultipartUpload for ${key} returned no UploadId`, {
      stage: 'sink',
    });
  return uploadId;
}

/** Uploads one part with its SHA-256 checksum; returns what CompleteMultipartUpload needs. */
export async function uploadPart(
  client: S3Client,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Uint8Array,
  signal?: AbortSignal,
): Promise<UploadedPart> {
  const hash = await sha256(body);
  const res = await client.request({
    action: 's3:PutObject',
    method: 'PUT',
    key,
    query: { partNumber: String(partNumber), uploadId },
    headers: { 'x-amz-content-sha256': hash.hex, 'x-amz-checksum-sha256': hash.base64 },
    body,
    ...(signal && { signal }),
  });
  await res.body?.cancel();
  const etag = res.headers.get('etag');
  if (!etag)
    throw new ExportError('S3_ERROR', `S3 UploadPart ${partNumber} for ${key} returned no ETag`, {
      stage: 'sink',
    });
  return { partNumber, etag, size: body.byteLength, checksumSha256: hash.base64 };
}

/** Publishes the object from its parts (in part-number order); returns the object's ETag. */
export async function completeMultipartUpload(
  client: S3Client,
  key: string,
  uploadId: string,
  parts: readonly UploadedPart[],
  signal?: AbortSignal,
): Promise<string> {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const xml = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${sorted.map(partXml).join('')}</CompleteMultipartUpload>`;
  const res = await client.request({
    action: 's3:PutObject',
    method: 'POST',
    key,
    query: { uploadId },
    headers: { 'content-type': 'application/xml' },
    body: new TextEncoder().encode(xml),
    ...(signal && { signal }),
  });
  const text = await res.text();
  // S3 may answer 200 and still report an error in the body.
  if (/<Error>/.test(text)) {
    const { bucket, region } = client.target;
    throw translateS3Error({
      status: res.status,
      headers: res.headers,
      body: text,
      action: 's3:PutObject',
      bucket,
      region,
      key,
    });
  }
  return xmlValue(text, 'ETag') ?? '';
}

function partXml(p: UploadedPart): string {
  const checksum = p.checksumSha256 ? `<ChecksumSHA256>${p.checksumSha256}</ChecksumSHA256>` : '';
  return `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${xmlEscape(p.etag)}</ETag>${checksum}</Part>`;
}

/** Abandons an upload so S3 frees its parts and nothing appears at the key. */
export async function abortMultipartUpload(client: S3Client, key: string, uploadId: string): Promise<void> {
  const res = await client.request({
    action: 's3:AbortMultipartUpload',
    method: 'DELETE',
    key,
    query: { uploadId },
  });
  await res.body?.cancel();
}

/** Every part S3 holds for an upload (follows pagination), to resume it. */
export async function listParts(
  client: S3Client,
  key: string,
  uploadId: string,
  signal?: AbortSignal,
): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  for (;;) {
    const query: Record<string, string> = { uploadId, ...(marker && { 'part-number-marker': marker }) };
    const res = await client.request({
      action: 's3:ListMultipartUploadParts',
      method: 'GET',
      key,
      query,
      ...(signal && { signal }),
    });
    const xml = await res.text();
    for (const block of xmlBlocks(xml, 'Part')) parts.push(parsePart(block));
    marker = xmlValue(xml, 'NextPartNumberMarker');
    if (xmlValue(xml, 'IsTruncated') !== 'true' || !marker) return parts;
  }
}

function parsePart(block: string): UploadedPart {
  const checksum = xmlValue(block, 'ChecksumSHA256');
  return {
    partNumber: Number(xmlValue(block, 'PartNumber')),
    etag: xmlValue(block, 'ETag') ?? '',
    size: Number(xmlValue(block, 'Size')),
    ...(checksum && { checksumSha256: checksum }),
  };
}

/** Open multipart uploads under a prefix (bucket-level ListMultipartUploads). */
export async function listMultipartUploads(
  client: S3Client,
  prefix?: string,
): Promise<{ key: string; uploadId: string }[]> {
  const res = await client.request({
    action: 's3:ListBucketMultipartUploads',
    method: 'GET',
    query: { uploads: '', ...(prefix && { prefix }) },
  });
  return xmlBlocks(await res.text(), 'Upload').map((b) => ({
    key: xmlValue(b, 'Key') ?? '',
    uploadId: xmlValue(b, 'UploadId') ?? '',
  }));
}

/**
 * The awscli command that aborts an upload left open, ready to paste into a POSIX shell (every
 * value single-quoted); a custom endpoint (MinIO, R2, moto…) is named with `--endpoint-url`.
 *
 * @example abortCommand({ bucket: 'acme', region: 'eu-west-1' }, 'exports/a.csv', 'VXBsb2Fk')
 * // "aws s3api abort-multipart-upload --bucket 'acme' --key 'exports/a.csv' --upload-id 'VXBsb2Fk' --region 'eu-west-1'"
 */
export function abortCommand(
  target: { readonly bucket: string; readonly region: string; readonly endpoint?: string },
  key: string,
  uploadId: string,
): string {
  const args = [
    ['--bucket', target.bucket],
    ['--key', key],
    ['--upload-id', uploadId],
    ['--region', target.region],
    ...(target.endpoint !== undefined ? [['--endpoint-url', target.endpoint]] : []),
  ];
  return `aws s3api abort-multipart-upload ${args.map(([flag, value]) => `${flag} ${shellQuote(value!)}`).join(' ')}`;
}

/** A POSIX shell single-quoted word: `'` becomes `'\''`. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
