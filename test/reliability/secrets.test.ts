/**
 * Secrets never leave in error messages or logs: S3 failures with wrong or under-privileged keys,
 * expired sessions, and a private PGP key pasted where the public one belongs. Every error (message,
 * JSON form, details, cause chain) and every log line is scanned for the secret material.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportError } from '../../src/core/errors.ts';
import { runExport } from '../../src/core/pipeline.ts';
import type { Pipeline } from '../../src/core/registry.ts';
import { fromRows } from '../../src/core/streams.ts';
import type { Runtime } from '../../src/core/types.ts';
import { pgp } from '../../src/plugins/encryption/pgp/index.ts';
import { csv } from '../../src/plugins/format/csv/index.ts';
import { s3Sink } from '../../src/plugins/sink/s3/index.ts';
import { keyPair } from '../harness/data.ts';
import { type Moto, createBucket, createUser, startMoto } from '../harness/moto.ts';
import { expiringCredentials, fastRetry, rows, schema } from './support.ts';

const BUCKET = 'reliability-secrets';
let moto: Moto;
let readOnly: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }] };
  readOnly = keyPair(await createUser(moto, 'read-only', policy));
  await moto.enableAuth();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

/** Everything an error exposes: message, JSON, details and causes, recursively. */
function exposed(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 5) return String(error);
  const json = JSON.stringify(error, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  return [error.message, error.stack ?? '', json, JSON.stringify((error as ExportError).details ?? {}), exposed(error.cause, depth + 1)].join('\n');
}

/** Runs a small export, returning the error and every log line. */
async function attempt(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, fetchImpl: typeof fetch = fetch) {
  const logs: string[] = [];
  const runtime: Runtime = {
    now: () => new Date('2026-01-01T00:00:00Z'),
    uuid: () => crypto.randomUUID(),
    fetch: fetchImpl,
    log: (level, message, fields) => logs.push(JSON.stringify({ level, message, fields })),
  };
  const pipeline: Pipeline = { format: csv(), naming: [], macros: {}, auth: [] };
  const sink = s3Sink({ bucket: BUCKET, endpoint: moto.endpoint, multipartThreshold: 0, ...credentials }, { retry: fastRetry(2) });
  const job = { destination: { id: 'd', name: 'secrets' }, schema, rows: fromRows(rows(2000)), output: { manifest: false } };
  const error = await runExport(pipeline, job, runtime, sink).then(() => undefined, (e: unknown) => e);
  return { error, text: `${exposed(error)}\n${logs.join('\n')}` };
}

describe('secrets never appear in errors or logs', () => {
  it('a wrong secret key (SignatureDoesNotMatch)', async () => {
    const wrong = `${readOnly.secretAccessKey.slice(0, -4)}ZZZZ`;
    const { error, text } = await attempt({ accessKeyId: readOnly.accessKeyId, secretAccessKey: wrong });
    expect((error as ExportError).code).toBe('S3_SIGNATURE_MISMATCH');
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(readOnly.secretAccessKey);
  });

  it('valid keys without s3:PutObject (AccessDenied)', async () => {
    const { error, text } = await attempt(readOnly);
    expect((error as ExportError).code).toBe('S3_ACCESS_DENIED');
    expect(text).not.toContain(readOnly.secretAccessKey);
  });

  it('a session token that keeps expiring (ExpiredToken after refresh)', async () => {
    const session = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENdoNotLeak0123456789';
    const expiring = expiringCredentials(readOnly, 1);
    const { error, text } = await attempt({ ...readOnly, sessionToken: session }, expiring.fetch);
    expect((error as ExportError).code).toBe('S3_EXPIRED_TOKEN');
    expect(text).not.toContain(session);
    expect(text).not.toContain(readOnly.secretAccessKey);
  });

  it('a private PGP key given as the public key is refused without echoing it', () => {
    const secretKey = readFileSync(new URL('../../fixtures/pgp/recipient-secret.asc', import.meta.url), 'utf8');
    const error = (() => {
      try {
        pgp({ publicKey: secretKey });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ExportError);
    const body = secretKey.split('\n').filter((line) => line.length > 40 && !line.startsWith('-----'));
    const text = exposed(error);
    for (const line of body) expect(text).not.toContain(line);
  });
});
