/**
 * The user journeys, run the same way against every host (the Worker in workerd, the Node host and
 * the Deno host), through the HTTP API only, against moto with authentication enforced and a
 * least-privilege writer. What lands in the bucket is read back with independent tools:
 * @aws-sdk/client-s3, papaparse, zlib, the `zstd` tool, DuckDB for Parquet and zstd CSV/JSON, avsc
 * for Avro and GnuPG for encrypted files.
 */
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAvro } from '../../packages/edge-export-avro/test/read-back.ts';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Gpg, startGpg } from '../harness/gpg.ts';
import { downloadPrefix, duckdbRows } from '../support/hive.ts';
import { type ReceivedAlert, startAlertReceiver } from '../harness/alert-receiver.ts';
import { startGateProxy } from '../harness/gate-proxy.ts';
import { slackProblems } from '../harness/slack.ts';
import { type Moto, createBucket, createRole, createUser, s3Reader, startMoto } from '../harness/moto.ts';
import { sourceJourney } from './sources.ts';
import { fanoutJourney } from './fanout.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, settledRun, startJourneyHost } from './hosts.ts';

const BUCKET = 'journeys';
const ORG = 'Acme Retail';
const ALERT_SECRET = 'journey-alert-secret-0123456789';

/** Twelve profiles: even ones gold, odd ones silver; emails p<i>@example.com. */
function profiles(from: number, to: number, tier = (i: number) => (i % 2 === 0 ? 'gold' : 'silver')): string {
  const lines = [];
  for (let i = from; i < to; i++) {
    lines.push(JSON.stringify({ id: `p${String(i).padStart(2, '0')}`, identities: { email: [`p${i}@example.com`] }, attributes: { tier: tier(i), spend: i * 10.5 } }));
  }
  return lines.join('\n');
}
const GOLD = ['p00', 'p02', 'p04', 'p06', 'p08', 'p10'];
const UPLOADED = ['p01', 'p02', 'p03'];

/** Registers the journeys for one host. */
export function journeys(kind: HostKind): void {
  describe(`user journeys on the ${kind} host`, { timeout: 120_000 }, () => {
    const folder = `${kind}/`;
    let moto: Moto;
    let s3: S3Client;
    let gpg: Gpg;
    let host: JourneyHost;
    let api: Api;
    let writer: { accessKeyId: string; secretAccessKey: string };
    let platformArn: string;
    let gold: string;
    let uploaded: string;
    const dir = { path: '' };

    beforeAll(async () => {
      [moto, gpg] = await Promise.all([startMoto(), startGpg()]);
      dir.path = await mkdtemp(join(tmpdir(), `edge-export-journey-files-${kind}-`));
      await createBucket(moto, BUCKET);
      const user = await createUser(moto, 'writer', permissionPolicy({ bucket: BUCKET, folderPath: folder }));
      writer = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
      const platform = await createUser(moto, 'edge-export-platform', {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
      });
      platformArn = platform.arn;
      await moto.enableAuth();
      s3 = s3Reader(moto);
      host = await startJourneyHost(kind, {
        ALLOW_LOOPBACK_ENDPOINTS: 'true',
        EDGE_EXPORT_AWS_ACCESS_KEY_ID: platform.accessKeyId,
        EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: platform.secretAccessKey,
        PLATFORM_PRINCIPAL_ARN: platformArn,
        CONSOLE_URL: 'https://console.example.com/',
      });
    }, 120_000);

    afterAll(async () => {
      s3?.destroy();
      await host?.stop();
      await moto?.stop();
      await gpg?.stop();
      if (dir.path) await rm(dir.path, { recursive: true, force: true });
    });

    /** A destination under this host's folder, with the writer's keys, merged with `extra`. */
    const destination = async (sub: string, extra: Record<string, unknown> = {}) => {
      const res = await api('POST', '/destinations', {
        name: `Acme ${sub}`,
        bucket: BUCKET,
        folderPath: `${folder}${sub}/`,
        region: moto.region,
        endpoint: moto.endpoint,
        auth: { method: 'accessKey', ...writer },
        ...extra,
      });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    const dataflow = async (body: Record<string, unknown>) => {
      const res = await api('POST', '/dataflows', {
        mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }, { source: 'attributes.spend', type: 'double' }] },
        ...body,
      });
      expect(res.status, res.text).toBe(201);
      return res.body as { id: string; webhookSecret: string };
    };
    const runNow = async (flowId: string) => {
      const queued = await api('POST', `/dataflows/${flowId}/run`);
      expect(queued.status, queued.text).toBe(202);
      const run = await settledRun(api, queued.body.id);
      expect(run.status, `${JSON.stringify(run.error)}\n${host.output()}`).toBe('succeeded');
      return run;
    };
    const runsOf = async (flowId: string) => (await api('GET', `/runs?dataflowId=${flowId}`)).body.items as { id: string; status: string; trigger: string }[];
    const object = async (key: string) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    };
    const keysUnder = async (prefix: string) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
    const csvIds = (text: string) =>
      Papa.parse<Record<string, string>>(text.trim(), { header: true }).data.map((r) => r.id!).sort();

    it('creates an organization, ingests profiles, and makes a rule audience and a custom upload', async () => {
      const admin = apiClient(host.url, host.adminToken);
      const org = await admin('POST', '/admin/organizations', { name: ORG, sandbox: 'staging' });
      expect(org.status, org.text).toBe(201);
      api = apiClient(host.url, org.body.token);
      expect((await api('POST', '/profiles', profiles(0, 12), 'application/x-ndjson')).body).toEqual({ stored: 12 });
      const rule = await api('POST', '/audiences', { kind: 'rule', name: 'Gold tier', rule: 'attributes.tier = "gold"' });
      expect(rule.status, rule.text).toBe(201);
      gold = rule.body.id;
      const upload = await api('POST', '/audiences', { kind: 'upload', name: 'Campaign list' });
      uploaded = upload.body.id;
      const csv = `namespace,value,segment\n${UPLOADED.map((id) => `email,p${Number(id.slice(1))}@example.com,vip`).join('\n')}\n`;
      const imported = await api('POST', `/audiences/${uploaded}/members`, csv, 'text/csv');
      expect(imported.body).toMatchObject({ imported: 3, rows: 3, evaluationId: expect.stringMatching(/^evl_/) });
    });

    it('tests the connection and prints the policies the export needs, with and without a KMS key', async () => {
      const plain = await destination('csv', { fileType: 'csv', compression: 'gzip', manifest: true });
      const test = await api('POST', `/destinations/${plain}/test`);
      expect(test.status, test.text).toBe(200);
      expect(test.body.results.filter((r: { ok: boolean }) => !r.ok)).toEqual([]);
      const policies = (await api('GET', `/destinations/${plain}/policies`)).body;
      expect(policies.permissionPolicy).toEqual(permissionPolicy({ bucket: BUCKET, folderPath: `${folder}csv/` }));
      expect(policies.trustPolicy).toBeUndefined();
      const kmsKey = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      const kms = await destination('kms', { sse: 'aws:kms', kmsKeyId: kmsKey });
      const withKms = (await api('GET', `/destinations/${kms}/policies`)).body.permissionPolicy;
      expect(withKms.Statement).toContainEqual({ Sid: 'EncryptWithKmsKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: kmsKey });
    });

    sourceJourney(() => ({ moto, host, s3, bucket: BUCKET, folder }));
    fanoutJourney(() => ({ moto, host, s3, bucket: BUCKET, folder, writer: () => writer }));

    it('exports on demand: both audiences as gzip CSV, one manifest last, names from the organization', async () => {
      const dst = await destination('ondemand', { fileType: 'csv', compression: 'gzip', manifest: true, folderPath: `${folder}ondemand/%SEGMENT_ID%` });
      const flow = await dataflow({
        name: 'on demand',
        destinationId: dst,
        audienceIds: [gold, uploaded],
        naming: { audienceName: true, organization: true, sandbox: true },
      });
      const run = await runNow(flow.id);
      const files = run.files as { key: string; rows: number }[];
      const manifestKey = `${folder}ondemand/manifest-${dst}-${run.id}.json`;
      expect(files.map((f) => f.key)).toContain(manifestKey);
      const goldFile = files.find((f) => f.key.startsWith(`${folder}ondemand/${gold}/`))!;
      expect(goldFile.key).toMatch(new RegExp(`/Acme_ondemand_${gold}_Gold_tier_\\d{8}_\\d{6}_Acme_Retail_staging\\.csv\\.gz$`));
      expect(csvIds(gunzipSync(await object(goldFile.key)).toString())).toEqual(GOLD);
      const listFile = files.find((f) => f.key.startsWith(`${folder}ondemand/${uploaded}/`))!;
      expect(csvIds(gunzipSync(await object(listFile.key)).toString())).toEqual(UPLOADED);
      const manifest = JSON.parse((await object(manifestKey)).toString());
      expect(manifest.flowRunId).toBe(run.id);
      expect(manifest.exportResults.map((r: { sinkPath: string; name: string }) => `${r.sinkPath}/${r.name}`).sort()).toEqual(
        files.filter((f) => f.key !== manifestKey).map((f) => f.key).sort(),
      );
    });

    it('exports on a cron tick, once per slot, whatever the duplicate and late ticks', async () => {
      const dst = await destination('cron');
      const slot = new Date(Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000);
      const flow = await dataflow({
        name: 'daily',
        destinationId: dst,
        audienceIds: [gold],
        schedule: { frequency: 'daily', time: slot.toISOString().slice(11, 16), startDate: slot.toISOString().slice(0, 10) },
      });
      await host.tick(new Date(slot.getTime() - 60_000));
      expect(await runsOf(flow.id)).toEqual([]);
      await host.tick(new Date(slot.getTime() + 60_000));
      await host.tick(new Date(slot.getTime() + 60_000));
      await host.tick(new Date(slot.getTime() + 120_000));
      const runs = await runsOf(flow.id);
      expect(runs.map((r) => r.trigger)).toEqual(['schedule']);
      const run = await settledRun(api, runs[0]!.id);
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      expect(run.scheduledTime).toBe(slot.toISOString());
      expect(csvIds((await object(run.files[0].key)).toString())).toEqual(GOLD);
    });

    it('exports on a signed webhook delivery, and refuses a bad signature', async () => {
      const dst = await destination('webhook');
      const flow = await dataflow({ name: 'webhook', destinationId: dst, audienceIds: [gold] });
      const body = JSON.stringify({ event: 'campaign.ready' });
      const deliver = (signatureOf: (ts: string) => string) => {
        const ts = String(Math.floor(Date.now() / 1000));
        return fetch(`${host.url}/v1/webhooks/${flow.id}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Edge-Export-Timestamp': ts, 'X-Edge-Export-Signature': signatureOf(ts) },
          body,
        });
      };
      const bad = await deliver(() => 'f'.repeat(64));
      expect(bad.status).toBe(401);
      const good = await deliver((ts) => createHmac('sha256', flow.webhookSecret).update(`${ts}.${body}`).digest('hex'));
      expect(good.status, await good.clone().text()).toBe(202);
      const run = await settledRun(api, ((await good.json()) as { id: string }).id);
      expect(run).toMatchObject({ status: 'succeeded', trigger: 'webhook', rows: GOLD.length });
    });

    it('exports a dataset in full, then incrementally, into <folder>/<dataset>/exportTime=YYYYMMDDHHMM/', async () => {
      const dataset = await api('POST', '/datasets', {
        id: 'orders',
        name: 'Orders',
        schema: [
          { name: 'id', type: 'string', nullable: false },
          { name: 'amount', type: 'double' },
        ],
      });
      expect(dataset.status, dataset.text).toBe(201);
      const t0 = Date.now();
      const records = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) =>
          JSON.stringify({ id: `o${from + i}`, updatedAt: new Date(t0 + (from + i) * 1000).toISOString(), values: { id: `o${from + i}`, amount: (from + i) * 2.5 } }),
        ).join('\n');
      expect((await api('POST', '/datasets/orders/records', records(0, 5), 'application/x-ndjson')).status).toBe(200);
      const dst = await destination('datasets', { fileType: 'json', compression: 'gzip' });
      const flow = await dataflow({ name: 'orders', destinationId: dst, datasetId: 'orders', exportMode: 'incremental', mapping: undefined });
      const first = await runNow(flow.id);
      const exportTime = (iso: string) => iso.slice(0, 16).replace(/[-T:]/g, '');
      expect(first.files[0].key).toMatch(new RegExp(`^${folder}datasets/orders/exportTime=${exportTime(first.scheduledTime)}/[^/]+\\.json\\.gz$`));
      const ids = async (key: string) =>
        gunzipSync(await object(key)).toString().trim().split('\n').map((l) => JSON.parse(l).id).sort();
      expect(await ids(first.files[0].key)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
      expect((await api('POST', '/datasets/orders/records', records(5, 8), 'application/x-ndjson')).status).toBe(200);
      const second = await runNow(flow.id);
      expect(second.files[0].key).toMatch(new RegExp(`^${folder}datasets/orders/exportTime=${exportTime(second.scheduledTime)}/`));
      expect(await ids(second.files[0].key)).toEqual(['o5', 'o6', 'o7']);
    });

    it('runs an "after audience evaluation" dataflow once per evaluation', async () => {
      const dst = await destination('evaluation');
      const flow = await dataflow({
        name: 'after evaluation',
        destinationId: dst,
        audienceIds: [gold],
        schedule: { frequency: 'daily', time: 'afterEvaluation', startDate: new Date().toISOString().slice(0, 10) },
      });
      const base = Date.now() + 2 * 3_600_000;
      const at = (minutes: number) => new Date(base + minutes * 60_000);
      // The ingest and the upload above are still open evaluations: the first tick closes them: one run.
      await host.tick(at(1));
      expect(await runsOf(flow.id)).toHaveLength(1);
      await host.tick(at(2));
      expect(await runsOf(flow.id)).toHaveLength(1);
      // Two explicit evaluations before a tick are one evaluation of the tick: one run.
      for (let i = 0; i < 2; i++) expect((await api('POST', `/audiences/${gold}/evaluate`)).status).toBe(202);
      await host.tick(at(3));
      await host.tick(at(3));
      expect(await runsOf(flow.id)).toHaveLength(2);
      // New profiles are an evaluation of every audience.
      await api('POST', '/profiles', profiles(12, 14), 'application/x-ndjson');
      await host.tick(at(4));
      // An upload into another audience is not this dataflow's evaluation.
      await api('POST', `/audiences/${uploaded}/members`, 'namespace,value\nemail,p1@example.com\n', 'text/csv');
      await host.tick(at(5));
      const runs = await runsOf(flow.id);
      expect(runs).toHaveLength(3);
      for (const run of runs) expect((await settledRun(api, run.id)).status).toBe('succeeded');
      const last = await settledRun(api, runs[0]!.id);
      expect(last.rows).toBe(GOLD.length + 1); // p12 joined
    });

    it('encrypts with RSA and Curve25519 keys, and gpg decrypts what landed', async () => {
      for (const [name, key] of [['rsa', gpg.keys.rsa], ['ecc', gpg.keys.ecc]] as const) {
        const dst = await destination(`pgp-${name}`, { fileType: 'csv', compression: 'gzip', pgpPublicKey: key });
        const flow = await dataflow({ name: `pgp ${name}`, destinationId: dst, audienceIds: [gold] });
        const run = await runNow(flow.id);
        expect(run.files[0].key).toMatch(/\.csv\.gz\.gpg$/);
        const { plaintext, status } = await gpg.decrypt(await object(run.files[0].key));
        expect(status).toContain('DECRYPTION_OKAY');
        expect(status).toContain('GOODMDC');
        expect(csvIds(gunzipSync(plaintext).toString())).toEqual([...GOLD, 'p12'].sort());
      }
    });

    it('writes every format and codec, each read back by an independent reader', async () => {
      const members = [...GOLD, 'p12'].sort();
      const cases: [string, Record<string, unknown>, (bytes: Buffer, key: string) => Promise<string[]>][] = [
        ['csv', { fileType: 'csv' }, async (b) => csvIds(b.toString())],
        ['csv-gzip9', { fileType: 'csv', compression: 'gzip', compressionOptions: { level: 9 } }, async (b) => csvIds(gunzipSync(b).toString())],
        ['json', { fileType: 'json' }, async (b) => jsonIds(b.toString())],
        ['json-gzip', { fileType: 'json', compression: 'gzip' }, async (b) => jsonIds(gunzipSync(b).toString())],
        ...(['snappy', 'gzip', 'zstd', 'uncompressed'] as const).map(
          (codec) =>
            [`parquet-${codec}`, { fileType: 'parquet', formatOptions: { codec } }, (b: Buffer, key: string) => parquetIds(b, key, codec)] as [
              string,
              Record<string, unknown>,
              (bytes: Buffer, key: string) => Promise<string[]>,
            ],
        ),
      ];
      for (const [name, options, read] of cases) {
        const dst = await destination(`format-${name}`, options);
        const flow = await dataflow({ name, destinationId: dst, audienceIds: [gold] });
        const run = await runNow(flow.id);
        expect(await read(await object(run.files[0].key), run.files[0].key), name).toEqual(members);
      }
    });

    it('compresses CSV and JSON with zstd, alone and under PGP: zstd -t, zstd -d and DuckDB read them back', async () => {
      const members = [...GOLD, 'p12'].sort();
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['csv', { fileType: 'csv', compression: 'zstd', compressionOptions: { level: 7 } }, /\.csv\.zst$/],
        ['json', { fileType: 'json', compression: 'zstd' }, /\.json\.zst$/],
        ['csv-pgp', { fileType: 'csv', compression: 'zstd', pgpPublicKey: gpg.keys.ecc }, /\.csv\.zst\.gpg$/],
      ];
      for (const [name, options, extension] of cases) {
        const dst = await destination(`zstd-${name}`, options);
        const flow = await dataflow({ name: `zstd ${name}`, destinationId: dst, audienceIds: [gold] });
        const [file] = (await runNow(flow.id)).files as { key: string; size: number }[];
        expect(file!.key, name).toMatch(extension);
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: file!.key }));
        expect(got.ContentEncoding, name).toBe(name.endsWith('pgp') ? undefined : 'zstd');
        let bytes: Uint8Array = await got.Body!.transformToByteArray();
        expect(bytes.byteLength, name).toBe(file!.size);
        if (name.endsWith('pgp')) {
          const { plaintext, status } = await gpg.decrypt(bytes);
          expect(status).toContain('DECRYPTION_OKAY');
          bytes = plaintext;
        }
        const path = join(dir.path, `${kind}-${name}.${name.startsWith('csv') ? 'csv' : 'json'}.zst`);
        await writeFile(path, bytes);
        expect(spawnSync('zstd', ['-q', '-t', path]).status, name).toBe(0);
        const plain = spawnSync('zstd', ['-q', '-dc', path], { encoding: 'utf8' }).stdout;
        expect(name.startsWith('csv') ? csvIds(plain) : jsonIds(plain), name).toEqual(members);
        const duck = await (await DuckDBInstance.create(':memory:')).connect();
        try {
          const reader = name.startsWith('csv') ? `read_csv('${path}', header = true)` : `read_json('${path}', format = 'newline_delimited')`;
          const ids = (await duck.runAndReadAll(`SELECT id FROM ${reader} ORDER BY id`)).getRowObjectsJson().map((r) => String(r.id));
          expect(ids, name).toEqual(members);
        } finally {
          duck.closeSync();
        }
      }
    });

    it('computes calculated fields (hashed email, phone, joined tags, flattened address) alike in the preview and the export', async () => {
      const people = [
        { id: 'ads1', identities: { email: ['  Ada.Lovelace@Example.COM '], phone: ['+44 20 7946 0018'] }, attributes: { tier: 'ads', tags: ['vip', ['beta', 'x']], address: { city: 'London', geo: { lat: 51.5 } } } },
        { id: 'ads2', identities: { email: ['GRACE@navy.MIL'], phone: ['0033 6 12 34 56 78'] }, attributes: { tier: 'ads', tags: [], address: { city: 'Arlington' } } },
        { id: 'ads3', identities: { email: ['linus@kernel.org'], phone: ['n/a'] }, attributes: { tier: 'ads', tags: ['x'], address: {} } },
      ];
      expect((await api('POST', '/profiles', people.map((p) => JSON.stringify(p)).join('\n'), 'application/x-ndjson')).body).toEqual({ stored: 3 });
      const audience = (await api('POST', '/audiences', { kind: 'rule', name: 'Ads', rule: 'attributes.tier = "ads"' })).body.id as string;
      const fields = [
        { source: 'id' },
        { source: 'identities.email', target: 'email_sha256', transforms: ['trim', 'lowercase', 'sha256'] },
        { source: 'identities.phone', target: 'phone', transforms: ['phone'], mandatory: true },
        { source: 'attributes.tags', target: 'tags', transforms: [{ name: 'join', separator: '|' }] },
        { source: 'attributes.address', target: 'address', transforms: ['flatten'] },
      ];
      // The preview skips what the export skips: "n/a" has no digit, so ads3's mandatory phone is missing.
      const preview = await api('POST', `/audiences/${audience}/preview`, { mapping: { fields } });
      expect(preview.body).toMatchObject({ members: 3, skipped: 1, skippedBy: { 'missing:identities.phone': 1 } });
      const misspelt = await api('POST', '/dataflows', { name: 'ads bad', destinationId: await destination('ads-bad'), audienceIds: [audience], mapping: { fields: [{ source: 'id', transforms: ['sha-256'] }] } });
      expect(misspelt.status).toBe(400);
      expect(misspelt.body.error.issues).toContainEqual(expect.objectContaining({ path: 'mapping.fields[0].transforms[0]', message: expect.stringContaining('(did you mean "sha256"?)') }));
      const dst = await destination('ads', { fileType: 'csv', formatOptions: { escape: '"' } });
      const flow = await dataflow({ name: 'ads', destinationId: dst, audienceIds: [audience], mapping: { fields } });
      const run = await runNow(flow.id);
      expect(run).toMatchObject({ rows: 2, skipped: { 'missing:identities.phone': 1 } });
      const text = (await object(run.files[0].key)).toString();
      const rows = Papa.parse<Record<string, string>>(text.trim(), { header: true }).data;
      const sha = (s: string) => createHash('sha256').update(s).digest('hex');
      const want = [
        { id: 'ads1', email_sha256: sha('ada.lovelace@example.com'), phone: '+442079460018', tags: 'vip|beta|x', address: '{"city":"London","geo.lat":51.5}' },
        { id: 'ads2', email_sha256: sha('grace@navy.mil'), phone: '+33612345678', tags: '', address: '{"city":"Arlington"}' },
      ];
      expect(rows.sort((a, b) => a.id!.localeCompare(b.id!))).toEqual(want);
      const path = join(dir.path, `${kind}-ads.csv`);
      await writeFile(path, text);
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      try {
        const read = (await duck.runAndReadAll(`SELECT id, email_sha256, phone FROM read_csv('${path}', header = true, all_varchar = true) ORDER BY id`)).getRowObjectsJson();
        expect(read).toEqual(want.map(({ id, email_sha256, phone }) => ({ id, email_sha256, phone })));
      } finally {
        duck.closeSync();
      }
    });

    /** Ids of a Parquet file, read by DuckDB, after checking every column chunk uses `codec`. */
    async function parquetIds(bytes: Buffer, key: string, codec: string): Promise<string[]> {
      const file = join(dir.path, key.replaceAll('/', '_'));
      await writeFile(file, bytes);
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      try {
        const codecs = (await duck.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).getRowObjectsJson();
        expect(codecs).toEqual([{ compression: codec.toUpperCase() }]);
        return (await duck.runAndReadAll(`SELECT id FROM read_parquet('${file}') ORDER BY id`)).getRowObjectsJson().map((r) => String(r.id));
      } finally {
        duck.closeSync();
      }
    }

    it('exports Avro through a third-party plugin (packages/edge-export-avro): listed, validated by its schema, read back by avsc', async () => {
      // Discovered from the host's registry, with its option schema: what the console's form offers.
      const formats = (await api('GET', '/plugins?kind=format')).body.items as { name: string; destination: { field: string; value: string }; options: { properties: Record<string, { enum?: string[] }> } }[];
      const plugin = formats.find((p) => p.name === 'format/avro')!;
      expect(plugin.destination).toEqual({ field: 'fileType', value: 'avro' });
      expect(plugin.options.properties.codec!.enum).toEqual(['null', 'deflate', 'snappy', 'zstandard']);
      expect(formats.map((p) => p.destination.value)).toEqual(expect.arrayContaining(['csv', 'json', 'parquet', 'avro']));
      // Refused at configuration time, at the user's field: a misspelt file type, the plugin's own option
      // schema, and an outer compression for a format that compresses inside the file.
      const refused = async (extra: Record<string, unknown>) => {
        const res = await api('POST', '/destinations', { name: 'bad', bucket: BUCKET, region: moto.region, endpoint: moto.endpoint, auth: { method: 'accessKey', ...writer }, ...extra });
        expect(res.status, res.text).toBe(400);
        return res.body.error.issues as { path: string; message: string }[];
      };
      expect(await refused({ fileType: 'avrro' })).toMatchObject([
        { path: 'fileType', message: expect.stringMatching(/"avrro" is not available on this host; expected .*avro.* \(did you mean "avro"\?\)$/) },
      ]);
      expect(await refused({ fileType: 'avro', formatOptions: { codec: 'lz4', blockRows: 0 } })).toMatchObject([
        { path: 'formatOptions.codec', message: expect.stringMatching(/expected one of null, deflate, snappy, zstandard/) },
        { path: 'formatOptions.blockRows' },
      ]);
      expect(await refused({ fileType: 'avro', compression: 'gzip' })).toMatchObject([
        { path: 'compression', message: expect.stringMatching(/format "avro" compresses internally; use its codec option instead of an outer compression/) },
      ]);

      const members = [...GOLD, 'p12'].sort();
      // zstandard is the host's zstd (Platform.zstd), which every host here provides.
      for (const codec of ['deflate', 'snappy', 'zstandard'] as const) {
        const dst = await destination(`avro-${codec}`, { fileType: 'avro', formatOptions: { codec, blockRows: 4 } });
        const flow = await dataflow({ name: `avro ${codec}`, destinationId: dst, audienceIds: [gold] });
        const run = await runNow(flow.id);
        const [file] = run.files as { key: string; rows: number }[];
        expect(file!.key).toMatch(/\.avro$/);
        const read = await readAvro(await object(file!.key));
        expect(read.codec).toBe(codec);
        expect(read.blocks).toEqual([4, 3]);
        expect(read.schema).toMatchObject({ type: 'record', fields: [{ name: 'id' }, { name: 'email' }, { name: 'spend', type: ['null', 'double'] }] });
        expect(read.records.sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual(
          members.map((id) => ({ id, email: `p${Number(id.slice(1))}@example.com`, spend: Number(id.slice(1)) * 10.5 })),
        );
      }
    });

    it('exports through an assumed role (STS at a custom endpoint) set up from its own trust policy', async () => {
      const role = { method: 'assumedRole', roleArn: 'arn:aws:iam::123456789012:role/edge-export-writer', stsEndpoint: moto.endpoint };
      const dst = await destination('role', { auth: role });
      const policies = (await api('GET', `/destinations/${dst}/policies`)).body;
      expect(policies.externalId).toMatch(/^ext_/);
      expect(policies.trustPolicy.Statement[0]).toMatchObject({
        Principal: { AWS: platformArn },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': policies.externalId } },
      });
      // The customer creates the role from the documents the API printed.
      await createRole(moto, 'edge-export-writer', policies.trustPolicy, policies.permissionPolicy);
      const flow = await dataflow({ name: 'role', destinationId: dst, audienceIds: [gold] });
      const run = await runNow(flow.id);
      expect(csvIds((await object(run.files[0].key)).toString())).toEqual([...GOLD, 'p12'].sort());
    });

    it('refuses private, sign-only, expired and non-keys at create and update; stores and echoes none', async () => {
      const good = await destination('pgp-refusals', { pgpPublicKey: gpg.keys.ecc });
      const secretLines = gpg.keys.eccSecret.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
      const bad: [string, string, RegExp][] = [
        ['private', gpg.keys.eccSecret, /PRIVATE key/],
        ['sign-only', gpg.keys.sign, /no encryption subkey/],
        ['expired', gpg.keys.expired, /has expired/],
        ['not a key', 'not a key', /not an ASCII-armored public key/],
      ];
      for (const [what, key, message] of bad) {
        const body = { name: `refused ${what}`, bucket: BUCKET, folderPath: `${folder}x/`, region: moto.region, endpoint: moto.endpoint, auth: { method: 'accessKey', ...writer }, pgpPublicKey: key };
        for (const [method, path] of [['POST', '/destinations'], ['PUT', `/destinations/${good}`]] as const) {
          const res = await api(method, path, body);
          expect(res.status, `${what} ${method}`).toBe(400);
          const issue = res.body.error.issues.find((i: { path: string }) => i.path === 'pgpPublicKey');
          expect(issue?.message, `${what} ${method}: ${res.text}`).toMatch(message);
          for (const line of secretLines) expect(res.text).not.toContain(line);
        }
      }
      // The update was refused: the destination still has its good key.
      expect((await api('GET', `/destinations/${good}`)).body.pgpPublicKey).toBe(gpg.keys.ecc);
      const listed = await api('GET', '/destinations');
      for (const line of secretLines) expect(listed.text).not.toContain(line);
      const stored = await host.storedBytes();
      expect(stored.length).toBeGreaterThan(0);
      for (const line of secretLines) expect(stored.includes(Buffer.from(line))).toBe(false);
      // Sanity: what a good key looks like in storage is found by the same search.
      expect(stored.includes(Buffer.from(gpg.keys.ecc.split('\n').find((l) => l.length > 40)!))).toBe(true);
    });

    it('partitions by a mapped column into tier=… folders named by a template; DuckDB reads them with hive_partitioning', async () => {
      const dst = await destination('partitioned', { fileType: 'parquet', manifest: true });
      // Its own member list (other journeys change the shared one): p01 and p03 are silver, p02 gold.
      const members = (await api('POST', '/audiences', { kind: 'upload', name: 'Partitioned list' })).body.id as string;
      const csv = `namespace,value\n${UPLOADED.map((id) => `email,p${Number(id.slice(1))}@example.com`).join('\n')}\n`;
      expect((await api('POST', `/audiences/${members}/members`, csv, 'text/csv')).body).toMatchObject({ imported: 3 });
      const mapping = { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }, { source: 'attributes.tier', target: 'tier' }] };
      const template = '{destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}';
      // Mistakes are refused at configuration time, each at its field, with a did-you-mean.
      const refused = await api('POST', '/dataflows', { name: 'bad', destinationId: dst, audienceIds: [members], mapping, naming: { template: '{destination}_{audiance.id}' }, partitionBy: { columns: ['teir'] } });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body.error.issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'naming.template', message: expect.stringContaining('unknown token {audiance.id} (did you mean "{audience.id}"?)') }),
          expect.objectContaining({ path: 'partitionBy.columns[0]', message: expect.stringContaining('"teir" is not an output column (did you mean "tier"?)') }),
        ]),
      );
      const flow = await dataflow({ name: 'partitioned', destinationId: dst, audienceIds: [members], mapping, naming: { template }, partitionBy: { columns: ['tier'] } });
      expect((await api('GET', `/dataflows/${flow.id}`)).body).toMatchObject({ naming: { template }, partitionBy: { columns: ['tier'], maxPartitions: 1000 } });
      // Two runs back to back (the same second, often): {run.id} keeps both runs' files.
      const runs = [await runNow(flow.id), await runNow(flow.id)];
      const local = join(dir.path, 'partitioned');
      const keys = await downloadPrefix(s3, BUCKET, `${folder}partitioned/`, local);
      for (const run of runs) {
        const day = run.scheduledTime.slice(0, 10).replaceAll('-', '');
        const name = `Acme_partitioned_${members}_${day}_${run.id}.parquet`;
        expect(keys).toEqual(expect.arrayContaining([`${folder}partitioned/tier=gold/${name}`, `${folder}partitioned/tier=silver/${name}`]));
        const manifestKey = `${folder}partitioned/manifest-${dst}-${run.id}.json`;
        const manifest = JSON.parse((await object(manifestKey)).toString());
        expect(manifest.exportResults.map((r: { sinkPath: string; partition: object; rows: number }) => [r.sinkPath, r.partition, r.rows])).toEqual([
          [`${folder}partitioned/tier=gold`, { tier: 'gold' }, 1],
          [`${folder}partitioned/tier=silver`, { tier: 'silver' }, 2],
        ]);
        const got = await duckdbRows(`SELECT id, tier FROM read_parquet('${local}/${folder}partitioned/*/*${run.id}.parquet', hive_partitioning = true) ORDER BY id`);
        expect(got).toEqual([{ id: 'p01', tier: 'silver' }, { id: 'p02', tier: 'gold' }, { id: 'p03', tier: 'silver' }]);
      }
      // Past its partition bound a run fails with a clear error, and nothing of it stays.
      const bounded = await dataflow({ name: 'bounded', destinationId: dst, audienceIds: [gold, members], mapping, partitionBy: { columns: ['tier'], maxPartitions: 1 } });
      const queued = await api('POST', `/dataflows/${bounded.id}/run`);
      const failed = await settledRun(api, queued.body.id);
      expect(failed.status).toBe('failed');
      expect(failed.error.code).toBe('PARTITION_LIMIT');
      expect(failed.error.message).toContain('more than 1 partitions (partitionBy.maxPartitions)');
      expect(await keysUnder(`${folder}partitioned/`)).toEqual(keys);
    });

    it('runs two audiences of one dataflow on their own slots, each with its own file names', async () => {
      const dst = await destination('peraudience', { folderPath: `${folder}peraudience/%SEGMENT_ID%` });
      const hour = 3_600_000;
      // Slots a day ahead of every other journey's ticks: the list follows the dataflow's daily slot
      // t1 with its own naming; gold has its own daily slot an hour later, and its own naming too.
      const t1 = new Date(Math.ceil((Date.now() + 30 * hour) / hour) * hour);
      const t2 = new Date(t1.getTime() + hour);
      const daily = (at: Date) => ({ frequency: 'daily', time: at.toISOString().slice(11, 16), startDate: at.toISOString().slice(0, 10) });
      const body = {
        name: 'per audience',
        destinationId: dst,
        audienceIds: [gold, uploaded],
        schedule: daily(t1),
        naming: { dateTime: 'datetime' },
        audiences: [
          { id: gold, schedule: daily(t2), naming: { audienceName: true, dateTime: 'unix', customText: 'goldfeed' } },
          { id: uploaded, naming: { dateTime: 'none', customText: 'listfeed', sandbox: true } },
        ],
      };
      // Bad per-audience settings are refused, each at its own field.
      const refused = await api('POST', '/dataflows', {
        ...body,
        mapping: { fields: [{ source: 'id' }] },
        audiences: [{ id: 'aud_elsewhere' }, { id: uploaded, schedule: { frequency: 'fortnightly', startDate: '2026-01-01' }, naming: { customText: 'a b' } }],
      });
      expect(refused.status, refused.text).toBe(400);
      const paths = (refused.body.error.issues as { path: string }[]).map((i) => i.path).sort();
      expect(paths).toEqual(['audiences[1].naming.customText', 'audiences[1].schedule.frequency']);
      const orphan = await api('POST', '/dataflows', { ...body, mapping: { fields: [{ source: 'id' }] }, audiences: [{ id: 'aud_elsewhere' }] });
      expect(orphan.status, orphan.text).toBe(400);
      expect(orphan.body.error.issues).toEqual([expect.objectContaining({ path: 'audiences[0].id', message: expect.stringContaining('not one of audienceIds') })]);

      const flow = await dataflow(body);
      expect((await api('GET', `/dataflows/${flow.id}`)).body.audiences).toEqual([
        { id: gold, schedule: { ...daily(t2), time: daily(t2).time }, naming: { audienceName: true, dateTime: 'unix', customText: 'goldfeed', destinationId: false, organization: false, sandbox: false } },
        { id: uploaded, naming: { audienceName: false, dateTime: 'none', customText: 'listfeed', destinationId: false, organization: false, sandbox: true } },
      ]);
      const minute = 60_000;
      /** Ticks at `at` and returns the runs of the dataflow this tick created, settled. */
      const tickRuns = async (at: Date) => {
        const before = new Set((await runsOf(flow.id)).map((r) => r.id));
        await host.tick(at);
        const fresh = (await runsOf(flow.id)).filter((r) => !before.has(r.id));
        const runs = [];
        for (const r of fresh) runs.push(await settledRun(api, r.id));
        for (const run of runs) expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
        return runs;
      };
      expect(await tickRuns(new Date(t1.getTime() - minute))).toEqual([]);
      // t1: only the list, on the dataflow's slot, named by its own options.
      const [list1, ...more1] = await tickRuns(new Date(t1.getTime() + minute));
      expect(more1).toEqual([]);
      expect(list1).toMatchObject({ trigger: 'schedule', scheduledTime: t1.toISOString(), audienceIds: [uploaded] });
      expect(list1.files.map((f: { key: string }) => f.key)).toEqual([`${folder}peraudience/${uploaded}/Acme_peraudience_${uploaded}_listfeed_staging.csv`]);
      // A repeated tick makes no second run of the slot.
      expect(await tickRuns(new Date(t1.getTime() + minute))).toEqual([]);
      // t2: only gold, on its own slot, with its name, unix time and custom text.
      const [gold2, ...more2] = await tickRuns(new Date(t2.getTime() + minute));
      expect(more2).toEqual([]);
      expect(gold2).toMatchObject({ trigger: 'schedule', scheduledTime: t2.toISOString(), audienceIds: [gold] });
      const goldKey = `${folder}peraudience/${gold}/Acme_peraudience_${gold}_Gold_tier_${t2.getTime() / 1000}_goldfeed.csv`;
      expect(gold2.files.map((f: { key: string }) => f.key)).toEqual([goldKey]);
      // The next day's t1: the list again, not gold.
      const [list3, ...more3] = await tickRuns(new Date(t1.getTime() + 24 * hour + minute));
      expect(more3).toEqual([]);
      expect(list3).toMatchObject({ scheduledTime: new Date(t1.getTime() + 24 * hour).toISOString(), audienceIds: [uploaded] });
      // In the bucket: each audience's objects under its own names, with its own members.
      expect(await keysUnder(`${folder}peraudience/`)).toEqual([`${folder}peraudience/${uploaded}/Acme_peraudience_${uploaded}_listfeed_staging.csv`, goldKey].sort());
      expect(csvIds((await object(goldKey)).toString())).toEqual([...GOLD, 'p12'].sort());
      expect(csvIds((await object(list3.files[0].key)).toString())).toEqual(['p01']);
      // "Export now" exports both audiences, each still named by its own options.
      const now = await runNow(flow.id);
      expect(now.audienceIds).toBeUndefined();
      expect(now.files.map((f: { key: string }) => f.key.split('/').at(-1)).sort()).toEqual(
        [`Acme_peraudience_${gold}_Gold_tier_${Math.floor(Date.parse(now.scheduledTime) / 1000)}_goldfeed.csv`, `Acme_peraudience_${uploaded}_listfeed_staging.csv`].sort(),
      );
      // Without a dataflow schedule, gold still runs on its own slots; the list only on demand.
      const { schedule: _dropped, ...unscheduled } = body;
      const put = await api('PUT', `/dataflows/${flow.id}`, { ...unscheduled, mapping: { fields: [{ source: 'id' }] } });
      expect(put.status, put.text).toBe(200);
      const [gold4, ...more4] = await tickRuns(new Date(t2.getTime() + 24 * hour + minute));
      expect(more4).toEqual([]);
      expect(gold4).toMatchObject({ scheduledTime: new Date(t2.getTime() + 24 * hour).toISOString(), audienceIds: [gold] });
    });

    it('routes alerts: only the chosen events, a Slack message signed like JSON, one lateness alert per late slot', async () => {
      const receiver = await startAlertReceiver();
      const gate = await startGateProxy(moto.endpoint);
      try {
        const signed = (post: ReceivedAlert) => {
          const ts = String(post.headers['x-edge-export-timestamp']);
          return post.headers['x-edge-export-signature'] === createHmac('sha256', ALERT_SECRET).update(`${ts}.${post.body}`).digest('hex');
        };
        // Slack, failures only: a wrong secret key fails the run at its first S3 request.
        const wrongSecret = 'not-the-writer-secret-0123456789abcdefgh';
        const wrong = await destination('alerts-wrong', { auth: { method: 'accessKey', accessKeyId: writer.accessKeyId, secretAccessKey: wrongSecret } });
        const slack = await dataflow({ name: 'Slack alerts', destinationId: wrong, audienceIds: [gold], alertWebhook: `${receiver.url}/slack`, alertFormat: 'slack', alertSecret: ALERT_SECRET, alertEvents: ['run.failed'] });
        const failed = await settledRun(api, (await api('POST', `/dataflows/${slack.id}/run`)).body.id);
        expect(failed.status).toBe('failed');
        const post = await receiver.next('/slack');
        const message = JSON.parse(post.body);
        expect(slackProblems(message)).toEqual([]);
        for (const part of ['Run failed', 'Slack alerts', failed.id, failed.error.code]) expect(message.text).toContain(part);
        expect(post.body).toContain(`https://console.example.com/#/runs/${failed.id}|`);
        for (const secret of [ALERT_SECRET, wrongSecret, writer.secretAccessKey]) expect(post.body).not.toContain(secret);
        expect(signed(post)).toBe(true);
        expect(signed({ ...post, body: post.body.replace('Run failed', 'Run fine') })).toBe(false);
        // run.started was not chosen: it never entered the outbox.
        expect(await host.sql('SELECT event FROM alerts WHERE dataflow_id = ?', slack.id)).toEqual([{ event: 'run.failed' }]);

        // Lateness, signed JSON. On time first: a run finished before its deadline posts nothing.
        const base = new Date(Math.ceil((Date.now() + 3 * 3_600_000) / 60_000) * 60_000);
        const watched = (slot: Date) => ({
          audienceIds: [gold],
          schedule: { frequency: 'daily', time: slot.toISOString().slice(11, 16), startDate: slot.toISOString().slice(0, 10) },
          lateAfterMinutes: 30,
          alertEvents: ['run.delayed'],
          alertSecret: ALERT_SECRET,
        });
        const tickAt = (slot: Date, minutes: number) => host.tick(new Date(slot.getTime() + minutes * 60_000));
        const early = new Date(base.getTime() - 2 * 3_600_000);
        const onTime = await dataflow({ name: 'on time', destinationId: await destination('alerts-on-time'), alertWebhook: `${receiver.url}/on-time`, ...watched(early) });
        await tickAt(early, 1);
        const [onTimeRun] = await runsOf(onTime.id);
        expect((await settledRun(api, onTimeRun!.id)).status).toBe('succeeded');
        // A tick delivers what it wrote before it returns: what arrived by then is all there is.
        for (const minutes of [29, 31, 90]) await tickAt(early, minutes);
        expect(receiver.at('/on-time')).toEqual([]);
        expect(await host.sql('SELECT id FROM alerts WHERE dataflow_id = ?', onTime.id)).toEqual([]);

        // Late: its uploads wait at a closed gate, so at 30 minutes past its slot the run is unfinished.
        const late = await dataflow({ name: 'late', destinationId: await destination('alerts-late', { endpoint: gate.endpoint }), alertWebhook: `${receiver.url}/late`, ...watched(base) });
        await tickAt(base, 1);
        const [lateRun] = await runsOf(late.id);
        await tickAt(base, 29);
        expect(receiver.at('/late')).toEqual([]);
        await tickAt(base, 31);
        await tickAt(base, 31);
        await tickAt(base, 45);
        expect(receiver.at('/late')).toHaveLength(1);
        const alert = JSON.parse(receiver.at('/late')[0]!.body);
        expect(alert).toMatchObject({ event: 'run.delayed', reason: 'late', runId: lateRun!.id, dataflowId: late.id, scheduledTime: base.toISOString(), lateAfterMinutes: 30 });
        expect(['queued', 'running']).toContain(alert.status);
        expect(signed(receiver.at('/late')[0]!)).toBe(true);
        gate.open();
        expect((await settledRun(api, lateRun!.id)).status).toBe('succeeded');
        expect(gate.held()).toBeGreaterThan(0);
        await tickAt(base, 60);
        expect(receiver.at('/late')).toHaveLength(1);
      } finally {
        gate.open();
        await gate.stop();
        await receiver.stop();
      }
    });

    it('exports diff and insert-only dataflows over three runs, matching DuckDB\'s EXCEPT over the snapshots', async () => {
      // Profiles q00–q11 on a plan, ingested three times with joins, changes and leaves between runs.
      type Q = { id: string; email: string; plan: string; seats: number };
      const step1: Q[] = Array.from({ length: 12 }, (_, i) => ({ id: `q${String(i).padStart(2, '0')}`, email: `q${i}@example.com`, plan: i % 2 === 0 ? 'pro' : 'free', seats: i }));
      const edit = (snap: Q[], changes: Record<string, Partial<Q>>, extra: Q[] = []) => [...snap.map((q) => ({ ...q, ...changes[q.id] })), ...extra];
      const step2 = edit(step1, { q01: { plan: 'pro' }, q02: { plan: 'free' }, q04: { seats: 40 }, q06: { email: 'q6@new.example.com' } }, [
        { id: 'q12', email: 'q12@example.com', plan: 'pro', seats: 12 },
      ]);
      const step3 = edit(step2, { q02: { plan: 'pro', seats: 20 }, q08: { plan: 'free' }, q10: { seats: 100 } });
      const pro = await api('POST', '/audiences', { kind: 'rule', name: 'Pro plan', rule: 'attributes.plan = "pro"' });
      expect(pro.status, pro.text).toBe(201);
      const list = await api('POST', '/audiences', { kind: 'upload', name: 'Diff list' });
      const uploads = [['q01', 'q02', 'q03'], ['q02', 'q03', 'q05'], ['q03', 'q05', 'q07']];
      const mapping = { fields: [{ source: 'id' }, { source: 'attributes.seats', target: 'seats', type: 'integer' }] };
      const dst = await destination('diff', { fileType: 'json', manifest: true });
      const diff = await dataflow({ name: 'diff', destinationId: dst, audienceIds: [pro.body.id, list.body.id], exportMode: 'diff', mapping });
      const inserts = await dataflow({
        name: 'insert only',
        destinationId: dst,
        audienceIds: [pro.body.id],
        exportMode: 'insert-only',
        mapping: { ...mapping, dedup: { identity: 'email' } },
      });
      expect((await api('GET', `/dataflows/${diff.id}`)).body.exportMode).toBe('diff');
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      const query = async (sql: string) => (await duck.runAndReadAll(sql)).getRows().map((r) => r.map(String));
      await duck.run('CREATE TABLE m0 (id VARCHAR, email VARCHAR, seats BIGINT)');
      try {
        for (const [n, snap] of [step1, step2, step3].entries()) {
          const k = n + 1;
          const ndjson = snap.map((q) => JSON.stringify({ id: q.id, identities: { email: [q.email] }, attributes: { plan: q.plan, seats: q.seats } })).join('\n');
          expect((await api('POST', '/profiles', ndjson, 'application/x-ndjson')).status).toBe(200);
          const csv = `namespace,value\n${uploads[n]!.map((id) => `email,${snap.find((q) => q.id === id)!.email}`).join('\n')}\n`;
          expect((await api('POST', `/audiences/${list.body.id}/members`, csv, 'text/csv')).status).toBe(200);
          await writeFile(join(dir.path, `diff-snap${k}.ndjson`), `${ndjson}\n`);
          await duck.run(
            `CREATE TABLE m${k} AS SELECT id, identities.email[1] AS email, attributes.seats AS seats
               FROM read_json('${join(dir.path, `diff-snap${k}.ndjson`)}') WHERE attributes.plan = 'pro'`,
          );
          const [now, before] = [`m${k}`, `m${k - 1}`];
          const want = {
            added: await query(`SELECT id, seats FROM ${now} WHERE id IN (SELECT id FROM ${now} EXCEPT SELECT id FROM ${before}) ORDER BY ALL`),
            // Changed: the exported columns (id, seats) differ; q06's new email is not exported.
            changed: await query(`SELECT id, seats FROM ${now} WHERE id IN (SELECT id FROM ${before}) EXCEPT SELECT id, seats FROM ${before} ORDER BY ALL`),
            removed: await query(`SELECT id FROM ${before} EXCEPT SELECT id FROM ${now} ORDER BY ALL`),
            newEmails: await query(`SELECT email FROM ${now} EXCEPT SELECT email FROM ${before} ORDER BY ALL`),
          };
          if (k > 1) for (const kind of ['added', 'changed', 'removed'] as const) expect(want[kind].length, `step ${k} ${kind}`).toBeGreaterThan(0);

          const run = await runNow(diff.id);
          const files = (run.files as { key: string; name: string; rows: number; kind?: string }[]).filter((f) => !f.key.includes('/manifest-'));
          const got = async (audience: string, kind: string) => {
            const rows: string[][] = [];
            for (const f of files.filter((f) => f.kind === kind && f.name.includes(`_${audience}_`))) {
              expect(f.name).toMatch(new RegExp(`_${kind}\\.json$`));
              const lines = (await object(f.key)).toString().trim().split('\n').map((l) => JSON.parse(l));
              expect(lines).toHaveLength(f.rows);
              rows.push(...lines.map((r) => (kind === 'removed' ? [r.id] : [r.id, String(r.seats)])));
            }
            return rows.sort();
          };
          expect(await got(pro.body.id, 'added')).toEqual(want.added);
          expect(await got(pro.body.id, 'changed')).toEqual(want.changed);
          expect(await got(pro.body.id, 'removed')).toEqual(want.removed);
          // The upload list: members come and go with each upload; their values never change.
          const previous = n === 0 ? [] : uploads[n - 1]!;
          expect((await got(list.body.id, 'added')).map((r) => r[0])).toEqual(uploads[n]!.filter((id) => !previous.includes(id)));
          expect(await got(list.body.id, 'changed')).toEqual([]);
          expect((await got(list.body.id, 'removed')).map((r) => r[0])).toEqual(previous.filter((id) => !uploads[n]!.includes(id)));
          const manifest = JSON.parse((await object(`${folder}diff/manifest-${dst}-${run.id}.json`)).toString());
          expect(manifest.exportResults.map((r: { name: string; kind: string; rows: number }) => [r.name, r.kind, r.rows])).toEqual(
            files.map((f) => [f.name, f.kind, f.rows]),
          );

          // Insert-only, deduplicated by email: one file of the members whose email is new.
          const inserted = await runNow(inserts.id);
          const file = (inserted.files as { key: string; name: string }[]).find((f) => !f.key.includes('/manifest-'))!;
          expect(jsonIds((await object(file.key)).toString())).toEqual(
            (await query(`SELECT id FROM ${now} WHERE email IN (${want.newEmails.map((e) => `'${e[0]}'`).join(', ') || 'NULL'}) ORDER BY id`)).map((r) => r[0]),
          );
        }
      } finally {
        duck.closeSync();
      }
      // A dataset cannot export a diff: the API says so at configuration time.
      const refused = await api('POST', '/dataflows', { name: 'no', destinationId: dst, datasetId: 'orders', exportMode: 'diff' });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('exportMode: a dataset exports in full or incremental mode');
    });

    it('left nothing open in the bucket: every run published whole', async () => {
      expect(await keysUnder(`${folder}x/`)).toEqual([]);
    });
  });
}

function jsonIds(text: string): string[] {
  return text.trim().split('\n').map((line) => JSON.parse(line).id as string).sort();
}
