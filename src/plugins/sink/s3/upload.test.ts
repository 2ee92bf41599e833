import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../core/errors.ts';
import { S3Client } from './client.ts';
import { retryPolicy } from '../../../core/retry.ts';
import { uploadObject } from './upload.ts';

const MiB = 1024 * 1024;
const NO_SUCH_UPLOAD =
  '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';

/** A fake S3 answering multipart calls; the completion's answer is NoSuchUpload (lost first answer). */
function fakeS3(headEtag: string, calls: string[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url.search}`);
    if (method === 'POST' && url.searchParams.has('uploads'))
      return new Response('<R><UploadId>u1</UploadId></R>');
    if (method === 'PUT')
      return new Response('', { headers: { etag: `"p${url.searchParams.get('partNumber')}"` } });
    if (method === 'POST') return new Response(NO_SUCH_UPLOAD, { status: 404 });
    if (method === 'HEAD')
      return new Response(null, { headers: { etag: headEtag, 'content-length': String(6 * MiB) } });
    return new Response('');
  };
}

function client(fetcher: typeof fetch) {
  const retry = retryPolicy({ sleep: async () => undefined });
  const credentials = async () => ({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's' });
  return new S3Client({ target: { bucket: 'b', region: 'us-east-1' }, credentials, fetch: fetcher, retry });
}

function body(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array(6 * MiB));
      c.close();
    },
  });
}

describe('uploadObject completion', () => {
  it('accepts NoSuchUpload on completion when the object is there with our parts and size', async () => {
    const calls: string[] = [];
    const result = await uploadObject(client(fakeS3('"abc-2"', calls)), body(), {
      key: 'k',
      partSize: 5 * MiB,
    });
    expect(result).toMatchObject({ key: 'k', size: 6 * MiB, etag: '"abc-2"', parts: 2 });
    expect(calls.filter((c) => c.startsWith('DELETE'))).toEqual([]);
  });

  it('otherwise fails and aborts the upload', async () => {
    const calls: string[] = [];
    const outcome = await uploadObject(client(fakeS3('"other"', calls)), body(), {
      key: 'k',
      partSize: 5 * MiB,
    }).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(ExportError);
    expect((outcome as ExportError).details?.s3Code).toBe('NoSuchUpload');
    const aborted = calls.indexOf('DELETE ?uploadId=u1');
    expect(aborted).toBeGreaterThan(0);
    // Then the key's open uploads are listed, to sweep orphans.
    expect(calls.slice(aborted + 1).some((c) => c.startsWith('GET ') && c.includes('uploads') && c.includes('prefix=k'))).toBe(true);
  });
});

describe('uploadObject orphan sweep', () => {
  it('aborts other open uploads of the same key once its own completes (a lost CreateMultipartUpload answer)', async () => {
    const calls: string[] = [];
    const base = fakeS3('"x"', calls);
    const fetcher: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      if (method === 'POST' && url.searchParams.has('uploadId')) {
        calls.push(`${method} ${url.search}`);
        return new Response('<CompleteMultipartUploadResult><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>');
      }
      if (method === 'GET' && url.searchParams.has('uploads')) {
        calls.push(`${method} ${url.search}`);
        const upload = (key: string, id: string) => `<Upload><Key>${key}</Key><UploadId>${id}</UploadId></Upload>`;
        return new Response(`<ListMultipartUploadsResult>${upload('k', 'u0')}${upload('k', 'u1')}${upload('k2', 'u9')}</ListMultipartUploadsResult>`);
      }
      return base(input, init);
    };
    const result = await uploadObject(client(fetcher), body(), { key: 'k', partSize: 5 * MiB });
    expect(result.etag).toBe('"abc-2"');
    const deletes = calls.filter((c) => c.startsWith('DELETE'));
    expect(deletes).toEqual(['DELETE ?uploadId=u0']);
  });
});

describe('uploadObject when its abort is denied', () => {
  it('throws the failure naming the upload left open: key, id, bytes stored and the command that removes it', async () => {
    const calls: string[] = [];
    const warnings: Record<string, unknown>[] = [];
    const denied = (action: string) =>
      new Response(`<Error><Code>AccessDenied</Code><Message>not allowed ${action}</Message></Error>`, { status: 403 });
    const fetcher: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      calls.push(`${method} ${url.search}`);
      if (method === 'POST' && url.searchParams.has('uploads')) return new Response('<R><UploadId>u1</UploadId></R>');
      if (method === 'PUT' && url.searchParams.get('partNumber') === '1') return new Response('', { headers: { etag: '"p1"' } });
      if (method === 'PUT') return new Response('<Error><Code>EntityTooLarge</Code></Error>', { status: 400 });
      if (method === 'DELETE') return denied('abort');
      if (method === 'GET' && url.searchParams.has('uploads')) return denied('list uploads');
      return new Response('');
    };
    const big = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(11 * MiB));
        c.close();
      },
    });
    const outcome = await uploadObject(client(fetcher), big, {
      key: "exports/it's a.csv",
      partSize: 5 * MiB,
      concurrency: 1,
      onWarning: (_message, fields) => warnings.push(fields),
    }).catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(ExportError);
    const error = outcome as ExportError;
    // The upload's own failure stays the error: its code and message are unchanged.
    expect(error.details?.s3Code).toBe('EntityTooLarge');
    expect(error.details?.leftoverUploads).toEqual([
      {
        location: "s3://b/exports/it's a.csv",
        bucket: 'b',
        key: "exports/it's a.csv",
        uploadId: 'u1',
        bytes: 5 * MiB,
        parts: 1,
        reason: expect.stringContaining('s3:AbortMultipartUpload'),
        command: `aws s3api abort-multipart-upload --bucket 'b' --key 'exports/it'\\''s a.csv' --upload-id 'u1' --region 'us-east-1'`,
      },
    ]);
    expect(calls).toContain('DELETE ?uploadId=u1');
    expect(warnings[0]).toMatchObject({ key: "exports/it's a.csv", uploadId: 'u1', bytes: 5 * MiB });
  });
});
