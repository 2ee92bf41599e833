/** An independent S3 reader for the workerd tests: aws4fetch with moto's admin keys (not our client). */
import { AwsClient } from 'aws4fetch';
import { inject } from 'vitest';

/**
 * A destination body for the e2e bucket in moto, written to by the IAM user holding exactly the
 * generated policy; files go under `folder` by audience name.
 */
export function motoDestinationBody(
  folder: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const moto = inject('moto');
  return {
    name: 'moto',
    bucket: moto.bucket,
    folderPath: `${folder}%SEGMENT_NAME%`,
    region: 'us-east-1',
    endpoint: moto.endpoint,
    auth: { method: 'accessKey', ...moto.writer },
    ...overrides,
  };
}

/** Admin access to the e2e bucket in moto. */
export function motoAdmin() {
  const moto = inject('moto');
  const aws = new AwsClient({ ...moto.admin, service: 's3', region: 'us-east-1' });
  const bucketUrl = `${moto.endpoint}/${moto.bucket}`;
  const objectUrl = (key: string) => `${bucketUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return {
    /** Every key under `prefix`, sorted. */
    async list(prefix: string): Promise<string[]> {
      const res = await aws.fetch(`${bucketUrl}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
      const xml = await res.text();
      if (!res.ok) throw new Error(`ListObjectsV2 ${res.status}: ${xml}`);
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!)).sort();
    },
    async get(key: string): Promise<{ text: string; etag: string; headers: Headers }> {
      const res = await aws.fetch(objectUrl(key));
      const text = await res.text();
      if (!res.ok) throw new Error(`GetObject ${key} ${res.status}: ${text}`);
      return { text, etag: res.headers.get('etag') ?? '', headers: res.headers };
    },
    /** Open multipart uploads under `prefix`: [key, uploadId]. */
    async uploads(prefix: string): Promise<[string, string][]> {
      const res = await aws.fetch(`${bucketUrl}?uploads&prefix=${encodeURIComponent(prefix)}`);
      const xml = await res.text();
      if (!res.ok) throw new Error(`ListMultipartUploads ${res.status}: ${xml}`);
      const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
      const ids = [...xml.matchAll(/<UploadId>([^<]*)<\/UploadId>/g)].map((m) => m[1]!);
      if (keys.length !== ids.length) throw new Error(`unexpected ListMultipartUploads answer: ${xml}`);
      return keys.map((key, i) => [key, ids[i]!]);
    },
  };
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
