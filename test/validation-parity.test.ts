/**
 * One validation: `edge-export validate` and the API (POST and PUT /v1/destinations on the Node host,
 * in-process) refuse exactly the same destinations, each naming the same field — one table feeds
 * both. The CLI reports `destination.<field>`, the API `<field>`. One deliberate difference: an
 * assumed role's external id is assigned by the API (and refused in a body), while a CLI config,
 * with no server to assign it, states it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { createHost, type Host } from '../src/hosts/host.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import { openNodeDatabase } from '../src/hosts/node/sqlite.ts';
import { BUCKET_NAMES } from './support/bucket-names.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const key = (name: string) => readFile(join(ROOT, 'fixtures/pgp', `${name}.asc`), 'utf8');
const PLATFORM = { EDGE_EXPORT_AWS_ACCESS_KEY_ID: 'AKIAPLATFORMPARITY00', EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: 'platform-parity-secret' };

const base = {
  name: 'Parity',
  bucket: 'acme-exports',
  folderPath: 'exports/%SEGMENT_ID%',
  region: 'eu-west-1',
  auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY' },
  fileType: 'csv',
};
const role = { method: 'assumedRole', roleArn: 'arn:aws:iam::123456789012:role/edge-export' };

/** [what, overrides of the base destination, the field that must be named, or null when valid]. */
async function table(): Promise<[string, Record<string, unknown>, string | null][]> {
  return [
    ['the base destination', {}, null],
    ['Parquet with zstd', { fileType: 'parquet', formatOptions: { codec: 'zstd' } }, null],
    ['gzip at level 9 and a manifest', { compression: 'gzip', compressionOptions: { level: 9 }, manifest: true }, null],
    ['an assumed role', { auth: role }, null],
    ['a usable public key', { pgpPublicKey: await key('recipient-public') }, null],
    ['Hive-style and minute macros', { folderPath: 'exports/dt=%DATE%/%HH%%MI%' }, null],
    ['an upper-case bucket', { bucket: 'Bad_Bucket' }, 'bucket'],
    ['a bucket shaped like an IP address', { bucket: '192.168.1.1' }, 'bucket'],
    ['a region that is not one', { region: 'mars' }, 'region'],
    ['an unknown file type', { fileType: 'xml' }, 'fileType'],
    ['an unknown compression', { compression: 'brotli' }, 'compression'],
    ['gzip around Parquet', { fileType: 'parquet', compression: 'gzip' }, 'compression'],
    ['a two-character delimiter', { formatOptions: { delimiter: 'ab' } }, 'formatOptions.delimiter'],
    ['an unknown Parquet codec', { fileType: 'parquet', formatOptions: { codec: 'lz4' } }, 'formatOptions.codec'],
    ['gzip level 12', { compression: 'gzip', compressionOptions: { level: 12 } }, 'compressionOptions.level'],
    ['a folder that climbs out', { folderPath: '../up' }, 'folderPath'],
    ['an unknown folder macro', { folderPath: 'exports/%FOO%' }, 'folderPath'],
    ['a segment macro before the end', { folderPath: '%SEGMENT_NAME%/x' }, 'folderPath'],
    ['a private key', { pgpPublicKey: await key('recipient-secret') }, 'pgpPublicKey'],
    ['a sign-only key', { pgpPublicKey: await key('signing-only-public') }, 'pgpPublicKey'],
    ['an expired key', { pgpPublicKey: await key('expired-public') }, 'pgpPublicKey'],
    ['text that is no key', { pgpPublicKey: 'not a key' }, 'pgpPublicKey'],
    ['an unknown auth method', { auth: { method: 'password', password: 'x' } }, 'auth.method'],
    ['a short access key id', { auth: { ...base.auth, accessKeyId: 'AKIA' } }, 'auth.accessKeyId'],
    ['an access key without its secret', { auth: { method: 'accessKey', accessKeyId: base.auth.accessKeyId } }, 'auth.secretAccessKey'],
    ['a role ARN that is not one', { auth: { ...role, roleArn: 'arn:aws:iam::1:user/x' } }, 'auth.roleArn'],
    ['a KMS key without SSE-KMS', { kmsKeyId: 'alias/exports' }, 'kmsKeyId'],
    ['an unknown SSE', { sse: 'rot13' }, 'sse'],
    ['an endpoint that is not http(s)', { endpoint: 'ftp://files.example.com' }, 'endpoint'],
    ['an unknown canned ACL', { acl: 'everyone' }, 'acl'],
    ['an empty name', { name: ' ' }, 'name'],
    ['a manifest switch that is no boolean', { manifest: 'yes' }, 'manifest'],
    ['a field no destination has', { colour: 'blue' }, 'colour'],
  ];
}

let dir: string;
let host: Host;
let close: () => void;
let token: string;
let existing: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-export-parity-'));
  await writeFile(join(dir, 'profiles.ndjson'), '{"id":"p1","identities":{},"attributes":{}}\n');
  const database = await openNodeDatabase(join(dir, 'db.sqlite'), join(ROOT, 'migrations'));
  close = () => database.close();
  const env = { SECRETS_KEY: btoa('k'.repeat(32)), ADMIN_TOKEN: 'parity-admin-token-000000', ...PLATFORM };
  host = createHost(database.db, env, nodePlatform(env));
  const org = await api('POST', '/admin/organizations', { name: 'Parity' }, 'parity-admin-token-000000');
  token = org.body.token;
  existing = (await api('POST', '/destinations', base)).body.id;
  Object.assign(process.env, PLATFORM);
});

afterAll(async () => {
  for (const name of Object.keys(PLATFORM)) delete process.env[name];
  await host?.close();
  close?.();
  await rm(dir, { recursive: true, force: true });
});

async function api(method: string, path: string, body: unknown, bearer = token) {
  const res = await host.fetch(
    new Request(`http://127.0.0.1/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

async function validate(input: Record<string, unknown>) {
  const auth = input.auth as Record<string, unknown>;
  const destination = auth.method === 'assumedRole' ? { ...input, auth: { ...auth, externalId: 'ext-cli-parity' } } : input;
  const path = join(dir, `config-${crypto.randomUUID()}.json`);
  await writeFile(
    path,
    JSON.stringify({
      destination: { id: 'dst-parity', ...destination },
      source: { path: 'profiles.ndjson' },
      audience: { id: 'aud', name: 'All' },
      mapping: { fields: [{ source: 'id' }] },
    }),
  );
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => ({ write: (s: string) => into.push(s) > 0 });
  const io = { out: sink(out), err: sink(err) } as unknown as Parameters<typeof main>[1];
  const code = await main(['validate', '--config', path], io);
  return { code, out: out.join(''), err: err.join('') };
}

describe('edge-export validate and the API refuse the same destinations', () => {
  it('every row of the table: both accept, or both refuse naming the same field', async () => {
    const refusedByCli: string[] = [];
    const refusedByApi: string[] = [];
    for (const [what, overrides, field] of await table()) {
      const destination = { ...base, ...overrides };
      const cli = await validate(destination);
      const created = await api('POST', '/destinations', destination);
      const updated = await api('PUT', `/destinations/${existing}`, destination);
      if (cli.code !== 0) refusedByCli.push(what);
      if (created.status !== 201) refusedByApi.push(what);
      if (field === null) {
        expect(cli.code, `${what}: ${cli.err}`).toBe(0);
        expect(created.status, `${what}: ${created.text}`).toBe(201);
        expect(updated.status, `${what}: ${updated.text}`).toBe(200);
        continue;
      }
      expect(cli.code, `${what}: CLI exit`).toBe(2);
      expect(cli.err, `${what}: CLI names destination.${field}`).toContain(`destination.${field}:`);
      // An update that leaves the secret out keeps the stored one (the console never re-sends it).
      const keepsSecret = field === 'auth.secretAccessKey';
      if (keepsSecret) expect(updated.status, updated.text).toBe(200);
      for (const res of keepsSecret ? [created] : [created, updated]) {
        expect(res.status, `${what}: ${res.text}`).toBe(400);
        const paths = res.body.error.issues.map((i: { path: string }) => i.path);
        expect(paths, `${what}: API names ${field}`).toContain(field);
      }
    }
    expect(refusedByCli).toEqual(refusedByApi);
  });

  it("every bucket name of AWS's rules, reserved prefixes and suffixes included, through both", async () => {
    for (const { name, valid, reason } of BUCKET_NAMES) {
      const destination = { ...base, bucket: name };
      const cli = await validate(destination);
      const created = await api('POST', '/destinations', destination);
      if (valid) {
        expect(cli.code, `${name}: ${cli.err}`).toBe(0);
        expect(created.status, `${name}: ${created.text}`).toBe(201);
        continue;
      }
      expect(cli.code, name).toBe(2);
      expect(cli.err, name).toContain('destination.bucket:');
      expect(created.status, name).toBe(400);
      const issue = created.body.error.issues.find((i: { path: string }) => i.path === 'bucket');
      expect(issue?.message, `${name}: ${created.text}`).toContain(reason!);
      expect(cli.err, name).toContain(reason!);
    }
  });
});
