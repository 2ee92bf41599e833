/** Object-level settings (encryption, ACL, storage class, tags, metadata) as S3 request headers. */

export interface ObjectSettings {
  /** Server-side encryption: SSE-S3 (`AES256`) or SSE-KMS (`aws:kms`, optionally with a key id). */
  readonly sse?: 'AES256' | 'aws:kms';
  readonly kmsKeyId?: string;
  /** Canned ACL, typically `bucket-owner-full-control` for cross-account buckets. */
  readonly acl?: string;
  readonly storageClass?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** User metadata (`x-amz-meta-*`), printable ASCII. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Headers for PutObject and CreateMultipartUpload (never UploadPart). */
export function objectHeaders(
  settings: ObjectSettings,
  contentType?: string,
  contentEncoding?: string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (contentType) headers['content-type'] = contentType;
  if (contentEncoding) headers['content-encoding'] = contentEncoding;
  if (settings.sse) headers['x-amz-server-side-encryption'] = settings.sse;
  if (settings.sse === 'aws:kms' && settings.kmsKeyId)
    headers['x-amz-server-side-encryption-aws-kms-key-id'] = settings.kmsKeyId;
  if (settings.acl) headers['x-amz-acl'] = settings.acl;
  if (settings.storageClass) headers['x-amz-storage-class'] = settings.storageClass;
  const tags = Object.entries(settings.tags ?? {});
  if (tags.length)
    headers['x-amz-tagging'] = tags
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
  for (const [name, value] of Object.entries(settings.metadata ?? {}))
    headers[`x-amz-meta-${name.toLowerCase()}`] = value;
  return headers;
}
