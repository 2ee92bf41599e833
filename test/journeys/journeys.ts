/**
 * The user journeys, run the same way against every host (the Worker in workerd, the Node host and
 * the Deno host), through the HTTP API only, against moto with authentication enforced and a
 * least-privilege writer. What lands in the bucket is read back with independent tools:
 * @aws-sdk/client-s3, papaparse, zlib, DuckDB for Parquet and GnuPG for encrypted files.
 */
import { gunzipSync } from 'node:zlib';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Gpg, startGpg } from '../harness/gpg.ts';
import { downloadPrefix, duckdbRows } from '../support/hive.ts';
import { type Moto, createBucket, createRole, createUser, s3Reader, startMoto } from '../harness/moto.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, settledRun, startJourneyHost } from './hosts.ts';

const BUCKET = 'journeys';
const ORG = 'Acme Retail';

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

    it('left nothing open in the bucket: every run published whole', async () => {
      expect(await keysUnder(`${folder}x/`)).toEqual([]);
    });
  });
}

function jsonIds(text: string): string[] {
  return text.trim().split('\n').map((line) => JSON.parse(line).id as string).sort();
}
