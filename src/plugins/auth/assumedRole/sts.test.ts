import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../core/errors.ts';
import { retryPolicy } from '../../../core/retry.ts';
import { CredentialCache, amzDate, assumeRole, parseAssumeRoleResponse } from './sts.ts';

const ROLE = 'arn:aws:iam::123456789012:role/exports';
const PLATFORM = { accessKeyId: 'AKIAPLATFORM00000000', secretAccessKey: 'platform-secret' };

function okXml(expiration: string, key = 'ASIATEMP000000000001'): string {
  return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>${key}</AccessKeyId>
      <SecretAccessKey>temp/secret+key</SecretAccessKey>
      <SessionToken>FwoG&amp;token==</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser><AssumedRoleId>AROA:edge</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/exports/edge</Arn></AssumedRoleUser>
  </AssumeRoleResult>
</AssumeRoleResponse>`;
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`;
}

/** A fetch that records requests and answers with the given status and body. */
function fakeFetch(status: number, body: string) {
  const calls: Request[] = [];
  const fn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push(new Request(input, init));
    return new Response(body, { status });
  }) as typeof fetch;
  return { fn, calls };
}

const deps = (f: typeof fetch) => ({
  credentials: PLATFORM,
  fetch: f,
  now: () => new Date('2026-01-02T03:04:05Z'),
  endpoint: 'http://127.0.0.1:1/',
});
const params = { roleArn: ROLE, roleSessionName: 'edge-export', externalId: 'dest-1', durationSeconds: 900 };

describe('assumeRole', () => {
  it('sends a signed, form-encoded AssumeRole and parses the temporary credentials', async () => {
    const { fn, calls } = fakeFetch(200, okXml('2026-01-02T04:04:05Z'));
    const creds = await assumeRole(deps(fn), params);
    expect(creds).toEqual({
      accessKeyId: 'ASIATEMP000000000001',
      secretAccessKey: 'temp/secret+key',
      sessionToken: 'FwoG&token==',
      expiration: new Date('2026-01-02T04:04:05Z'),
      assumedRoleArn: 'arn:aws:sts::123456789012:assumed-role/exports/edge',
    });
    const req = calls[0] as Request;
    expect(req.method).toBe('POST');
    expect(req.headers.get('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAPLATFORM00000000\/20260102\/us-east-1\/sts\/aws4_request, /,
    );
    expect(req.headers.get('x-amz-date')).toBe('20260102T030405Z');
    const form = new URLSearchParams(await req.text());
    expect(Object.fromEntries(form)).toEqual({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: ROLE,
      RoleSessionName: 'edge-export',
      ExternalId: 'dest-1',
      DurationSeconds: '900',
    });
  });

  it('explains AccessDenied as a trust-policy / external-id problem naming the caller', async () => {
    const msg = 'User: arn:aws:iam::123456789012:user/platform is not authorized to perform: sts:AssumeRole';
    const { fn } = fakeFetch(403, errorXml('AccessDenied', msg));
    const error = await assumeRole(deps(fn), params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({
      code: 'AUTH_FAILED',
      details: { stsCode: 'AccessDenied', roleArn: ROLE, requestId: 'req-1' },
    });
    const text = (error as ExportError).message;
    expect(text).toContain("the role's trust policy does not allow arn:aws:iam::123456789012:user/platform");
    expect(text).toContain('external id is wrong');
    expect(text).toContain('"dest-1"');
  });

  it.each([
    ['InvalidClientTokenId', 'EDGE_EXPORT_AWS_ACCESS_KEY_ID'],
    ['SignatureDoesNotMatch', 'EDGE_EXPORT_AWS_SECRET_ACCESS_KEY'],
    ['ExpiredToken', 'EDGE_EXPORT_AWS_SESSION_TOKEN'],
  ])('explains %s by naming the platform setting to fix', async (code, setting) => {
    const { fn } = fakeFetch(403, errorXml(code, 'whatever'));
    const error = (await assumeRole(deps(fn), params).catch((e: unknown) => e)) as ExportError;
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(setting);
    expect(error.message).not.toContain('platform-secret');
  });

  it('retries throttling, 5xx and dropped connections, then succeeds', async () => {
    const answers: Array<() => Response> = [
      () => new Response(errorXml('Throttling', 'Rate exceeded'), { status: 400 }),
      () => new Response(errorXml('InternalFailure', 'oops'), { status: 503 }),
      () => {
        throw new TypeError('fetch failed');
      },
      () => new Response(okXml('2026-01-02T04:04:05Z'), { status: 200 }),
    ];
    let calls = 0;
    const flaky = (async () => (answers[calls++] as () => Response)()) as unknown as typeof fetch;
    const retry = retryPolicy({ sleep: async () => {}, random: () => 0 });
    const creds = await assumeRole({ ...deps(flaky), retry }, params);
    expect(calls).toBe(4);
    expect(creds.accessKeyId).toBe('ASIATEMP000000000001');
  });

  it('does not retry a refusal, and gives up after the policy attempts on persistent 5xx', async () => {
    const denied = fakeFetch(403, errorXml('AccessDenied', 'User: x is not authorized'));
    const retry = retryPolicy({ sleep: async () => {}, maxAttempts: 3 });
    await expect(assumeRole({ ...deps(denied.fn), retry }, params)).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
    expect(denied.calls).toHaveLength(1);
    const down = fakeFetch(500, errorXml('InternalFailure', 'down'));
    await expect(assumeRole({ ...deps(down.fn), retry }, params)).rejects.toMatchObject({ code: 'NETWORK' });
    expect(down.calls).toHaveLength(3);
  });

  it('rejects a response without credentials', () => {
    expect(() => parseAssumeRoleResponse('<AssumeRoleResponse/>')).toThrow(/without complete credentials/);
  });

  it('formats SigV4 timestamps', () => {
    expect(amzDate(new Date('2026-11-26T01:02:03.456Z'))).toBe('20261126T010203Z');
  });
});

describe('CredentialCache', () => {
  const temp = (expiresAt: number, id = 'A') => ({
    accessKeyId: id,
    secretAccessKey: 's',
    expiration: new Date(expiresAt),
  });

  it('shares one in-flight load among concurrent callers and reuses it while fresh', async () => {
    const cache = new CredentialCache(5 * 60_000);
    let loads = 0;
    const load = async () => temp(3_600_000, `K${++loads}`);
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.get(new Date(0), load)));
    expect(loads).toBe(1);
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(['K1']));
    await cache.get(new Date(3_600_000 - 5 * 60_000 - 1), load);
    expect(loads).toBe(1);
  });

  it('reloads once now passes expiry minus the skew', async () => {
    const cache = new CredentialCache(5 * 60_000);
    let loads = 0;
    const load = async () => temp(3_600_000 * (loads + 1), `K${++loads}`);
    await cache.get(new Date(0), load);
    const next = await cache.get(new Date(3_600_000 - 5 * 60_000), load);
    expect(loads).toBe(2);
    expect(next.accessKeyId).toBe('K2');
  });

  it('reloads on forceRefresh, and does not cache failures', async () => {
    const cache = new CredentialCache();
    let loads = 0;
    await cache.get(new Date(0), async () => temp(3_600_000, `K${++loads}`));
    await cache.get(new Date(0), async () => temp(3_600_000, `K${++loads}`), true);
    expect(loads).toBe(2);
    const failing = new CredentialCache();
    await expect(failing.get(new Date(0), () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(failing.get(new Date(0), async () => temp(1e12, 'ok'))).resolves.toMatchObject({
      accessKeyId: 'ok',
    });
  });
});
