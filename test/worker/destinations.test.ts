import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDestination } from '../../src/worker/destination-secrets.ts';
import { getDestination } from '../../src/worker/store/resources.ts';
import { type Call, SECRET, call, destinationBody, newOrg, testEnv } from './helpers.ts';

/** Everything written to the console while a test runs: secrets must never be in it. */
function captureConsole(): string[] {
  const lines: string[] = [];
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
    });
  }
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** The platform identity a Worker that serves assumed roles has (test values; STS is never called here). */
const PLATFORM_IDENTITY = {
  EDGE_EXPORT_AWS_ACCESS_KEY_ID: 'AKIAPLATFORMTEST0000',
  EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: 'platform-test-secret',
};

describe('destinations', () => {
  it('round-trips create, read, list, update and delete; the secret never appears in a response', async () => {
    const logs = captureConsole();
    const e = testEnv();
    const org = await newOrg(e);
    const seen: Call[] = [];
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await call(e, method, path, { token: org.token, ...(body !== undefined && { body }) });
      seen.push(res);
      return res;
    };

    const created = await api(
      'POST',
      '/destinations',
      destinationBody({ description: 'prod', manifest: true, compression: 'gzip' }),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Acme S3',
      bucket: 'acme-exports',
      folderPath: 'audiences/%SEGMENT_NAME%',
      region: 'eu-west-1',
      fileType: 'csv',
      compression: 'gzip',
      manifest: true,
      auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: '****EKEY' },
    });
    const id = created.body.id as string;
    expect((await api('GET', `/destinations/${id}`)).body).toEqual(created.body);
    expect((await api('GET', '/destinations')).body.items.map((d: { id: string }) => d.id)).toEqual([id]);

    // Update without the secret keeps the stored one; with a new one replaces it.
    const renamed = await api(
      'PUT',
      `/destinations/${id}`,
      destinationBody({
        name: 'Renamed',
        auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
      }),
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Renamed');
    expect(renamed.body.auth.secretAccessKey).toBe('****EKEY');
    const row = (await getDestination(e.DB, org.id, id))!;
    expect(row.config).not.toContain(SECRET);
    expect((await openDestination(e, row)).auth).toMatchObject({ secretAccessKey: SECRET });

    const rotated = 'AnotherSecretKeyValue0000000000000000ROT8';
    const replaced = await api(
      'PUT',
      `/destinations/${id}`,
      destinationBody({
        auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: rotated },
      }),
    );
    expect(replaced.body.auth.secretAccessKey).toBe('****ROT8');
    expect((await openDestination(e, (await getDestination(e.DB, org.id, id))!)).auth).toMatchObject({
      secretAccessKey: rotated,
    });

    expect((await api('DELETE', `/destinations/${id}`)).status).toBe(204);
    expect((await api('GET', `/destinations/${id}`)).status).toBe(404);

    for (const res of seen) {
      expect(res.text).not.toContain(SECRET);
      expect(res.text).not.toContain(rotated);
      expect(res.text).not.toMatch(/v1\.[A-Za-z0-9_-]{16}\./); // nor the sealed envelope
    }
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(rotated);
  });

  it('keeps an assumed-role destination with a generated, stable external id', async () => {
    const e = testEnv(PLATFORM_IDENTITY);
    const org = await newOrg(e);
    const body = destinationBody({
      auth: { method: 'assumedRole', roleArn: 'arn:aws:iam::123456789012:role/edge-export' },
    });
    const refused = await call(testEnv(), 'POST', '/destinations', { token: org.token, body });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues[0].path).toBe('auth.platformCredentials');
    expect(refused.body.error.issues[0].message).toContain('EDGE_EXPORT_AWS_ACCESS_KEY_ID');
    const created = await call(e, 'POST', '/destinations', { token: org.token, body });
    expect(created.status).toBe(201);
    expect(created.body.externalId).toMatch(/^ext_/);
    const updated = await call(e, 'PUT', `/destinations/${created.body.id}`, {
      token: org.token,
      body: { ...body, name: 'Other' },
    });
    expect(updated.body.externalId).toBe(created.body.externalId);
  });

  it('names every invalid field with what was expected and what was received', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const res = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: destinationBody({
        bucket: 'Bad_Bucket',
        region: 'mars',
        fileType: 'xml',
        formatOptions: {},
        folderPath: '../up',
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('CONFIG_INVALID');
    const byPath = Object.fromEntries(res.body.error.issues.map((i: { path: string }) => [i.path, i]));
    expect(Object.keys(byPath).sort()).toEqual(['bucket', 'fileType', 'folderPath', 'region']);
    expect(byPath.bucket.received).toBe('"Bad_Bucket"');
    expect(byPath.fileType.message).toBe('"xml" is not available on this host; expected csv, json or parquet');
    expect(byPath.fileType.received).toBe('"xml"');
    expect(res.text).not.toContain(SECRET);
  });

  it('validates format options with the format plugin and refuses gzip around parquet', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const bad = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: destinationBody({ formatOptions: { delimiter: 42 } }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toBe('formatOptions.delimiter');
    const parquet = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: destinationBody({ fileType: 'parquet', compression: 'gzip' }),
    });
    expect(parquet.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['compression']);
  });

  it('never echoes a secret placed in a failing field, nor a missing secret on create', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const res = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: destinationBody({ auth: { method: 'accessKey', accessKeyId: SECRET, secretAccessKey: SECRET } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues[0].path).toBe('auth.accessKeyId');
    expect(res.text).not.toContain(SECRET);
    const missing = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: destinationBody({ auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' } }),
    });
    expect(missing.body.error.issues[0].path).toBe('auth.secretAccessKey');
  });

  it('refuses private and plain-http endpoints (SSRF) and malformed JSON', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    for (const endpoint of [
      'https://169.254.169.254',
      'http://minio.example.com',
      'https://localhost:9000',
      'https://[fd00::1]',
    ]) {
      const res = await call(e, 'POST', '/destinations', {
        token: org.token,
        body: destinationBody({ endpoint }),
      });
      expect(res.status, endpoint).toBe(400);
      expect(res.body.error.issues[0].path).toBe('endpoint');
    }
    const local = await call(testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' }), 'POST', '/destinations', {
      token: org.token,
      body: destinationBody({ endpoint: 'http://127.0.0.1:5000' }),
    });
    expect(local.status).toBe(201);
    const broken = await call(e, 'POST', '/destinations', { token: org.token, raw: '{"name": ' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.issues[0].message).toMatch(/not valid JSON/);
  });

  it('refuses to delete a destination a dataflow uses (409)', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
    const aud = await call(e, 'POST', '/audiences', {
      token: org.token,
      body: { kind: 'upload', name: 'list' },
    });
    await call(e, 'POST', '/dataflows', {
      token: org.token,
      body: {
        name: 'f',
        destinationId: dest.body.id,
        audienceIds: [aud.body.id],
        mapping: { fields: [{ source: 'id' }] },
      },
    });
    const res = await call(e, 'DELETE', `/destinations/${dest.body.id}`, { token: org.token });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
  });
});
