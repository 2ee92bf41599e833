import { describe, expect, it } from 'vitest';
import { retryPolicy } from '../../../core/retry.ts';
import { S3Client } from './client.ts';
import { testConnection } from './probe.ts';

/** What a fake store does with one request: an answer, recorded as `METHOD query-keys`. */
type Rule = (method: string, url: URL, headers: Headers) => Response | undefined;

const denied = () => new Response('<Error><Code>AccessDenied</Code></Error>', { status: 403 });
const error = (status: number, code: string) => new Response(`<Error><Code>${code}</Code></Error>`, { status });

/** A permissive fake S3 (missing keys and upload ids answer 404) overridden by `rules`, logging every request. */
function fakeStore(calls: string[], ...rules: Rule[]): S3Client {
  const fetcher: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    const query = [...url.searchParams.keys()].sort().join('&');
    calls.push([method, query, headers.has('if-match') ? 'if-match' : ''].filter(Boolean).join(' '));
    for (const rule of rules) {
      const answer = rule(method, url, headers);
      if (answer) return answer;
    }
    const key = url.pathname.split('/').slice(2).join('/');
    if (method === 'POST' && url.searchParams.has('uploads')) return new Response('<R><UploadId>real-1</UploadId></R>');
    if (url.searchParams.get('uploadId')?.startsWith('edge-export-probe-no-such-upload')) return error(404, 'NoSuchUpload');
    if (method === 'DELETE' && headers.has('if-match')) return error(404, 'NoSuchKey');
    if (method === 'GET' && key && !url.searchParams.has('uploadId')) return error(404, 'NoSuchKey');
    return new Response(method === 'DELETE' ? null : '', { status: method === 'DELETE' ? 204 : 200 });
  };
  return new S3Client({
    target: { bucket: 'b', region: 'us-east-1', endpoint: 'http://store.test', forcePathStyle: true },
    credentials: async () => ({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's' }),
    fetch: fetcher,
    retry: retryPolicy({ sleep: async () => undefined }),
  });
}

/** Requests that create something: a multipart upload or an object. */
const creating = (calls: string[]) => calls.filter((c) => c === 'POST uploads' || c === 'PUT');
const statuses = (results: { action: string; status?: string }[]) => Object.fromEntries(results.map((r) => [r.action, r.status]));

describe('testConnection', () => {
  it('proves deletes and aborts on things that do not exist before creating anything, then opens and aborts one upload', async () => {
    const calls: string[] = [];
    const results = await testConnection({ client: fakeStore(calls), folderPath: 'f/' });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(calls).toEqual([
      'GET max-keys&prefix',
      'GET location',
      'GET max-uploads&prefix&uploads',
      'DELETE if-match',
      'DELETE uploadId',
      'GET uploadId',
      'GET',
      'POST uploads',
      'DELETE uploadId',
    ]);
  });

  it('creates nothing at all when neither a delete nor an abort is allowed: PutObject is untested', async () => {
    const calls: string[] = [];
    const results = await testConnection({
      client: fakeStore(calls, (method) => (method === 'DELETE' ? denied() : undefined)),
      folderPath: 'f/',
    });
    expect(creating(calls)).toEqual([]);
    expect(statuses(results)).toMatchObject({ 's3:PutObject': 'untested', 's3:DeleteObject': 'missing', 's3:AbortMultipartUpload': 'missing' });
    expect(results.find((r) => r.action === 's3:PutObject')).toMatchObject({ ok: false, required: true });
  });

  it('without an abort, proves PutObject with a small object it deletes at once', async () => {
    const calls: string[] = [];
    const results = await testConnection({
      client: fakeStore(calls, (method, url) => (method === 'DELETE' && url.searchParams.has('uploadId') ? denied() : undefined)),
      folderPath: 'f/',
    });
    expect(creating(calls)).toEqual(['PUT']);
    expect(calls.slice(calls.indexOf('PUT'))).toEqual(['PUT', 'DELETE']);
    expect(statuses(results)).toMatchObject({ 's3:PutObject': 'ok', 's3:AbortMultipartUpload': 'missing' });
  });

  it('settles a GetObject 403 on a missing key with a real probe object, deleted afterwards', async () => {
    const calls: string[] = [];
    let objectExists = false;
    const results = await testConnection({
      client: fakeStore(calls, (method, url) => {
        if (method === 'PUT' && !url.searchParams.has('partNumber')) objectExists = true;
        if (method === 'DELETE' && !url.searchParams.has('uploadId') && objectExists) objectExists = false;
        // Like AWS without s3:ListBucket on the key: 403 for a missing key, 200 for an existing one.
        if (method === 'GET' && !url.search) return objectExists ? new Response('x') : denied();
        return undefined;
      }),
      folderPath: 'f/',
    });
    expect(statuses(results)['s3:GetObject']).toBe('ok');
    expect(objectExists).toBe(false);
    expect(calls.slice(-4)).toEqual(['DELETE uploadId', 'PUT', 'GET', 'DELETE']);
  });

  it('falls back to a plain delete of the missing key when a store refuses conditional deletes', async () => {
    const calls: string[] = [];
    const results = await testConnection({
      client: fakeStore(calls, (method, _url, headers) =>
        method === 'DELETE' && headers.has('if-match') ? error(501, 'NotImplemented') : undefined,
      ),
      folderPath: 'f/',
    });
    expect(calls.slice(3, 5)).toEqual(['DELETE if-match', 'DELETE']);
    expect(statuses(results)['s3:DeleteObject']).toBe('ok');
  });

  it('tells a store that does not implement an operation from a denial', async () => {
    const calls: string[] = [];
    const results = await testConnection({
      client: fakeStore(calls, (method, url) => {
        if (url.searchParams.has('uploads') && method === 'GET') return error(501, 'NotImplemented');
        if (url.searchParams.has('uploadId')) return error(405, 'MethodNotAllowed');
        return undefined;
      }),
      folderPath: 'f/',
    });
    expect(statuses(results)).toEqual({
      's3:ListBucket': 'ok',
      's3:GetBucketLocation': 'ok',
      's3:ListBucketMultipartUploads': 'unsupported',
      's3:PutObject': 'ok',
      's3:GetObject': 'ok',
      's3:DeleteObject': 'ok',
      's3:ListMultipartUploadParts': 'unsupported',
      's3:AbortMultipartUpload': 'unsupported',
    });
    // 501 is not retried: one request each.
    expect(calls.filter((c) => c === 'GET max-uploads&prefix&uploads')).toHaveLength(1);
    expect(results.find((r) => r.action === 's3:AbortMultipartUpload')?.message).toMatch(/^Not supported by this store: AbortMultipartUpload/);
  });
});
