/**
 * An export that fails in the middle of a multipart upload, for a user holding the reference page's
 * policy (no s3:AbortMultipartUpload), against moto with auth enforced: the abort is denied, so the
 * upload stays open. The CLI must say so: the JSON summary on stdout and stderr name the upload (key,
 * upload id, bytes stored) and the command that removes it. The test checks those against what moto
 * holds (listed as admin) and then runs the printed command, as a user would, with awscli.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import type { LeftoverUpload } from '../src/core/types.ts';
import { keyPair } from './harness/data.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'leftover-bucket';
const MiB = 1024 * 1024;
let moto: Moto;
let admin: S3Client;
let dir: string;
let reference: { accessKeyId: string; secretAccessKey: string };

const cli = runCli;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-leftover-'));
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  // The reference product's documented policy: everything but s3:AbortMultipartUpload for the export.
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:GetBucketLocation', 's3:ListMultipartUploadParts'],
        Resource: `arn:aws:s3:::${BUCKET}/exports/*`,
      },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` },
    ],
  };
  reference = keyPair(await createUser(moto, 'reference-policy', policy));
  await moto.enableAuth();
  admin = s3Reader(moto);
});
afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** ~`rows` × 80 bytes of NDJSON, then a line that is not JSON: the source fails after that much CSV. */
async function brokenSource(rows: number): Promise<string> {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) lines.push(JSON.stringify({ id: i, email: `user${i}@example.com`, note: `row ${i} ${'x'.repeat(30)}` }));
  lines.push('{this line is not JSON');
  const path = join(dir, 'broken.ndjson');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('an export whose abort is denied', () => {
  it('names the upload it left open, in its JSON summary and on stderr, with a command that removes it', async () => {
    const config = join(dir, 'export.json');
    await writeFile(
      config,
      JSON.stringify({
        plugins: {
          plugins: [
            { use: 'format/csv' },
            { use: 'naming/segment' },
            { use: 'auth/accessKey', options: reference },
            { use: 'sink/s3', options: { bucket: BUCKET, region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, partSize: 5 * MiB, concurrency: 1 } },
          ],
        },
        destination: { id: 'dst-leftover', name: 'leftover' },
        audience: { id: 'aud-1', name: 'All' },
        source: { path: await brokenSource(160_000) },
        output: { folderPath: 'exports/%SEGMENT_ID%', fileName: { dateTime: 'none' }, manifest: false },
        runId: 'run-leftover',
      }),
    );
    const { code, out, err } = await cli('export', '--no-progress', '--config', config);
    expect(code).toBe(1);

    // The JSON summary: the run's own error (the broken source line), and the upload left open.
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ runId: 'run-leftover', failed: true, error: { code: 'SOURCE_INVALID' } });
    const leftovers = summary.leftoverUploads as LeftoverUpload[];
    expect(leftovers).toHaveLength(1);
    const left = leftovers[0]!;
    expect(summary.error.details.leftoverUploads).toEqual(leftovers);
    expect(left.key).toMatch(/^exports\/aud-1\/leftover_aud-1\.csv$/);
    expect(left.location).toBe(`s3://${BUCKET}/${left.key}`);
    expect(left.reason).toContain('s3:AbortMultipartUpload');
    expect(left.parts).toBeGreaterThanOrEqual(1);

    // What moto holds, listed as admin, is exactly what was reported.
    const open = (await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? [];
    expect(open.map((u) => [u.Key, u.UploadId])).toEqual([[left.key, left.uploadId]]);
    const parts = (await admin.send(new ListPartsCommand({ Bucket: BUCKET, Key: left.key, UploadId: left.uploadId }))).Parts ?? [];
    expect(parts).toHaveLength(left.parts);
    expect(parts.reduce((n, p) => n + (p.Size ?? 0), 0)).toBe(left.bytes);
    expect(left.bytes).toBe(left.parts * 5 * MiB);

    // stderr: the error, then the upload (location, id, bytes) and the command to remove it.
    expect(err).toContain('[SOURCE_INVALID]');
    expect(err).toContain(`a multipart upload was left open at ${left.location} (upload id ${left.uploadId}, ${left.bytes} bytes in ${left.parts} part`);
    const printed = /remove it with: (aws s3api abort-multipart-upload .*)$/m.exec(err)?.[1];
    expect(printed).toBe(left.command);
    expect(printed).toBe(
      `aws s3api abort-multipart-upload --bucket '${BUCKET}' --key '${left.key}' --upload-id '${left.uploadId}' --region 'us-east-1' --endpoint-url '${moto.endpoint}'`,
    );

    // The user runs the printed command, as the bucket's administrator.
    const removed = spawnSync('sh', ['-c', printed!], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        AWS_ACCESS_KEY_ID: moto.admin.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.admin.secretAccessKey,
        AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      },
    });
    expect(removed.status, removed.stderr).toBe(0);
    expect((await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual([]);
    expect((await admin.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).toEqual([]);
  });

  it('prints a lifecycle rule scoped to the folder prefix with `edge-export policy`, as a backstop', async () => {
    const config = join(dir, 'policy.json');
    await writeFile(join(dir, 'none.ndjson'), '');
    await writeFile(
      config,
      JSON.stringify({
        plugins: {
          plugins: [
            { use: 'format/csv' },
            { use: 'naming/segment' },
            { use: 'auth/accessKey', options: reference },
            { use: 'sink/s3', options: { bucket: BUCKET, region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true } },
          ],
        },
        destination: { id: 'dst-leftover', name: 'leftover' },
        audience: { id: 'aud-1', name: 'All' },
        source: { path: join(dir, 'none.ndjson') },
        output: { folderPath: 'exports/%SEGMENT_ID%' },
      }),
    );
    const { code, out, err } = await cli('policy', '--config', config);
    expect(code, err).toBe(0);
    const printed = JSON.parse(out);
    expect(printed.lifecycleConfiguration).toEqual({
      Rules: [
        {
          ID: 'edge-export-abort-incomplete-uploads under exports/',
          Status: 'Enabled',
          Filter: { Prefix: 'exports/' },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    expect(printed.lifecycleNote).toContain(`aws s3api put-bucket-lifecycle-configuration --bucket ${BUCKET} --endpoint-url ${moto.endpoint}`);
    // The rule is what S3 accepts: the bucket owner applies it exactly as printed, with awscli.
    const file = join(dir, 'lifecycle.json');
    await writeFile(file, JSON.stringify(printed.lifecycleConfiguration));
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ACCESS_KEY_ID: moto.admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.admin.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    };
    const base = ['s3api', '--endpoint-url', moto.endpoint];
    const put = spawnSync('aws', [...base, 'put-bucket-lifecycle-configuration', '--bucket', BUCKET, '--lifecycle-configuration', `file://${file}`], { encoding: 'utf8', env });
    expect(put.status, put.stderr).toBe(0);
    const got = spawnSync('aws', [...base, 'get-bucket-lifecycle-configuration', '--bucket', BUCKET], { encoding: 'utf8', env });
    expect(got.status, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout).Rules).toEqual([
      expect.objectContaining({ ID: printed.lifecycleConfiguration.Rules[0].ID, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
    ]);
  });
});
