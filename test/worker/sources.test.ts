/**
 * /v1/sources on workerd: registering snapshot sources (secrets sealed, masked, never echoed), testing
 * them against moto with auth enforced (readers with and without s3:ListBucket / s3:GetObject) and
 * against a real R2 binding, and the audiences and dataflows that name them.
 */
import { AwsClient } from 'aws4fetch';
import { env as bindings } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { openSource } from '../../src/worker/source-secrets.ts';
import { getSource } from '../../src/worker/store/sources.ts';
import { customerCsv, customerParquet, customerRows } from '../support/snapshot-fixtures.ts';
import { type Call, call, newOrg, testEnv } from './helpers.ts';

/** The snapshots stay under the e2e folder, as every worker test's objects do (reliability-security checks). */
const ROOT = `${inject('moto').folder}snapshots/`;
const PREFIX = `${ROOT}customers/`;
const SECRET_PREFIX = 'sources-test-secret';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An IAM user of moto holding `actions` on the e2e bucket (objects under ROOT for object actions). */
async function iamUser(name: string, actions: string[]): Promise<Keys> {
  const moto = inject('moto');
  const aws = new AwsClient({ ...moto.admin, service: 'iam', region: 'us-east-1' });
  const iam = async (params: Record<string, string>) => {
    const res = await aws.fetch(`${moto.endpoint}/`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form({ Version: '2010-05-08', ...params }) });
    const xml = await res.text();
    if (!res.ok) throw new Error(`IAM ${params.Action} ${res.status}: ${xml}`);
    return xml;
  };
  const user = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const statements = [
    ...(actions.includes('s3:ListBucket') ? [{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${moto.bucket}` }] : []),
    ...(actions.includes('s3:GetObject') ? [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${moto.bucket}/${ROOT}*` }] : []),
  ];
  await iam({ Action: 'CreateUser', UserName: user });
  await iam({ Action: 'PutUserPolicy', UserName: user, PolicyName: 'read', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });
  const xml = await iam({ Action: 'CreateAccessKey', UserName: user });
  return { accessKeyId: /<AccessKeyId>([^<]+)</.exec(xml)![1]!, secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(xml)![1]! };
}

/** A form body encoded as SigV4 canonicalises it (RFC 3986: `*` and `'()!` escaped too), as moto recomputes it. */
function form(params: Record<string, string>): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(params)
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join('&');
}

async function put(key: string, body: Uint8Array | string): Promise<void> {
  const moto = inject('moto');
  const aws = new AwsClient({ ...moto.admin, service: 's3', region: 'us-east-1' });
  const res = await aws.fetch(`${moto.endpoint}/${moto.bucket}/${key}`, { method: 'PUT', body: body as BodyInit });
  if (!res.ok) throw new Error(`PUT ${key} ${res.status}: ${await res.text()}`);
}

/** A source body over the e2e bucket in moto. */
function s3Source(keys: Keys, location: Record<string, unknown> = { prefix: PREFIX }, extra: Record<string, unknown> = {}) {
  const moto = inject('moto');
  return {
    name: 'CRM snapshot',
    format: 'parquet',
    location: { type: 's3', bucket: moto.bucket, region: 'us-east-1', endpoint: moto.endpoint, auth: { method: 'accessKey', ...keys }, ...location },
    ...extra,
  };
}

const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
let reader: Keys;
let listOnly: Keys;
let getOnly: Keys;

beforeAll(async () => {
  // Two Parquet files of 3 row groups (250 rows each), a marker file and a file of another format.
  await put(`${PREFIX}part-0.parquet`, customerParquet(customerRows(250, 1), 100));
  await put(`${PREFIX}part-1.parquet`, customerParquet(customerRows(250, 251), 100));
  await put(`${PREFIX}_SUCCESS`, '');
  await put(`${PREFIX}readme.txt`, 'not data');
  await put(`${ROOT}typed/part-0.parquet`, customerParquet(customerRows(10), 100, { scoreType: 'STRING' }));
  [reader, listOnly, getOnly] = await Promise.all([
    iamUser('snap-reader', ['s3:ListBucket', 's3:GetObject']),
    iamUser('snap-list-only', ['s3:ListBucket']),
    iamUser('snap-get-only', ['s3:GetObject']),
  ]);
});

/** Every response of a test, to check no secret is in any of them. */
function recorder(token: string) {
  const seen: Call[] = [];
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await call(e, method, path, { token, ...(body !== undefined && { body }) });
    seen.push(res);
    return res;
  };
  return { api, seen };
}

describe('sources', () => {
  it('registers an S3 source with access keys: secrets sealed at rest, masked in every response, kept when left out or sent back masked', async () => {
    const org = await newOrg(e);
    const { api, seen } = recorder(org.token);
    const created = await api('POST', '/sources', s3Source(reader, { prefix: PREFIX }, { idColumn: 'id', hivePartitioning: false }));
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: 'CRM snapshot',
      format: 'parquet',
      idColumn: 'id',
      location: { type: 's3', bucket: inject('moto').bucket, prefix: PREFIX, auth: { method: 'accessKey', accessKeyId: reader.accessKeyId, secretAccessKey: `****${reader.secretAccessKey.slice(-4)}` } },
    });
    const id = created.body.id as string;
    expect(id).toMatch(/^src_/);
    expect((await api('GET', `/sources/${id}`)).body).toEqual(created.body);
    expect((await api('GET', '/sources')).body.items.map((s: { id: string }) => s.id)).toEqual([id]);

    // Left out on update: the stored secret is kept (and still opens); the row never holds it in clear.
    const { secretAccessKey: _left, ...withoutSecret } = reader;
    const renamed = await api('PUT', `/sources/${id}`, { ...s3Source(withoutSecret as Keys), name: 'Renamed' });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.location.auth.secretAccessKey).toBe(`****${reader.secretAccessKey.slice(-4)}`);
    const row = (await getSource(e.DB, org.id, id))!;
    expect(row.config).not.toContain(reader.secretAccessKey);
    const opened = await openSource(e, row);
    expect(opened.location.type === 's3' && opened.location.auth.secretAccessKey).toBe(reader.secretAccessKey);
    const tested = await api('POST', `/sources/${id}/test`);
    expect(tested.body.ok, tested.text).toBe(true);
    // Sent back masked, as a read shows it: still the stored secret (the test reads with it).
    const masked = await api('PUT', `/sources/${id}`, s3Source({ ...reader, secretAccessKey: renamed.body.location.auth.secretAccessKey }));
    expect(masked.status, masked.text).toBe(200);
    const reopened = await openSource(e, (await getSource(e.DB, org.id, id))!);
    expect(reopened.location.type === 's3' && reopened.location.auth.secretAccessKey).toBe(reader.secretAccessKey);
    expect((await api('POST', `/sources/${id}/test`)).body.ok).toBe(true);

    // Another organization sees nothing.
    const other = await newOrg(e, 'Other');
    expect((await call(e, 'GET', `/sources/${id}`, { token: other.token })).status).toBe(404);

    expect((await api('DELETE', `/sources/${id}`)).status).toBe(204);
    expect((await api('GET', `/sources/${id}`)).status).toBe(404);
    for (const res of seen) expect(res.text).not.toContain(reader.secretAccessKey);
  });

  it('refuses bad input naming each field; a secret in a refused body is not echoed', async () => {
    const org = await newOrg(e);
    const bad = await call(e, 'POST', '/sources', {
      token: org.token,
      body: {
        name: 'x',
        format: 'orc',
        location: { type: 's3', bucket: 'Not_A_Bucket', prefix: 'a/', key: 'a/b.parquet', auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: `${SECRET_PREFIX}-0123456789` } },
      },
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['format', 'location.bucket']));
    expect(bad.text).not.toContain(SECRET_PREFIX);

    const noSecret = await call(e, 'POST', '/sources', { token: org.token, body: s3Source({ accessKeyId: reader.accessKeyId } as Keys) });
    expect(noSecret.status).toBe(400);
    expect(noSecret.body.error.issues.map((i: { path: string }) => i.path)).toContain('location.auth.secretAccessKey');

    // Endpoints the host may not call (SSRF): refused at location.endpoint, as destinations' are.
    const loopback = await call(testEnv(), 'POST', '/sources', { token: org.token, body: s3Source(reader) });
    expect(loopback.status).toBe(400);
    expect(loopback.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['location.endpoint']);
    const metadata = await call(e, 'POST', '/sources', { token: org.token, body: s3Source(reader, { prefix: PREFIX, endpoint: 'https://169.254.169.254' }) });
    expect(metadata.status).toBe(400);
    expect(metadata.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['location.endpoint']);

    const r2 = await call(e, 'POST', '/sources', { token: org.token, body: { name: 'r2', format: 'parquet', location: { type: 'r2', binding: 'NOPE', prefix: 'x/' } } });
    expect(r2.status).toBe(400);
    expect(r2.body.error.issues).toEqual([expect.objectContaining({ path: 'location.binding', message: expect.stringContaining('"NOPE": this host has no binding of that name') })]);
    const notR2 = await call(e, 'POST', '/sources', { token: org.token, body: { name: 'r2', format: 'parquet', location: { type: 'r2', binding: 'DB', prefix: 'x/' } } });
    expect(notR2.body.error.issues[0].message).toContain('that binding is not an R2 bucket');
  });

  it('tests a source: files, rows and schema, or what to fix (the missing IAM action, an empty prefix, a schema mismatch)', async () => {
    const org = await newOrg(e);
    const { api } = recorder(org.token);
    const register = async (keys: Keys, location?: Record<string, unknown>, extra?: Record<string, unknown>) => {
      const res = await api('POST', '/sources', s3Source(keys, location, extra));
      expect(res.status, res.text).toBe(201);
      return (await api('POST', `/sources/${res.body.id}/test`)).body;
    };

    const ok = await register(reader);
    expect(ok).toMatchObject({ ok: true, location: `s3://${inject('moto').bucket}/${PREFIX}`, files: 2, rows: 500, sample: { key: `${PREFIX}part-0.parquet`, rows: 250, rowGroups: 3 } });
    expect(ok.more).toBeUndefined();
    expect(ok.schema.map((c: { name: string }) => c.name)).toEqual(['id', 'updatedAt', 'country', 'score', 'person.name', 'identities.email', 'notes']);
    expect(ok.schema.find((c: { name: string }) => c.name === 'score').type).toBe('double');

    const one = await register(reader, { key: `${PREFIX}part-1.parquet` });
    expect(one).toMatchObject({ ok: true, files: 1, rows: 250 });

    const noGet = await register(listOnly);
    expect(noGet).toMatchObject({ ok: false, error: { code: 'S3_ACCESS_DENIED', action: 's3:GetObject' } });
    expect(noGet.error.message).toContain('s3:GetObject');
    const noList = await register(getOnly);
    expect(noList).toMatchObject({ ok: false, error: { code: 'S3_ACCESS_DENIED', action: 's3:ListBucket' } });
    expect(noList.error.message).toContain('s3:ListBucket');

    const empty = await register(reader, { prefix: `${ROOT}nothing-here/` });
    expect(empty).toMatchObject({ ok: false, error: { code: 'SOURCE_NOT_FOUND' } });
    expect(empty.error.message).toContain(`${ROOT}nothing-here/`);
    const missing = await register(reader, { key: `${ROOT}missing.parquet` });
    expect(missing).toMatchObject({ ok: false, error: { code: 'SOURCE_NOT_FOUND' } });
    expect(missing.error.message).toContain(`${ROOT}missing.parquet`);

    const mismatch = await register(reader, { prefix: `${ROOT}typed/` }, { schema: [{ name: 'id', type: 'integer' }, { name: 'score', type: 'double' }] });
    expect(mismatch).toMatchObject({ ok: false, error: { code: 'SOURCE_INVALID' } });
    expect(mismatch.error.message).toMatch(/column "score" is string, expected double/);

    // Files of other formats are not read: no NDJSON under a prefix of Parquet files.
    const ndjson = await register(reader, { prefix: PREFIX }, { format: 'ndjson' });
    expect(ndjson).toMatchObject({ ok: false, error: { code: 'SOURCE_NOT_FOUND' } });
    expect(ndjson.error.message).toContain('No ndjson files under');
  });

  it('reads an R2 source through the Worker binding', async () => {
    const bucket = (bindings as unknown as { SNAPSHOTS: { put(key: string, value: string | Uint8Array): Promise<unknown> } }).SNAPSHOTS;
    await bucket.put('crm/a.csv', customerCsv(customerRows(5)));
    await bucket.put('crm/b.csv', customerCsv(customerRows(5, 6)));
    const org = await newOrg(e);
    const created = await call(e, 'POST', '/sources', { token: org.token, body: { name: 'r2', format: 'csv', location: { type: 'r2', binding: 'SNAPSHOTS', prefix: 'crm/' } } });
    expect(created.status, created.text).toBe(201);
    const tested = await call(e, 'POST', `/sources/${created.body.id}/test`, { token: org.token });
    expect(tested.body).toMatchObject({ ok: true, location: 'r2://SNAPSHOTS/crm/', files: 2, sample: { key: 'crm/a.csv' } });
    expect(tested.body.schema.map((c: { name: string }) => c.name)).toContain('identities.email');
  });
});

describe('audiences and dataflows over sources', () => {
  it('links rule audiences to a source; refuses it on uploads, unknown ids, mixed dataflows, previews and deleting a used source', async () => {
    const org = await newOrg(e);
    const { api } = recorder(org.token);
    const source = (await api('POST', '/sources', s3Source(reader))).body.id as string;

    const linked = await api('POST', '/audiences', { kind: 'rule', name: 'French', rule: 'attributes.country = "FR"', sourceId: source });
    expect(linked.status, linked.text).toBe(201);
    expect(linked.body).toMatchObject({ kind: 'rule', sourceId: source });
    expect(linked.body.warnings).toBeUndefined();
    expect((await api('GET', `/audiences/${linked.body.id}`)).body.sourceId).toBe(source);

    const upload = await api('POST', '/audiences', { kind: 'upload', name: 'List', sourceId: source });
    expect(upload.status).toBe(400);
    expect(upload.body.error.issues).toEqual([expect.objectContaining({ path: 'sourceId', message: expect.stringContaining('only rule audiences read a snapshot source') })]);

    const unknown = await api('POST', '/audiences', { kind: 'rule', name: 'X', rule: 'attributes.country = "FR"', sourceId: 'src_nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues).toEqual([expect.objectContaining({ path: 'sourceId', message: 'no such source in this organization, received "src_nope"' })]);

    // Another organization's source is unknown here.
    const other = await newOrg(e, 'Other');
    const foreign = await call(e, 'POST', '/audiences', { token: other.token, body: { kind: 'rule', name: 'X', rule: 'attributes.country = "FR"', sourceId: source } });
    expect(foreign.body.error.issues[0].path).toBe('sourceId');

    // Updating away from the source (PUT without sourceId) reads D1 again.
    const d1 = await api('POST', '/audiences', { kind: 'rule', name: 'Gold', rule: 'attributes.tier = "gold"' });
    const destination = (await api('POST', '/destinations', { name: 'd', bucket: 'acme-exports', region: 'eu-west-1', auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY' } })).body.id;
    const mapping = { fields: [{ source: 'id' }] };
    const mixed = await api('POST', '/dataflows', { name: 'mixed', destinationId: destination, audienceIds: [linked.body.id, d1.body.id], mapping });
    expect(mixed.status, mixed.text).toBe(400);
    expect(mixed.text).toContain('audienceIds');
    const issue = mixed.body.error.issues.find((i: { path: string }) => i.path === 'audienceIds');
    expect(issue.message).toContain(`"French" (${linked.body.id}) reads source ${source}`);
    expect(issue.message).toContain(`"Gold" (${d1.body.id}) reads the profiles in D1`);
    const same = await api('POST', '/audiences', { kind: 'rule', name: 'US', rule: 'attributes.country = "US"', sourceId: source });
    const together = await api('POST', '/dataflows', { name: 'one source', destinationId: destination, audienceIds: [linked.body.id, same.body.id], mapping });
    expect(together.status, together.text).toBe(201);

    const refused = await api('DELETE', `/sources/${source}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(`French (${linked.body.id})`);
    expect(refused.body.error.details.audienceIds).toEqual([linked.body.id, same.body.id]);

    const back = await api('PUT', `/audiences/${same.body.id}`, { kind: 'rule', name: 'US', rule: 'attributes.country = "US"' });
    expect(back.body.sourceId).toBeUndefined();
  });

  it('previews a snapshot audience from its first rows: exact within the bound, scaled to the Parquet row count past it, refused when the count is unknown', async () => {
    // ids 1–500 over two Parquet files; country is FR when id % 3 === 1 (167 of them).
    const frIn = (from: number, to: number) => customerRows(to - from + 1, from).filter((r) => r.country === 'FR').length;
    const org = await newOrg(e);
    const run = (env: typeof e) => async (method: string, path: string, body?: unknown) => call(env, method, path, { token: org.token, ...(body !== undefined && { body }) });
    const api = run(e);
    const source = (await api('POST', '/sources', s3Source(reader))).body.id as string;
    const audience = (await api('POST', '/audiences', { kind: 'rule', name: 'French', rule: 'attributes.country = "FR"', sourceId: source })).body.id as string;
    const mapping = { fields: [{ source: 'id' }, { source: 'attributes.nickname', mandatory: true }] };

    const whole = await api('POST', `/audiences/${audience}/preview`, { mapping });
    expect(whole.status, whole.text).toBe(200);
    expect(whole.body).toEqual({
      audienceId: audience,
      profiles: 500,
      members: frIn(1, 500),
      skipped: frIn(1, 500),
      skippedBy: { 'missing:attributes.nickname': frIn(1, 500) },
      complete: true,
    });

    const bounded = await run(testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', PREVIEW_MAX_PROFILES: '100' }))('POST', `/audiences/${audience}/preview`, {});
    expect(bounded.body).toEqual({
      audienceId: audience,
      profiles: 500,
      members: Math.round((frIn(1, 100) * 500) / 100),
      skipped: 0,
      skippedBy: {},
      complete: false,
      sample: { profiles: 100, members: frIn(1, 100), skipped: 0 },
    });

    // CSV files carry no row count: past the bound the preview says so instead of guessing.
    const bucket = (bindings as unknown as { SNAPSHOTS: { put(key: string, value: string): Promise<unknown> } }).SNAPSHOTS;
    await bucket.put('preview/a.csv', customerCsv(customerRows(10)));
    const csv = (await api('POST', '/sources', { name: 'csv', format: 'csv', location: { type: 'r2', binding: 'SNAPSHOTS', prefix: 'preview/' } })).body.id as string;
    const csvAudience = (await api('POST', '/audiences', { kind: 'rule', name: 'French CSV', rule: 'attributes.country = "FR"', sourceId: csv })).body.id as string;
    expect((await api('POST', `/audiences/${csvAudience}/preview`, {})).body).toMatchObject({ profiles: 10, members: frIn(1, 10), complete: true });
    const refused = await run(testEnv({ PREVIEW_MAX_PROFILES: '5' }))('POST', `/audiences/${csvAudience}/preview`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('csv files have no row counts');

    // A source the credentials cannot read: the error says what to fix.
    const denied = (await api('POST', '/sources', s3Source(listOnly))).body.id as string;
    const deniedAudience = (await api('POST', '/audiences', { kind: 'rule', name: 'Denied', rule: 'attributes.country = "FR"', sourceId: denied })).body.id as string;
    const failed = await api('POST', `/audiences/${deniedAudience}/preview`, {});
    expect(failed.status).toBe(422);
    expect(failed.body.error).toMatchObject({ code: 'S3_ACCESS_DENIED', message: expect.stringContaining('s3:GetObject') });
  });
});
