/**
 * The snapshot-source journey (docs/SNAPSHOTS.md), registered into each host's journeys: an S3 source
 * with access keys of a least-privilege reader, tested (files, rows, schema), then refused with what
 * to fix — credentials lacking s3:GetObject or s3:ListBucket, an empty prefix, a missing key, a schema
 * mismatch — then previews a rule audience over it from the files; no response ever holds a secret.
 * The files are written by hyparquet-writer.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { type Moto, createUser } from '../harness/moto.ts';
import { customerParquet, customerRows } from '../support/snapshot-fixtures.ts';
import { apiClient } from './hosts.ts';

export interface SourceJourneyContext {
  readonly moto: Moto;
  /** The host's address and admin token: the journey makes its own organization. */
  readonly host: { readonly url: string; readonly adminToken: string };
  /** Admin access to the bucket, to write the snapshot. */
  readonly s3: S3Client;
  readonly bucket: string;
  /** This host's folder: its users and files stay apart from the other hosts'. */
  readonly folder: string;
}

/** Registers the journey; `context` is read when it runs (once the host is up). */
export function sourceJourney(context: () => SourceJourneyContext): void {
  it('registers an S3 snapshot source, tests it, and says what to fix when it cannot read it; no secret in any response', async () => {
    const { moto, host, s3, bucket, folder } = context();
    const org = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Snapshot Co' });
    expect(org.status, org.text).toBe(201);
    const api = apiClient(host.url, org.body.token);
    const prefix = `${folder}snapshots/crm/`;
    const put = (key: string, body: Uint8Array | string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await put(`${prefix}region=eu/part-0.parquet`, customerParquet(customerRows(300, 1), 100));
    await put(`${prefix}region=us/part-0.parquet`, customerParquet(customerRows(200, 301), 100));
    await put(`${prefix}_SUCCESS`, '');
    await put(`${folder}snapshots/typed/part-0.parquet`, customerParquet(customerRows(10), 100, { scoreType: 'STRING' }));

    const user = (name: string, actions: string[]) =>
      createUser(moto, `${folder.replace(/\W/g, '')}-${name}`, {
        Version: '2012-10-17',
        Statement: [
          ...(actions.includes('s3:ListBucket') ? [{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}` }] : []),
          ...(actions.includes('s3:GetObject') ? [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${bucket}/${folder}snapshots/*` }] : []),
        ],
      });
    const [reader, listOnly, getOnly] = await Promise.all([
      user('snap-reader', ['s3:ListBucket', 's3:GetObject']),
      user('snap-list-only', ['s3:ListBucket']),
      user('snap-get-only', ['s3:GetObject']),
    ]);
    const secrets = [reader, listOnly, getOnly].map((u) => u.secretAccessKey);
    const texts: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await api(method, path, body);
      texts.push(res.text);
      return res;
    };
    const register = async (keys: { accessKeyId: string; secretAccessKey: string }, location: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const auth = { method: 'accessKey', accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey };
      const res = await call('POST', '/sources', {
        name: 'CRM snapshot',
        format: 'parquet',
        location: { type: 's3', bucket, region: moto.region, endpoint: moto.endpoint, auth, ...location },
        ...extra,
      });
      expect(res.status, res.text).toBe(201);
      return res.body as { id: string; location: { auth: Record<string, string> } };
    };
    const test = async (id: string) => {
      const res = await call('POST', `/sources/${id}/test`);
      expect(res.status, res.text).toBe(200);
      return res.body;
    };

    // A Hive-partitioned prefix of Parquet files: both files, their rows, the partition column last.
    const crm = await register(reader, { prefix }, { hivePartitioning: true });
    expect(crm.location.auth).toEqual({ method: 'accessKey', accessKeyId: reader.accessKeyId, secretAccessKey: `****${reader.secretAccessKey.slice(-4)}` });
    const ok = await test(crm.id);
    expect(ok).toMatchObject({ ok: true, files: 2, rows: 500, sample: { key: `${prefix}region=eu/part-0.parquet`, rows: 300, rowGroups: 3 } });
    expect(ok.schema.map((c: { name: string }) => c.name)).toEqual(['id', 'updatedAt', 'country', 'score', 'person.name', 'identities.email', 'notes', 'region']);
    (await call('GET', '/sources')).body.items.forEach((s: { id: string }) => {
      expect(typeof s.id).toBe('string');
    });
    await call('GET', `/sources/${crm.id}`);

    const noGet = await test((await register(listOnly, { prefix })).id);
    expect(noGet).toMatchObject({ ok: false, error: { code: 'S3_ACCESS_DENIED', action: 's3:GetObject' } });
    expect(noGet.error.message).toContain('Grant s3:GetObject');
    const noList = await test((await register(getOnly, { prefix })).id);
    expect(noList).toMatchObject({ ok: false, error: { code: 'S3_ACCESS_DENIED', action: 's3:ListBucket' } });
    expect(noList.error.message).toContain('Grant s3:ListBucket');

    const empty = await test((await register(reader, { prefix: `${folder}snapshots/none/` })).id);
    expect(empty).toMatchObject({ ok: false, error: { code: 'SOURCE_NOT_FOUND' } });
    expect(empty.error.message).toContain(`${folder}snapshots/none/`);
    const missing = await test((await register(reader, { key: `${folder}snapshots/gone.parquet` })).id);
    expect(missing).toMatchObject({ ok: false, error: { code: 'SOURCE_NOT_FOUND' } });
    expect(missing.error.message).toContain(`${folder}snapshots/gone.parquet`);
    const declared = { schema: [{ name: 'id', type: 'integer' }, { name: 'score', type: 'double' }] };
    const mismatch = await test((await register(reader, { prefix: `${folder}snapshots/typed/` }, declared)).id);
    expect(mismatch).toMatchObject({ ok: false, error: { code: 'SOURCE_INVALID' } });
    expect(mismatch.error.message).toContain('column "score" is string, expected double');

    // The source feeds a rule audience (previewed from the files); it cannot be deleted under it.
    const audience = await call('POST', '/audiences', { kind: 'rule', name: 'French snapshot', rule: 'attributes.country = "FR"', sourceId: crm.id });
    expect(audience.status, audience.text).toBe(201);
    // Its preview reads the snapshot: 500 rows, the French ones (id % 3 === 1) members.
    const french = customerRows(500).filter((r) => r.country === 'FR').length;
    const preview = await call('POST', `/audiences/${audience.body.id}/preview`, {});
    expect(preview.body).toEqual({ audienceId: audience.body.id, profiles: 500, members: french, skipped: 0, skippedBy: {}, complete: true });
    const refused = await call('DELETE', `/sources/${crm.id}`);
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('French snapshot');

    for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
  });
}
