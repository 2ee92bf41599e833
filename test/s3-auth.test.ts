/**
 * Least-privilege policy and test-connection against moto with signatures and IAM enforced: the
 * generated policy is exactly enough, and removing any single action is reported as that action.
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client } from '../src/plugins/sink/s3/client.ts';
import {
  BUCKET_ACTIONS,
  OBJECT_ACTIONS,
  type PolicyDocument,
  permissionPolicy,
} from '../src/plugins/sink/s3/policy.ts';
import { type ProbeResult, testConnection } from '../src/plugins/sink/s3/probe.ts';
import { accessKey } from '../src/plugins/auth/accessKey/index.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'auth-probe-bucket';
const FOLDER = 'exports/audiences/%SEGMENT_ID%';
const ALL_ACTIONS = [...BUCKET_ACTIONS, ...OBJECT_ACTIONS].sort();
const ctx = {
  now: () => new Date(),
  uuid: () => crypto.randomUUID(),
  fetch,
  runId: 'run-1',
  scheduledTime: new Date(),
};

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  await moto.enableAuth();
});
afterAll(() => moto?.stop());

/** The generated policy minus one action (statements left empty are dropped). */
function without(policy: PolicyDocument, action: string): PolicyDocument {
  const Statement = policy.Statement.map((s) => ({
    ...s,
    Action: [s.Action].flat().filter((a) => a !== action),
  })).filter((s) => s.Action.length > 0);
  return { ...policy, Statement };
}

/** An S3 client signing with an accessKey auth stage, as the export pipeline would build it. */
function clientFor(keys: { accessKeyId: string; secretAccessKey: string }): S3Client {
  const auth = accessKey(keys);
  return new S3Client({
    target: { bucket: BUCKET, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true },
    credentials: async (opts) =>
      (await auth.credentials(ctx, opts)) ?? Promise.reject(new Error('no credentials')),
    fetch,
  });
}

let users = 0;
async function probeAs(policy: PolicyDocument): Promise<ProbeResult[]> {
  const user = await createUser(moto, `probe-user-${++users}`, policy);
  return testConnection({ client: clientFor(user), folderPath: FOLDER });
}

const missing = (results: ProbeResult[]) => results.filter((r) => !r.ok).map((r) => r.action);

describe('test-connection with the generated least-privilege policy', () => {
  it('passes every probe and leaves nothing behind', async () => {
    const results = await probeAs(permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }));
    expect(results.map((r) => r.action).sort()).toEqual(ALL_ACTIONS);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const s3 = s3Reader(moto);
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'exports/' }));
    expect(objects.Contents ?? []).toEqual([]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(uploads.Uploads ?? []).toEqual([]);
    s3.destroy();
  });

  it.each(ALL_ACTIONS)(
    'reports exactly %s missing when only it is withheld, with its resource',
    async (action) => {
      const results = await probeAs(
        without(permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }), action),
      );
      expect(missing(results)).toEqual([action]);
      const failed = results.find((r) => !r.ok) as ProbeResult;
      const resource = (BUCKET_ACTIONS as readonly string[]).includes(action)
        ? `arn:aws:s3:::${BUCKET}`
        : `arn:aws:s3:::${BUCKET}/exports/audiences/*`;
      expect(failed.resource).toBe(resource);
      expect(failed.message).toContain(`grant ${action} on ${resource}`);
    },
  );

  it("flags the reference page's policy: GetBucketLocation on objects grants nothing, and no abort", async () => {
    const reference: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            's3:PutObject',
            's3:GetObject',
            's3:DeleteObject',
            's3:GetBucketLocation',
            's3:ListMultipartUploadParts',
          ],
          Resource: `arn:aws:s3:::${BUCKET}/exports/audiences/*`,
        },
        { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` },
      ],
    };
    const results = await probeAs(reference);
    expect(missing(results)).toEqual(['s3:GetBucketLocation', 's3:ListBucketMultipartUploads', 's3:AbortMultipartUpload']);
    expect(results.find((r) => r.action === 's3:AbortMultipartUpload')?.message).toMatch(
      /Multipart upload .+ is still open/,
    );
  });

  it('reports a wrong secret on every probe instead of blaming permissions', async () => {
    const user = await createUser(
      moto,
      'probe-wrong-secret',
      permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }),
    );
    const results = await testConnection({
      client: clientFor({ ...user, secretAccessKey: 'not-the-secret' }),
      folderPath: FOLDER,
    });
    expect(missing(results).sort()).toEqual(ALL_ACTIONS);
    for (const r of results) expect(r.message).toMatch(/secret access key .* is wrong/);
  });
});
