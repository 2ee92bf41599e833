import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../core/errors.ts';
import type { CredentialProvider } from '../../../core/types.ts';
import { S3Client, type S3Target } from './client.ts';
import { completeMultipartUpload } from './multipart.ts';
import { retryPolicy } from '../../../core/retry.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../fixtures/s3/${name}`, import.meta.url), 'utf8');
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const creds: CredentialProvider = async () => ({
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: SECRET,
});
const noWait = retryPolicy({ maxAttempts: 3, sleep: async () => undefined });

interface Seen {
  url: string;
  init: RequestInit | undefined;
}

/** A fetch that answers from a script and records what it was asked. */
function scripted(answers: Array<Response | Error>, seen: Seen[] = []): typeof fetch {
  return async (input, init) => {
    seen.push({ url: String(input), init });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return next;
  };
}

function client(fetcher: typeof fetch, target: Partial<S3Target> = {}, credentials = creds) {
  return new S3Client({
    target: { bucket: 'acme-exports', region: 'us-east-1', ...target },
    credentials,
    fetch: fetcher,
    retry: noWait,
  });
}

async function failure(promise: Promise<unknown>): Promise<ExportError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ExportError);
  expect(JSON.stringify((e as ExportError).toJSON()) + (e as Error).message).not.toContain(SECRET);
  return e as ExportError;
}

describe('S3Client', () => {
  it('addresses AWS virtual-hosted and custom endpoints path-style', () => {
    expect(client(fetch).objectUrl('a b/c+d.csv')).toBe(
      'https://acme-exports.s3.us-east-1.amazonaws.com/a%20b/c%2Bd.csv',
    );
    expect(client(fetch, { bucket: 'my.bucket' }).objectUrl('k')).toBe(
      'https://s3.us-east-1.amazonaws.com/my.bucket/k',
    );
    expect(client(fetch, { endpoint: 'http://127.0.0.1:9000/' }).objectUrl("(x)'!*")).toBe(
      'http://127.0.0.1:9000/acme-exports/%28x%29%27%21%2A',
    );
    expect(client(fetch, { endpoint: 'https://minio.local', forcePathStyle: false }).objectUrl()).toBe(
      'https://acme-exports.minio.local/',
    );
  });

  it('signs with the real payload hash and sends the encoded key unchanged', async () => {
    const seen: Seen[] = [];
    await client(scripted([new Response('')], seen)).request({
      action: 's3:PutObject',
      method: 'PUT',
      key: 'a+b.csv',
      body: new TextEncoder().encode('hi'),
    });
    const headers = new Headers(seen[0]?.init?.headers);
    expect(seen[0]?.url).toBe('https://acme-exports.s3.us-east-1.amazonaws.com/a%2Bb.csv');
    expect(headers.get('x-amz-content-sha256')).toBe(
      '8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4',
    );
    expect(headers.get('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request/,
    );
  });

  it('retries SlowDown, 500 and connection resets, then succeeds', async () => {
    const seen: Seen[] = [];
    const answers = [new Response(fixture('slow-down.xml'), { status: 503 }), new TypeError('fetch failed')];
    const res = await client(scripted([...answers, new Response('ok')], seen)).request({
      action: 's3:GetObject',
      method: 'GET',
      key: 'k',
    });
    expect(await res.text()).toBe('ok');
    expect(seen).toHaveLength(3);
  });

  it('gives up after the policy’s attempts with the last translated error', async () => {
    const e = await failure(
      client(scripted([500, 500, 500].map((s) => new Response('', { status: s })))).request({
        action: 's3:GetObject',
        method: 'GET',
        key: 'k',
      }),
    );
    expect(e.code).toBe('S3_ERROR');
    expect(e.message).toBe('S3 s3:GetObject on arn:aws:s3:::acme-exports/k failed: HTTP 500.');
  });

  it('refreshes expired temporary credentials once and retries', async () => {
    const calls: Array<boolean | undefined> = [];
    const provider: CredentialProvider = async (o) => {
      calls.push(o?.forceRefresh);
      return { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET, sessionToken: 'tok' };
    };
    const seen: Seen[] = [];
    const fetcher = scripted(
      [new Response(fixture('expired-token.xml'), { status: 400 }), new Response('')],
      seen,
    );
    await client(fetcher, {}, provider).request({
      action: 's3:PutObject',
      method: 'PUT',
      key: 'k',
      body: new Uint8Array(1),
    });
    expect(calls).toEqual([undefined, true]);
    expect(new Headers(seen[1]?.init?.headers).get('x-amz-security-token')).toBe('tok');
  });

  it('names the bucket’s real region from PermanentRedirect, AuthorizationHeaderMalformed and a bare 301', async () => {
    const cases: Array<[Response, string]> = [
      [new Response(fixture('permanent-redirect.xml'), { status: 301 }), 'eu-west-1'],
      [new Response(fixture('authorization-header-malformed.xml'), { status: 400 }), 'ap-southeast-2'],
      [new Response(null, { status: 301, headers: { 'x-amz-bucket-region': 'sa-east-1' } }), 'sa-east-1'],
    ];
    for (const [answer, region] of cases) {
      const e = await failure(
        client(scripted([answer])).request({ action: 's3:PutObject', method: 'PUT', key: 'k' }),
      );
      expect(e.code).toBe('S3_WRONG_REGION');
      expect(e.message).toBe(
        `Bucket "acme-exports" is in region ${region}, not us-east-1: set the destination's region to ${region}.`,
      );
    }
  });

  it('treats a 200 CompleteMultipartUpload carrying an error as a failure', async () => {
    const e = await failure(
      completeMultipartUpload(client(scripted([new Response(fixture('complete-200-error.xml'))])), 'k', 'u', [
        { partNumber: 1, etag: '"e"', size: 1 },
      ]),
    );
    expect(e.details?.s3Code).toBe('InternalError');
  });

  it('refuses stream bodies, which cannot be sent again', async () => {
    const e = await failure(
      client(scripted([])).request({
        action: 's3:PutObject',
        method: 'PUT',
        key: 'k',
        body: new ReadableStream(),
      }),
    );
    expect(e.code).toBe('INTERNAL');
  });
});
