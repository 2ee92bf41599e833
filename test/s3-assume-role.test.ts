/**
 * Assumed-role auth against moto's STS + IAM + S3 with auth enforced: the platform user assumes the
 * customer's role (generated trust + permission policies), uploads with the temporary credentials,
 * shares and caches them, refreshes them near expiry or on ExpiredToken, and fails clearly otherwise.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportError } from '../src/core/errors.ts';
import { S3Client } from '../src/plugins/sink/s3/client.ts';
import { permissionPolicy } from '../src/plugins/sink/s3/policy.ts';
import { trustPolicy } from '../src/plugins/auth/assumedRole/trust.ts';
import { testConnection } from '../src/plugins/sink/s3/probe.ts';
import type { AuthStage, Credentials, RunContext } from '../src/core/types.ts';
import { assumedRole } from '../src/plugins/auth/assumedRole/index.ts';
import { credentialProvider } from '../src/core/auth.ts';
import { s3Sink } from '../src/plugins/sink/s3/index.ts';
import { type Moto, createBucket, createRole, createUser, s3Reader, startMoto } from './harness/moto.ts';

const BUCKET = 'assume-role-bucket';
const FOLDER = 'edge/%SEGMENT_ID%';
const EXTERNAL_ID = 'dest-7f3a9c2e';

let moto: Moto;
let roleArn: string;
let platform: { accessKeyId: string; secretAccessKey: string; arn: string };
let outsider: { accessKeyId: string; secretAccessKey: string; arn: string };

beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  await moto.enableAuth();
  const mayAssume = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
  };
  platform = await createUser(moto, 'edge-export-platform', mayAssume);
  outsider = await createUser(moto, 'someone-else', mayAssume);
  const trust = trustPolicy({ platformPrincipalArn: platform.arn, externalId: EXTERNAL_ID });
  ({ arn: roleArn } = await createRole(
    moto,
    'customer-exports',
    trust,
    permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }),
  ));
});
afterAll(() => moto?.stop());

/** A run context whose clock the test moves, and whose fetch counts STS AssumeRole calls. */
function harness(inject?: (url: string, init?: RequestInit) => Response | undefined) {
  const state = { clock: Date.now(), assumeRoleCalls: 0, s3Calls: 0 };
  const counting = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (typeof init?.body === 'string' && init.body.includes('Action=AssumeRole')) state.assumeRoleCalls++;
    else state.s3Calls++;
    return inject?.(url, init) ?? fetch(input, init);
  }) as typeof fetch;
  const ctx: RunContext = {
    now: () => new Date(state.clock),
    uuid: () => crypto.randomUUID(),
    fetch: counting,
    runId: 'run-1',
    scheduledTime: new Date(),
  };
  return { state, ctx };
}

function roleStage(
  keys: { accessKeyId: string; secretAccessKey: string },
  externalId = EXTERNAL_ID,
): AuthStage {
  return assumedRole(
    { roleArn, externalId, durationSeconds: 900, refreshSkewSeconds: 300, stsEndpoint: moto.endpoint },
    {
      EDGE_EXPORT_AWS_ACCESS_KEY_ID: keys.accessKeyId,
      EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    },
  );
}

function sinkFor(stage: AuthStage, ctx: RunContext) {
  return s3Sink(
    {
      bucket: BUCKET,
      region: moto.region,
      endpoint: moto.endpoint,
      forcePathStyle: true,
      partSize: 5 * 1024 * 1024,
      concurrency: 4,
    },
    { credentials: credentialProvider(stage, ctx) },
  );
}

function file(key: string, text: string) {
  const bytes = new TextEncoder().encode(text);
  return { key, contentType: 'text/csv', body: new Blob([bytes]).stream() };
}

async function readBack(key: string): Promise<string> {
  const s3 = s3Reader(moto);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const text = (await got.Body?.transformToString()) ?? '';
  s3.destroy();
  return text;
}

describe('assumed role with the generated trust and permission policies', () => {
  it('uploads with temporary credentials, sharing one AssumeRole among many concurrent requests', async () => {
    const { state, ctx } = harness();
    const stage = roleStage(platform);
    const creds = (await stage.credentials(ctx)) as Credentials;
    expect(creds.accessKeyId).not.toBe(platform.accessKeyId);
    expect(creds.sessionToken).toBeTruthy();
    // DurationSeconds reached STS: the credentials live ~900 s (moto stamps expiry from its own clock).
    const lifetime = ((creds.expiration?.getTime() ?? 0) - state.clock) / 1000;
    expect(lifetime).toBeGreaterThan(850);
    expect(lifetime).toBeLessThanOrEqual(905);
    const sink = sinkFor(roleStage(platform), ctx);
    state.assumeRoleCalls = 0;
    const keys = Array.from({ length: 8 }, (_, i) => `edge/aud-1/part ${i}+(ü).csv`);
    await Promise.all(keys.map((key, i) => sink.write(ctx, file(key, `id,n\n${i},${'x'.repeat(i)}\n`))));
    for (const [i, key] of keys.entries()) expect(await readBack(key)).toBe(`id,n\n${i},${'x'.repeat(i)}\n`);
    expect(state.assumeRoleCalls).toBe(1);
    expect(state.s3Calls).toBeGreaterThanOrEqual(keys.length);
  });

  it('passes test-connection with the role credentials', async () => {
    const { ctx } = harness();
    const client = new S3Client({
      target: { bucket: BUCKET, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true },
      credentials: credentialProvider(roleStage(platform), ctx),
      fetch: ctx.fetch,
    });
    const results = await testConnection({ client, folderPath: FOLDER });
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('refreshes once the clock passes expiry minus the skew, and keeps uploading', async () => {
    const { state, ctx } = harness();
    const stage = roleStage(platform);
    const first = (await stage.credentials(ctx)) as Credentials;
    const expiry = first.expiration?.getTime() ?? 0;
    const sink = sinkFor(stage, ctx);
    state.clock = expiry - 301_000;
    await sink.write(ctx, file('edge/aud-2/before.csv', 'a\n1\n'));
    expect(state.assumeRoleCalls).toBe(1);
    state.clock = expiry - 299_000;
    await sink.write(ctx, file('edge/aud-2/after.csv', 'a\n2\n'));
    // Refreshed. (moto stamps the new credentials' expiry from the real clock, which this test's clock
    // is ~10 min ahead of, so they too look due and each later credentials call refreshes again.)
    expect(state.assumeRoleCalls).toBeGreaterThanOrEqual(2);
    const second = (await stage.credentials(ctx)) as Credentials;
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(await readBack('edge/aud-2/after.csv')).toBe('a\n2\n');
  });

  it('assumes the role again when S3 answers ExpiredToken', async () => {
    let expireNext = false;
    const expired = `<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>`;
    const { state, ctx } = harness((_url, init) => {
      if (!expireNext || init?.method !== 'PUT') return undefined;
      expireNext = false;
      return new Response(expired, { status: 400 });
    });
    const sink = sinkFor(roleStage(platform), ctx);
    await sink.write(ctx, file('edge/aud-3/one.csv', 'a\n1\n'));
    expireNext = true;
    await sink.write(ctx, file('edge/aud-3/two.csv', 'a\n2\n'));
    expect(state.assumeRoleCalls).toBe(2);
    expect(await readBack('edge/aud-3/two.csv')).toBe('a\n2\n');
  });
});

describe('assumed role failures', () => {
  it("signs with the role's own permissions: a role without s3:PutObject cannot upload", async () => {
    const policy = permissionPolicy({ bucket: BUCKET, folderPath: FOLDER });
    const noPut = {
      ...policy,
      Statement: policy.Statement.map((s) => ({
        ...s,
        Action: [s.Action].flat().filter((a) => a !== 's3:PutObject'),
      })),
    };
    const trust = trustPolicy({ platformPrincipalArn: platform.arn, externalId: EXTERNAL_ID });
    const { arn } = await createRole(moto, 'customer-no-put', trust, noPut);
    const { ctx } = harness();
    const stage = assumedRole(
      { roleArn: arn, externalId: EXTERNAL_ID, stsEndpoint: moto.endpoint },
      {
        EDGE_EXPORT_AWS_ACCESS_KEY_ID: platform.accessKeyId,
        EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: platform.secretAccessKey,
      },
    );
    const error = await sinkFor(stage, ctx)
      .write(ctx, file('edge/aud-4/x.csv', 'a\n'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'S3_ACCESS_DENIED' });
    expect((error as ExportError).message).toContain(
      `s3:PutObject on arn:aws:s3:::${BUCKET}/edge/aud-4/x.csv`,
    );
  });

  async function failure(stage: AuthStage): Promise<ExportError> {
    const error = await stage.credentials(harness().ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    return error as ExportError;
  }

  it('a wrong external id is refused with a message about the trust policy and external id', async () => {
    const error = await failure(roleStage(platform, 'not-the-external-id'));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.details).toMatchObject({ stsCode: 'AccessDenied', roleArn });
    expect(error.message).toContain(`Cannot assume role ${roleArn}`);
    expect(error.message).toContain(`does not allow ${platform.arn}`);
    expect(error.message).toContain('external id is wrong');
    expect(error.message).toContain('"not-the-external-id"');
  });

  it('a caller outside the trust policy is refused, naming that caller', async () => {
    const error = await failure(roleStage(outsider));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(`trust policy does not allow ${outsider.arn}`);
  });

  it('a wrong platform secret and an unknown platform key get their own messages', async () => {
    const badSecret = await failure(roleStage({ ...platform, secretAccessKey: 'wrong' }));
    expect(badSecret.message).toContain('EDGE_EXPORT_AWS_SECRET_ACCESS_KEY');
    expect(badSecret.message).not.toContain(platform.secretAccessKey);
    const unknown = await failure(roleStage({ accessKeyId: 'AKIANOSUCHKEY0000000', secretAccessKey: 'x' }));
    expect(unknown.message).toContain('does not recognise the platform access key AKIANOSUCHKEY0000000');
  });

  it('a failed AssumeRole is not cached: the next call tries again', async () => {
    const { state, ctx } = harness();
    const stage = roleStage(platform, 'not-the-external-id');
    await expect(stage.credentials(ctx)).rejects.toThrow(ExportError);
    await expect(stage.credentials(ctx)).rejects.toThrow(ExportError);
    expect(state.assumeRoleCalls).toBe(2);
  });
});
