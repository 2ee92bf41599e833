/**
 * Test connection against moto with signatures and IAM enforced, run the way every host runs it:
 * `exportService(platform).prepare(definition).testConnection()`. Under the reference page's policy,
 * the generated one, and each of them missing one permission, the probe names each missing action
 * with its resource, passes whenever an export would, and leaves nothing in the bucket: no object,
 * no open multipart upload, and in a versioned bucket no version or delete marker (listed as admin
 * after every probe).
 */
import {
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../src/core/types.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import {
  BUCKET_ACTIONS,
  OBJECT_ACTIONS,
  type PolicyDocument,
  permissionPolicy,
} from '../src/plugins/sink/s3/policy.ts';
import { type ConnectionTest, exportService } from '../src/service/export-service.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'auth-probe-bucket';
const VERSIONED = 'auth-probe-versioned';
const FOLDER = 'exports/audiences/%SEGMENT_ID%';
const ON_BUCKET = `arn:aws:s3:::${BUCKET}`;
const ON_OBJECTS = `arn:aws:s3:::${BUCKET}/exports/audiences/*`;
const ALL_ACTIONS = [
  's3:ListBucket',
  's3:GetBucketLocation',
  's3:ListBucketMultipartUploads',
  's3:PutObject',
  's3:GetObject',
  's3:DeleteObject',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
];
const isBucketAction = (action: string) => (BUCKET_ACTIONS as readonly string[]).includes(action);

/** The reference product's documented policy, verbatim but for the bucket and folder. */
function referencePolicy(bucket = BUCKET): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:GetBucketLocation', 's3:ListMultipartUploadParts'],
        Resource: `arn:aws:s3:::${bucket}/exports/audiences/*`,
      },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}` },
    ],
  };
}
const REFERENCE_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:GetBucketLocation', 's3:ListMultipartUploadParts', 's3:ListBucket'];

/** A policy minus one action (statements left empty are dropped). */
function without(policy: PolicyDocument, action: string): PolicyDocument {
  const Statement = policy.Statement.map((s) => ({ ...s, Action: [s.Action].flat().filter((a) => a !== action) })).filter(
    (s) => s.Action.length > 0,
  );
  return { ...policy, Statement };
}

let moto: Moto;
let admin: S3Client;
beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  await createBucket(moto, VERSIONED);
  admin = s3Reader(moto);
  await admin.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }));
  await moto.enableAuth();
});
afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
});

/** What is in a bucket, listed as admin: objects, open multipart uploads, versions and delete markers. */
async function contents(bucket = BUCKET) {
  const objects = (await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
  const uploads = (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
  const versions = await admin.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  return {
    objects: objects.map((o) => o.Key),
    uploads: uploads.map((u) => `${u.Key} ${u.UploadId}`),
    versions: (versions.Versions ?? []).map((v) => v.Key),
    deleteMarkers: (versions.DeleteMarkers ?? []).map((m) => m.Key),
  };
}
const EMPTY = { objects: [], uploads: [], versions: [], deleteMarkers: [] };

// Every probe must leave the bucket as it found it; checked after each test, whatever it asserted.
afterEach(async () => {
  expect(await contents(BUCKET)).toEqual(EMPTY);
});

let users = 0;
/** The connection test of a destination whose user holds exactly `policy`, through the export service. */
async function probeAs(policy: PolicyDocument, options: { bucket?: string; secret?: string } = {}): Promise<ConnectionTest> {
  const user = await createUser(moto, `probe-user-${++users}`, policy);
  const service = exportService(nodePlatform());
  const prepared = await service.prepare({
    destination: { id: 'dst-probe', name: 'probe' },
    manifest: {
      plugins: [
        { use: 'format/csv' },
        { use: 'naming/segment' },
        { use: 'auth/accessKey', options: { accessKeyId: user.accessKeyId, secretAccessKey: options.secret ?? user.secretAccessKey } },
        { use: 'sink/s3', options: { bucket: options.bucket ?? BUCKET, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true } },
      ],
    },
    output: { folderPath: FOLDER },
  });
  return prepared.testConnection();
}

const statuses = (test: ConnectionTest) => Object.fromEntries(test.results.map((r) => [r.action, r.status]));
const notOk = (test: ConnectionTest) => test.results.filter((r) => !r.ok).map((r) => r.action);
const byAction = (test: ConnectionTest, action: string) => test.results.find((r) => r.action === action) as ProbeResult;

describe('test connection with the generated least-privilege policy', () => {
  it('passes every probe, in a fixed order, without warnings', async () => {
    const test = await probeAs(permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }));
    expect(test.results.map((r) => r.action)).toEqual(ALL_ACTIONS);
    expect([...BUCKET_ACTIONS, ...OBJECT_ACTIONS].sort()).toEqual([...ALL_ACTIONS].sort());
    expect(test.results.map((r) => [r.action, r.status, r.resource])).toEqual(
      ALL_ACTIONS.map((a) => [a, 'ok', isBucketAction(a) ? ON_BUCKET : ON_OBJECTS]),
    );
    expect(test.results.every((r) => r.ok)).toBe(true);
    expect(test).toMatchObject({ ok: true, warnings: [] });
  });

  it.each(ALL_ACTIONS)('without %s: reports exactly it missing, with its resource and what breaks', async (action) => {
    const test = await probeAs(without(permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }), action));
    const resource = isBucketAction(action) ? ON_BUCKET : ON_OBJECTS;
    expect(notOk(test)).toEqual([action]);
    const failed = byAction(test, action);
    expect(failed).toMatchObject({ action, resource, ok: false, status: 'missing', required: action === 's3:PutObject' });
    expect(failed.message).toContain(`Missing permission: grant ${action} on ${resource}.`);
    // Only s3:PutObject is required: without any other permission the export still succeeds, with a warning.
    expect(test.ok).toBe(action !== 's3:PutObject');
    expect(test.warnings).toEqual(action === 's3:PutObject' ? [] : [failed.message]);
    if (action !== 's3:PutObject') expect(failed.message).toContain(failed.impact);
  });

  it('reports a wrong secret as an error on every probe instead of blaming permissions', async () => {
    const test = await probeAs(permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }), { secret: 'not-the-secret' });
    expect(new Set(Object.values(statuses(test)))).toEqual(new Set(['error']));
    expect(test.ok).toBe(false);
    for (const r of test.results) expect(r.message).toMatch(/secret access key .* is wrong/);
  });
});

describe("test connection with the reference page's policy", () => {
  it('passes: the export works, and the three shortfalls are warnings saying what breaks', async () => {
    const test = await probeAs(referencePolicy());
    expect(statuses(test)).toEqual({
      's3:ListBucket': 'ok',
      // Granted on bucket/folder/*, but AWS evaluates it on the bucket: it grants nothing there.
      's3:GetBucketLocation': 'missing',
      's3:ListBucketMultipartUploads': 'missing',
      's3:PutObject': 'ok',
      's3:GetObject': 'ok',
      's3:DeleteObject': 'ok',
      's3:ListMultipartUploadParts': 'ok',
      's3:AbortMultipartUpload': 'missing',
    });
    expect(test.ok).toBe(true);
    expect(byAction(test, 's3:GetBucketLocation').resource).toBe(ON_BUCKET);
    expect(byAction(test, 's3:AbortMultipartUpload').resource).toBe(ON_OBJECTS);
    expect(test.warnings).toHaveLength(3);
    expect(test.warnings).toContain(byAction(test, 's3:AbortMultipartUpload').message);
    expect(byAction(test, 's3:AbortMultipartUpload').message).toMatch(
      /^Missing permission: grant s3:AbortMultipartUpload on arn:aws:s3:::auth-probe-bucket\/exports\/audiences\/\*\. Without s3:AbortMultipartUpload a failed multipart upload stays open .* until a lifecycle rule removes it/,
    );
  });

  it.each(REFERENCE_ACTIONS)('without %s: names every missing action with its resource, and still leaves nothing', async (action) => {
    const test = await probeAs(without(referencePolicy(), action));
    const expected = new Set(['s3:GetBucketLocation', 's3:ListBucketMultipartUploads', 's3:AbortMultipartUpload', action]);
    const missing = test.results.filter((r) => r.status === 'missing');
    expect(new Set(missing.map((r) => r.action))).toEqual(expected);
    for (const r of missing) {
      const resource = isBucketAction(r.action) ? ON_BUCKET : ON_OBJECTS;
      expect(r.resource).toBe(resource);
      expect(r.message).toContain(`grant ${r.action} on ${resource}`);
    }
    if (action === 's3:DeleteObject') {
      // Neither a delete nor an abort is allowed: a write could not be taken back, so none is made.
      expect(byAction(test, 's3:PutObject')).toMatchObject({ status: 'untested', ok: false, required: true });
      expect(byAction(test, 's3:PutObject').message).toMatch(/^Not tested: without s3:DeleteObject or s3:AbortMultipartUpload/);
      expect(test.ok).toBe(false);
    } else {
      expect(test.ok).toBe(action !== 's3:PutObject');
      expect(test.results.filter((r) => r.status !== 'ok' && r.status !== 'missing')).toEqual([]);
    }
  });
});

describe('test connection on a versioned bucket', () => {
  it('with the generated policy: no version, no delete marker (the delete is proven with If-Match on a missing key)', async () => {
    const test = await probeAs(permissionPolicy({ bucket: VERSIONED, folderPath: FOLDER }), { bucket: VERSIONED });
    expect(test.ok).toBe(true);
    expect(notOk(test)).toEqual([]);
    expect(await contents(VERSIONED)).toEqual(EMPTY);
  });

  it("with the reference page's policy: the probe object's noncurrent version is reported, not hidden", async () => {
    const test = await probeAs(referencePolicy(VERSIONED), { bucket: VERSIONED });
    expect(test.ok).toBe(true);
    const deleted = byAction(test, 's3:DeleteObject');
    expect(deleted.status).toBe('ok');
    const key = /a noncurrent version of the probe object (\S+) stays/.exec(deleted.message ?? '')?.[1];
    expect(key).toMatch(/^exports\/audiences\/\.edge-export-probe-/);
    const left = await contents(VERSIONED);
    expect(left).toEqual({ objects: [], uploads: [], versions: [key], deleteMarkers: [key] });
    // Clean up as admin, so the next test starts from an empty bucket.
    const versions = await admin.send(new ListObjectVersionsCommand({ Bucket: VERSIONED }));
    for (const v of [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])])
      await admin.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: v.Key, VersionId: v.VersionId }));
    expect(await contents(VERSIONED)).toEqual(EMPTY);
  });
});
