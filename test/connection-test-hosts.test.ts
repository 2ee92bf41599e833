/**
 * Test connection through the HTTP API (`POST /v1/destinations/{id}/test`) of the hosts a user runs,
 * started the way a user starts them (test/journeys/hosts.ts), against moto with authentication
 * enforced. One destination per policy: the generated one, the reference page's, and the generated
 * one missing each permission in turn. Each answer names every missing permission by action and
 * resource, passes whenever an export would, and leaves nothing in the bucket (listed as admin).
 */
import {
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../src/core/types.ts';
import { BUCKET_ACTIONS, OBJECT_ACTIONS, type PolicyDocument, permissionPolicy } from '../src/plugins/sink/s3/policy.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, startJourneyHost } from './journeys/hosts.ts';

const BUCKET = 'hosts-probe';
const FOLDER = 'exports/';
const ALL_ACTIONS = [...BUCKET_ACTIONS, ...OBJECT_ACTIONS];
const resourceOf = (action: string) =>
  (BUCKET_ACTIONS as readonly string[]).includes(action) ? `arn:aws:s3:::${BUCKET}` : `arn:aws:s3:::${BUCKET}/${FOLDER}*`;

const REFERENCE: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:GetBucketLocation', 's3:ListMultipartUploadParts'],
      Resource: `arn:aws:s3:::${BUCKET}/${FOLDER}*`,
    },
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` },
  ],
};
const GENERATED = permissionPolicy({ bucket: BUCKET, folderPath: FOLDER });

function without(policy: PolicyDocument, action: string): PolicyDocument {
  const Statement = policy.Statement.map((s) => ({ ...s, Action: [s.Action].flat().filter((a) => a !== action) })).filter(
    (s) => s.Action.length > 0,
  );
  return { ...policy, Statement };
}

/** The policies under test, by name, with the actions each must report missing. */
const CASES: [string, PolicyDocument, string[]][] = [
  ['generated', GENERATED, []],
  ['reference', REFERENCE, ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads', 's3:AbortMultipartUpload']],
  ...ALL_ACTIONS.map((a): [string, PolicyDocument, string[]] => [`generated-without-${a.slice(3)}`, without(GENERATED, a), [a]]),
];

function connectionTests(kind: HostKind): void {
  describe(`POST /v1/destinations/{id}/test on the ${kind} host`, { timeout: 120_000 }, () => {
    let moto: Moto;
    let admin: S3Client;
    let host: JourneyHost;
    let api: Api;
    const users = new Map<string, { accessKeyId: string; secretAccessKey: string }>();

    beforeAll(async () => {
      moto = await startMoto();
      await createBucket(moto, BUCKET);
      for (const [name, policy] of CASES) {
        const user = await createUser(moto, `${kind}-${name}`, policy);
        users.set(name, { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey });
      }
      await moto.enableAuth();
      admin = s3Reader(moto);
      host = await startJourneyHost(kind, { ALLOW_LOOPBACK_ENDPOINTS: 'true' });
      const org = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: `Probe ${kind}` });
      expect(org.status, org.text).toBe(201);
      api = apiClient(host.url, org.body.token);
    }, 120_000);

    afterAll(async () => {
      admin?.destroy();
      await host?.stop();
      await moto?.stop();
    });

    /** Everything in the bucket, listed as admin. */
    const contents = async () => ({
      objects: ((await admin.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key),
      uploads: ((await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).map((u) => u.Key),
      versions: ((await admin.send(new ListObjectVersionsCommand({ Bucket: BUCKET }))).Versions ?? []).map((v) => v.Key),
    });

    it.each(CASES)('%s policy: reports what is missing, by action and resource, and leaves nothing', async (name, _policy, missing) => {
      const created = await api('POST', '/destinations', {
        name,
        bucket: BUCKET,
        folderPath: FOLDER,
        region: moto.region,
        endpoint: moto.endpoint,
        auth: { method: 'accessKey', ...users.get(name) },
      });
      expect(created.status, created.text).toBe(201);
      const res = await api('POST', `/destinations/${created.body.id}/test`);
      expect(res.status, res.text).toBe(200);
      const results = res.body.results as ProbeResult[];
      expect(results.map((r) => r.action)).toEqual([
        's3:ListBucket',
        's3:GetBucketLocation',
        's3:ListBucketMultipartUploads',
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        's3:ListMultipartUploadParts',
        's3:AbortMultipartUpload',
      ]);
      const notOk = results.filter((r) => !r.ok);
      expect(notOk.map((r) => [r.action, r.status, r.resource])).toEqual(
        results.filter((r) => missing.includes(r.action)).map((r) => [r.action, 'missing', resourceOf(r.action)]),
      );
      for (const r of notOk) expect(r.message).toContain(`grant ${r.action} on ${resourceOf(r.action)}`);
      // Only s3:PutObject is required; every other shortfall is a warning saying what breaks.
      expect(res.body.ok).toBe(!missing.includes('s3:PutObject'));
      expect(res.body.warnings).toEqual(notOk.filter((r) => r.action !== 's3:PutObject').map((r) => r.message));
      expect(await contents()).toEqual({ objects: [], uploads: [], versions: [] });
    });
  });
}

connectionTests('node');
connectionTests('workerd');
connectionTests('deno');
