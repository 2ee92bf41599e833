import { describe, expect, inject, it } from 'vitest';
import { abortIncompleteUploadsRule, permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { trustPolicy } from '../../src/plugins/auth/assumedRole/trust.ts';
import { call, newOrg, testEnv } from './helpers.ts';

const moto = inject('moto');

async function destination(keys: { accessKeyId: string; secretAccessKey: string }, folderPath: string) {
  const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
  const org = await newOrg(e);
  const res = await call(e, 'POST', '/destinations', {
    token: org.token,
    body: {
      name: 'moto',
      bucket: moto.bucket,
      folderPath,
      region: 'us-east-1',
      endpoint: moto.endpoint,
      auth: { method: 'accessKey', ...keys },
    },
  });
  expect(res.status).toBe(201);
  return { e, org, id: res.body.id as string };
}

describe('POST /v1/destinations/:id/test (moto, auth enforced)', () => {
  it('passes every probe with the least-privilege policy edge-export generates', async () => {
    const d = await destination(moto.writer, `${moto.folder}probe/%SEGMENT_ID%`);
    const res = await call(d.e, 'POST', `/destinations/${d.id}/test`, { token: d.org.token });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.warnings).toEqual([]);
    expect(res.body.results.map((r: { action: string; ok: boolean }) => [r.action, r.ok])).toEqual([
      ['s3:ListBucket', true],
      ['s3:GetBucketLocation', true],
      ['s3:ListBucketMultipartUploads', true],
      ['s3:PutObject', true],
      ['s3:GetObject', true],
      ['s3:DeleteObject', true],
      ['s3:ListMultipartUploadParts', true],
      ['s3:AbortMultipartUpload', true],
    ]);
    expect(res.text).not.toContain(moto.writer.secretAccessKey);
  });

  it('names the missing permission and the resource to grant it on; an export works without it, so it is a warning', async () => {
    const d = await destination(moto.noDelete, `${moto.folder}nodelete/`);
    const res = await call(d.e, 'POST', `/destinations/${d.id}/test`, { token: d.org.token });
    expect(res.body.ok).toBe(true);
    const failed = res.body.results.filter((r: { ok: boolean }) => !r.ok);
    expect(failed).toEqual([
      {
        action: 's3:DeleteObject',
        resource: `arn:aws:s3:::${moto.bucket}/${moto.folder}nodelete/*`,
        ok: false,
        status: 'missing',
        required: false,
        impact: expect.stringMatching(/^Without s3:DeleteObject a run that fails after publishing/),
        message: expect.stringMatching(
          /^Missing permission: grant s3:DeleteObject on arn:aws:s3:::edge-e2e\/exports\/nodelete\/\*\. Without s3:DeleteObject/,
        ),
      },
    ]);
    expect(res.body.warnings).toEqual([failed[0].message]);
  });

  it('reports a wrong secret on every probe without echoing it', async () => {
    const wrong = {
      accessKeyId: moto.writer.accessKeyId,
      secretAccessKey: 'wrong-secret-0123456789abcdefghijklmnop',
    };
    const d = await destination(wrong, `${moto.folder}wrong/`);
    const res = await call(d.e, 'POST', `/destinations/${d.id}/test`, { token: d.org.token });
    expect(res.body.ok).toBe(false);
    expect(res.body.results.every((r: { ok: boolean; status: string }) => !r.ok && r.status === 'error')).toBe(true);
    expect(res.text).not.toContain(wrong.secretAccessKey);
  });

  it('is scoped to the organization', async () => {
    const d = await destination(moto.writer, `${moto.folder}probe/`);
    const other = await newOrg(d.e, 'Other');
    expect((await call(d.e, 'POST', `/destinations/${d.id}/test`, { token: other.token })).status).toBe(404);
    expect((await call(d.e, 'GET', `/destinations/${d.id}/policies`, { token: other.token })).status).toBe(
      404,
    );
  });
});

describe('GET /v1/destinations/:id/policies', () => {
  it('returns the permission policy for the folder', async () => {
    const d = await destination(moto.writer, `${moto.folder}%SEGMENT_ID%`);
    const res = await call(d.e, 'GET', `/destinations/${d.id}/policies`, { token: d.org.token });
    expect(res.status).toBe(200);
    // The policy the e2e writer user holds in moto is exactly this one.
    expect(res.body).toEqual({
      permissionPolicy: permissionPolicy({ bucket: moto.bucket, folderPath: moto.folder }),
      // The backstop for uploads an export could not abort, scoped to the same prefix.
      lifecycleConfiguration: abortIncompleteUploadsRule(moto.folder),
      lifecycleNote: expect.stringContaining(
        `aws s3api put-bucket-lifecycle-configuration --bucket ${moto.bucket} --endpoint-url ${moto.endpoint}`,
      ),
    });
    expect(res.body.lifecycleConfiguration.Rules[0].Filter).toEqual({ Prefix: 'exports/' });
  });

  it('adds the trust policy with the destination external id for assumed roles', async () => {
    const principal = 'arn:aws:iam::111122223333:user/edge-export';
    const e = testEnv({
      PLATFORM_PRINCIPAL_ARN: principal,
      EDGE_EXPORT_AWS_ACCESS_KEY_ID: 'AKIAPLATFORMTEST0000',
      EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: 'platform-test-secret',
    });
    const org = await newOrg(e);
    const created = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: {
        name: 'role',
        bucket: 'acme-exports',
        folderPath: 'edge/',
        auth: { method: 'assumedRole', roleArn: 'arn:aws:iam::444455556666:role/edge-export-writer' },
      },
    });
    const res = await call(e, 'GET', `/destinations/${created.body.id}/policies`, { token: org.token });
    expect(res.body.externalId).toMatch(/^ext_/);
    expect(res.body.trustPolicy).toEqual(
      trustPolicy({ platformPrincipalArn: principal, externalId: res.body.externalId }),
    );
    expect(res.body.permissionPolicy.Statement[0].Resource).toBe('arn:aws:s3:::acme-exports/edge/*');
    const unset = await call(testEnv(), 'GET', `/destinations/${created.body.id}/policies`, {
      token: org.token,
    });
    expect(unset.body.trustPolicy).toBeUndefined();
    expect(unset.body.note).toMatch(/PLATFORM_PRINCIPAL_ARN/);
  });
});
