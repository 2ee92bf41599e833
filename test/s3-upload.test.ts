import {
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client as SdkS3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client } from '../src/plugins/sink/s3/client.ts';
import { listParts } from '../src/plugins/sink/s3/multipart.ts';
import { uploadObject, type MultipartState } from '../src/plugins/sink/s3/upload.ts';
import { s3Sink } from '../src/plugins/sink/s3/index.ts';
import { chunkedStream, digest, keyPair, runContext, seededBytes, writerPolicy } from './harness/data.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'upload-bucket';
const MiB = 1024 * 1024;
let moto: Moto;
let reader: SdkS3Client;
let user: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  user = keyPair(
    await createUser(
      moto,
      'writer',
      writerPolicy(BUCKET, [
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
        's3:PutObjectTagging',
        's3:PutObjectAcl',
      ]),
    ),
  );
  await moto.enableAuth();
  reader = s3Reader(moto);
});
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
});

function sink(extra: Record<string, unknown> = {}) {
  return s3Sink({
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: moto.endpoint,
    partSize: 5 * MiB,
    concurrency: 4,
    ...user,
    ...extra,
  });
}

async function readBack(key: string): Promise<Uint8Array> {
  const got = await reader.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return got.Body?.transformToByteArray() ?? new Uint8Array();
}

async function openUploads(): Promise<number> {
  const res = await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return res.Uploads?.length ?? 0;
}

describe('sink/s3 against moto with auth enforced', () => {
  it('publishes a small file with a single PutObject, byte for byte', async () => {
    const body = seededBytes(1234, 7);
    const result = await sink().write(runContext(), {
      key: 'small/one.csv',
      contentType: 'text/csv',
      body: chunkedStream(body, 100),
    });
    expect(result).toEqual({ key: 'small/one.csv', size: 1234, location: `s3://${BUCKET}/small/one.csv` });
    expect(digest(await readBack('small/one.csv'))).toBe(digest(body));
    const head = await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'small/one.csv' }));
    expect(head.ContentType).toBe('text/csv');
  });

  it('publishes a 16 MiB file as a 4-part multipart upload, byte for byte', async () => {
    const body = seededBytes(16 * MiB + 12345, 11);
    const states: MultipartState[] = [];
    const client = new S3Client({
      target: { bucket: BUCKET, region: 'us-east-1', endpoint: moto.endpoint },
      credentials: async () => user,
      fetch,
    });
    const result = await uploadObject(client, chunkedStream(body), {
      key: 'big/data.parquet',
      partSize: 5 * MiB,
      concurrency: 3,
      onState: (s) => void states.push(s),
    });
    expect(result.parts).toBe(4);
    expect(result.size).toBe(body.byteLength);
    expect(states.at(-1)?.parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4]);
    expect(digest(await readBack('big/data.parquet'))).toBe(digest(body));
    expect(await openUploads()).toBe(0);
  });

  it('sends a body of exactly one part as one PutObject, and starts part 1 of a longer one before part 2 exists', async () => {
    const requests: string[] = [];
    let partOneSent: () => void = () => {};
    const partOne = new Promise<void>((resolve) => {
      partOneSent = resolve;
    });
    const spy: typeof fetch = (input, init) => {
      const url = String(input);
      requests.push(`${init?.method} ${/[?&](uploads|partNumber=\d+|uploadId)/.exec(url)?.[1] ?? 'object'}`);
      if (/partNumber=1\b/.test(url)) partOneSent();
      return fetch(input, init);
    };
    const client = new S3Client({
      target: { bucket: BUCKET, region: 'us-east-1', endpoint: moto.endpoint },
      credentials: async () => user,
      fetch: spy,
    });

    const exact = seededBytes(5 * MiB, 21);
    const one = await uploadObject(client, chunkedStream(exact), { key: 'edge/exact.bin', partSize: 5 * MiB });
    expect(one.parts).toBeUndefined();
    expect(requests).toEqual(['PUT object']);
    expect(digest(await readBack('edge/exact.bin'))).toBe(digest(exact));

    // One byte past the part, then the source waits until part 1 is on its way: an uploader that
    // filled part 2 before deciding on multipart would wait for ever (and hold two parts).
    requests.length = 0;
    const body = seededBytes(7 * MiB, 22);
    const source = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(body.subarray(0, 5 * MiB + 1));
        await partOne;
        controller.enqueue(body.subarray(5 * MiB + 1));
        controller.close();
      },
    });
    const two = await uploadObject(client, source, { key: 'edge/longer.bin', partSize: 5 * MiB });
    expect(two.parts).toBe(2);
    expect(requests.slice(0, 2)).toEqual(['POST uploads', 'PUT partNumber=1']);
    expect(digest(await readBack('edge/longer.bin'))).toBe(digest(body));
    expect(await openUploads()).toBe(0);
  });

  it("round-trips keys with spaces, unicode, +, (, ', !, *", async () => {
    const keys = [
      'odd/a b.csv',
      'odd/ünïcødé €.json',
      'odd/a+b=c.csv',
      "odd/(x) 'y' !z* ~.csv",
      'odd/日本語/ファイル.parquet',
      'odd/100% & more#?.csv',
    ];
    for (const key of keys) {
      const body = new TextEncoder().encode(`body of ${key}`);
      await sink().write(runContext(), { key, contentType: 'text/plain', body: chunkedStream(body) });
      expect(new TextDecoder().decode(await readBack(key))).toBe(`body of ${key}`);
    }
  });

  it('round-trips a special-character key through multipart too', async () => {
    const key = "odd/multi (1) 'ü'+!*.csv";
    const body = seededBytes(11 * MiB, 3);
    await sink().write(runContext(), { key, contentType: 'text/csv', body: chunkedStream(body) });
    expect(digest(await readBack(key))).toBe(digest(body));
  });

  it('applies SSE, ACL, storage class, tags and metadata', async () => {
    const s = sink({
      sse: 'aws:kms',
      kmsKeyId: 'alias/exports',
      acl: 'bucket-owner-full-control',
      storageClass: 'STANDARD_IA',
      tags: { team: 'data', 'run id': 'r 1' },
      metadata: { source: 'edge-export' },
    });
    for (const [key, size] of [
      ['settings/single.csv', 1000],
      ['settings/multi.csv', 6 * MiB],
    ] as const) {
      await s.write(runContext(), {
        key,
        contentType: 'text/csv',
        contentEncoding: 'gzip',
        body: chunkedStream(seededBytes(size)),
      });
      const head = await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toContain('alias/exports');
      expect(head.StorageClass).toBe('STANDARD_IA');
      expect(head.Metadata).toEqual({ source: 'edge-export' });
      expect(head.ContentEncoding).toBe('gzip');
      const tags = await reader.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
      expect(tags.TagSet).toEqual(
        expect.arrayContaining([
          { Key: 'team', Value: 'data' },
          { Key: 'run id', Value: 'r 1' },
        ]),
      );
      const acl = await reader.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: key }));
      expect(acl.Grants?.some((g) => g.Permission === 'FULL_CONTROL')).toBe(true);
    }
    const sse = sink({ sse: 'AES256' });
    await sse.write(runContext(), {
      key: 'settings/sse-s3.csv',
      contentType: 'text/csv',
      body: chunkedStream(seededBytes(10)),
    });
    const head = await reader.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'settings/sse-s3.csv' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('resumes an interrupted multipart upload, sending only the missing parts', async () => {
    const body = seededBytes(15 * MiB + 1, 5);
    const client = new S3Client({
      target: { bucket: BUCKET, region: 'us-east-1', endpoint: moto.endpoint },
      credentials: async () => user,
      fetch,
    });
    const key = 'resume/file.csv';
    let saved: MultipartState | undefined;
    const crash = new AbortController();
    // First attempt: "crash" after two parts are acknowledged, without aborting (a durable host keeps the state).
    const first = uploadObject(client, chunkedStream(body), {
      key,
      partSize: 5 * MiB,
      concurrency: 1,
      abortOnFailure: false,
      signal: crash.signal,
      onState: (s) => {
        saved = s;
        if (s.parts.length === 2) crash.abort(new Error('crash'));
      },
    });
    await expect(first).rejects.toThrow();
    expect(saved?.parts.length).toBe(2);
    const held = await listParts(client, key, saved?.uploadId ?? '');
    expect(held.map((p) => p.partNumber)).toEqual([1, 2]);

    const sentParts: number[] = [];
    const spy: typeof fetch = (input, init) => {
      const m = /partNumber=(\d+)/.exec(String(input));
      if (m && init?.method === 'PUT') sentParts.push(Number(m[1]));
      return fetch(input, init);
    };
    const resumed = new S3Client({
      target: { bucket: BUCKET, region: 'us-east-1', endpoint: moto.endpoint },
      credentials: async () => user,
      fetch: spy,
    });
    const result = await uploadObject(resumed, chunkedStream(body), {
      key,
      partSize: 5 * MiB,
      resume: { uploadId: saved?.uploadId ?? '' },
    });
    expect(sentParts.sort()).toEqual([3, 4]);
    expect(result.parts).toBe(4);
    expect(digest(await readBack(key))).toBe(digest(body));
    expect(await openUploads()).toBe(0);
  });

  it('removes an object', async () => {
    const s = sink();
    await s.write(runContext(), {
      key: 'gone/x.csv',
      contentType: 'text/csv',
      body: chunkedStream(seededBytes(5)),
    });
    await s.remove(runContext(), 'gone/x.csv');
    await expect(readBack('gone/x.csv')).rejects.toThrow(/NoSuchKey|does not exist/);
  });

  it('puts the prefix in front of every key', async () => {
    const s = sink({ prefix: 'folder/sub/' });
    const r = await s.write(runContext(), {
      key: 'f.csv',
      contentType: 'text/csv',
      body: chunkedStream(seededBytes(5)),
    });
    expect(r.key).toBe('folder/sub/f.csv');
    expect(digest(await readBack('folder/sub/f.csv'))).toBe(digest(seededBytes(5)));
  });
});
