import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto, 'harness-bucket');
  await moto.enableAuth();
});
afterAll(() => moto?.stop());

describe('moto harness', () => {
  it('accepts correctly signed requests for keys moto itself would mis-verify', async () => {
    const s3 = s3Reader(moto);
    const key = "dir/a b+c(d)'e!f*g ü%.txt";
    await s3.send(new PutObjectCommand({ Bucket: 'harness-bucket', Key: key, Body: 'hello' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'harness-bucket', Key: key }));
    expect(await got.Body?.transformToString()).toBe('hello');
    s3.destroy();
  });

  it('enforces IAM policies once auth is on', async () => {
    const user = await createUser(moto, 'reader-only', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::harness-bucket/*' }],
    });
    const s3 = s3Reader({ ...moto, admin: user });
    await expect(
      s3.send(new PutObjectCommand({ Bucket: 'harness-bucket', Key: 'x', Body: 'no' })),
    ).rejects.toThrow(/Access Denied|AccessDenied/);
    s3.destroy();
  });
});
