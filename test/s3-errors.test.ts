import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client as SdkS3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportError } from '../src/core/errors.ts';
import { s3Sink } from '../src/plugins/sink/s3/index.ts';
import {
  chunkedStream,
  failingStream,
  keyPair,
  runContext,
  seededBytes,
  writerPolicy,
} from './harness/data.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'errors-bucket';
const MiB = 1024 * 1024;
let moto: Moto;
let reader: SdkS3Client;
let writer: { accessKeyId: string; secretAccessKey: string };
let noPut: { accessKeyId: string; secretAccessKey: string };
let anyBucket: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  moto = await startMoto();
  reader = s3Reader(moto);
  await createBucket(moto, BUCKET);
  await reader.send(
    new CreateBucketCommand({
      Bucket: 'eu-bucket',
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    }),
  );
  writer = keyPair(await createUser(moto, 'writer', writerPolicy(BUCKET)));
  noPut = keyPair(
    await createUser(
      moto,
      'no-put',
      writerPolicy(BUCKET, [
        's3:GetObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ]),
    ),
  );
  anyBucket = keyPair(
    await createUser(moto, 'any-bucket', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    }),
  );
  await moto.enableAuth();
});
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
});

async function failure(promise: Promise<unknown>): Promise<ExportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

function write(options: Record<string, unknown>, key = 'dir/file.csv', size = 100) {
  const sink = s3Sink({ bucket: BUCKET, endpoint: moto.endpoint, partSize: 5 * MiB, ...writer, ...options });
  return sink.write(runContext(), { key, contentType: 'text/csv', body: chunkedStream(seededBytes(size)) });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const res = await reader.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key ?? '');
}

async function openUploads(): Promise<number> {
  return (await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads?.length ?? 0;
}

describe('S3 failures become messages the user can act on (moto, auth enforced)', () => {
  it('a wrong secret says the secret access key is wrong, without echoing it', async () => {
    const error = await failure(write({ secretAccessKey: 'not-the-secret-0123456789' }));
    expect(error.code).toBe('S3_SIGNATURE_MISMATCH');
    expect(error.message).toMatch(/secret access key .* is wrong/);
    expect(error.message).toContain(writer.accessKeyId);
    expect(JSON.stringify(error.toJSON())).not.toContain('not-the-secret');
  });

  it('an unknown access key id is named as unknown', async () => {
    const error = await failure(write({ accessKeyId: 'AKIAUNKNOWNKEY000000' }));
    expect(error.code).toBe('S3_INVALID_ACCESS_KEY');
    expect(error.message).toContain('access key id AKIAUNKNOWNKEY000000 is unknown');
  });

  it('a bucket that does not exist is named', async () => {
    const error = await failure(write({ bucket: 'no-such-bucket-here', ...anyBucket }));
    expect(error.code).toBe('S3_NO_SUCH_BUCKET');
    expect(error.message).toContain('Bucket "no-such-bucket-here" does not exist');
  });

  it('a bucket outside the policy is an access denial naming the action and the bucket ARN', async () => {
    const error = await failure(write({ bucket: 'eu-bucket', region: 'eu-west-1' }));
    expect(error.code).toBe('S3_ACCESS_DENIED');
    expect(error.message).toContain('arn:aws:s3:::eu-bucket');
  });

  it('a wrong region names the bucket’s real region', async () => {
    const error = await failure(write({ bucket: 'eu-bucket', region: 'us-east-1', ...anyBucket }));
    expect(error.code).toBe('S3_WRONG_REGION');
    expect(error.message).toBe(
      'Bucket "eu-bucket" is in region eu-west-1, not us-east-1: set the destination\'s region to eu-west-1.',
    );
    await write({ bucket: 'eu-bucket', region: 'eu-west-1', ...anyBucket });
  });

  it('lacking s3:PutObject names s3:PutObject and the object ARN (single put and multipart)', async () => {
    for (const size of [100, 6 * MiB]) {
      const error = await failure(write({ ...noPut }, 'denied/file.csv', size));
      expect(error.code).toBe('S3_ACCESS_DENIED');
      expect(error.message).toContain(
        `is not allowed s3:PutObject on arn:aws:s3:::${BUCKET}/denied/file.csv`,
      );
      expect(error.details).toMatchObject({
        action: 's3:PutObject',
        resource: `arn:aws:s3:::${BUCKET}/denied/file.csv`,
        status: 403,
      });
    }
  });

  it('a body that fails mid-multipart leaves nothing at the key and no open upload', async () => {
    const sink = s3Sink({ bucket: BUCKET, endpoint: moto.endpoint, partSize: 5 * MiB, ...writer });
    const body = failingStream(seededBytes(12 * MiB), 'upstream format failed');
    await expect(
      sink.write(runContext(), { key: 'broken/file.csv', contentType: 'text/csv', body }),
    ).rejects.toThrow('upstream format failed');
    expect(await keysUnder('broken/')).toEqual([]);
    expect(await openUploads()).toBe(0);
  });

  it('invalid options are reported all at once, each naming its field', () => {
    let error: unknown;
    try {
      s3Sink({
        bucket: 'Bad_Bucket',
        partSize: 1024,
        sse: 'aws:kms',
        kmsKeyId: '',
        acl: 'everyone',
      } as never);
    } catch (e) {
      error = e;
    }
    const issues = (error as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(issues).toEqual(expect.arrayContaining(['bucket', 'partSize', 'kmsKeyId', 'acl']));
  });
});
