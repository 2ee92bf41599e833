/**
 * The fan-out journey (docs/SNAPSHOTS.md, "Fan-out"), registered into each host's journeys: a rule
 * audience reading a Parquet snapshot in S3 (2 files, several row groups of 500 rows, 2 row groups per task) is
 * exported by a run fanned out over the queue, through the HTTP API only, against moto with auth
 * enforced. Its rows equal the same dataflow's over the same profiles pushed into D1 and DuckDB's
 * answer over the files, in full then incrementally over a second snapshot (joined, changed,
 * exited). One task's reads are dropped at a proxy until its invocation fails: it alone is redone.
 * The manifest is PUT once per run (counted at a proxy), and a run whose task fails for good
 * publishes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { type FaultRequest, startFaultProxy } from '../harness/fault-proxy.ts';
import { type Moto, createUser } from '../harness/moto.ts';
import { downloadPrefix, duckdbRows } from '../support/hive.ts';
import { type CustomerRow, customerParquet, customerRows } from '../support/snapshot-fixtures.ts';
import { apiClient, type JourneyHost, settledRun } from './hosts.ts';

export interface FanoutJourneyContext {
  readonly moto: Moto;
  readonly host: JourneyHost;
  /** Admin access to the bucket: writes the snapshots, reads the exports. */
  readonly s3: S3Client;
  readonly bucket: string;
  /** This host's folder (its users and files stay apart from the other hosts'). */
  readonly folder: string;
  /** Keys of a writer allowed under `folder` (the destinations'). */
  readonly writer: () => { accessKeyId: string; secretAccessKey: string };
}

const MAPPING = {
  fields: [{ source: 'id' }, { source: 'attributes.score', target: 'score' }, { source: 'attributes.person.name', target: 'name' }, { source: 'identities.email', target: 'email' }],
};
/** Client retries of a ranged GET (the S3 client's policy makes 6 attempts). */
const CLIENT_ATTEMPTS = 6;

/** Snapshot 2: every 7th French customer moved to the US (exited), every 5th rescored (changed), 40 new (joined). */
function second(rows: readonly CustomerRow[]): CustomerRow[] {
  return [
    ...rows.map((r) => (r.id % 7 === 0 && r.country === 'FR' ? { ...r, country: 'US' } : r.id % 5 === 0 ? { ...r, score: r.score + 1000 } : r)),
    ...customerRows(40, 10_001),
  ];
}

/** The same customers as profiles for POST /profiles (the D1 path). */
function profilesOf(rows: readonly CustomerRow[]): string {
  return rows
    .map((r) =>
      JSON.stringify({
        id: String(r.id),
        identities: { email: [r['identities.email']] },
        attributes: { country: r.country, score: r.score, person: { name: r['person.name'] }, notes: r.notes },
      }),
    )
    .join('\n');
}

export function fanoutJourney(context: () => FanoutJourneyContext): void {
  it('fans a Parquet snapshot run out by row groups: equal to the D1 path and DuckDB, a failed task redone alone, one manifest, nothing published by a failed run', async () => {
    const { moto, host, s3, bucket, folder, writer } = context();
    const org = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Fanout Co' });
    expect(org.status, org.text).toBe(201);
    const api = apiClient(host.url, org.body.token);
    const prefix = `${folder}fanout/snapshot/`;
    const brokenPrefix = `${folder}fanout/broken/`;
    const put = (key: string, body: Uint8Array) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const write = async (rows: readonly CustomerRow[]) => {
      await put(`${prefix}part-0.parquet`, customerParquet(rows.filter((r) => r.id % 5 !== 2), 500));
      await put(`${prefix}part-1.parquet`, customerParquet(rows.filter((r) => r.id % 5 === 2), 500));
    };
    const snapshot1 = customerRows(5000, 1);
    await write(snapshot1);
    await put(`${brokenPrefix}part-0.parquet`, customerParquet(customerRows(2000, 1), 500));
    const reader = await createUser(moto, `${folder.replace(/\W/g, '')}-fanout-reader`, {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}` },
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${bucket}/${folder}fanout/*` },
      ],
    });

    // The source's reads go through a proxy: while `armed`, the first task's first ranged read of
    // part-1 (its row groups start at byte 4) is dropped every time the client tries it.
    let armed = true;
    let dropped = 0;
    const firstChunk = (req: FaultRequest) => req.method === 'GET' && req.url.includes('/part-1.parquet') && /^bytes=4-/.test(req.range ?? '');
    const sourceProxy = await startFaultProxy(moto.endpoint, (req) => {
      if (req.url.includes('/broken/') && req.method === 'GET' && /^bytes=4-/.test(req.range ?? '')) return 'access-denied';
      if (armed && firstChunk(req) && dropped < CLIENT_ATTEMPTS) {
        dropped++;
        return 'drop';
      }
      return null;
    });
    // The snapshot dataflow's destination goes through a proxy counting manifest PUTs.
    const manifests: string[] = [];
    const destinationProxy = await startFaultProxy(moto.endpoint, (req) => {
      if (req.method === 'PUT' && /\/manifest-[^/?]*\.json/.test(req.url)) manifests.push(req.url);
      return null;
    });
    const dir = await mkdtemp(join(tmpdir(), 'edge-export-fanout-'));
    try {
      const source = async (name: string, at: string) => {
        const res = await api('POST', '/sources', {
          name,
          format: 'parquet',
          location: { type: 's3', bucket, region: moto.region, endpoint: sourceProxy.endpoint, prefix: at, auth: { method: 'accessKey', accessKeyId: reader.accessKeyId, secretAccessKey: reader.secretAccessKey } },
          rowsPerTask: 1000,
        });
        expect(res.status, res.text).toBe(201);
        return res.body.id as string;
      };
      const dataflow = async (label: string, sourceId: string | undefined, endpoint: string) => {
        const audience = await api('POST', '/audiences', { kind: 'rule', name: `french ${label}`, rule: 'attributes.country = "FR"', ...(sourceId && { sourceId }) });
        expect(audience.status, audience.text).toBe(201);
        const destination = await api('POST', '/destinations', {
          name: `fanout ${label}`,
          bucket,
          folderPath: `${folder}fanout/out-${label}/`,
          region: moto.region,
          endpoint,
          auth: { method: 'accessKey', ...writer() },
          fileType: 'csv',
          manifest: true,
        });
        expect(destination.status, destination.text).toBe(201);
        const flow = await api('POST', '/dataflows', { name: label, destinationId: destination.body.id, audienceIds: [audience.body.id], mapping: MAPPING, exportMode: 'incremental' });
        expect(flow.status, flow.text).toBe(201);
        return flow.body.id as string;
      };
      const snapFlow = await dataflow('snapshot', await source('crm', prefix), destinationProxy.endpoint);
      const d1Flow = await dataflow('d1', undefined, moto.endpoint);
      const brokenFlow = await dataflow('broken', await source('broken', brokenPrefix), moto.endpoint);
      expect((await api('POST', '/profiles', profilesOf(snapshot1), 'application/x-ndjson')).status).toBe(200);

      const run = async (flowId: string) => {
        const queued = await api('POST', `/dataflows/${flowId}/run`);
        expect(queued.status, queued.text).toBe(202);
        return settledRun(api, queued.body.id);
      };
      const succeeded = async (flowId: string) => {
        const settled = await run(flowId);
        expect(settled.status, `${JSON.stringify(settled.error)}\n${host.output()}`).toBe('succeeded');
        return settled as { id: string; files: { key: string }[]; fanout?: Record<string, number> };
      };
      /** A run's data rows (its CSV files but the manifest), as sorted lines. */
      const rowsOf = async (files: { key: string }[]) => {
        const lines: string[] = [];
        for (const { key } of files) {
          if (key.includes('/manifest-')) continue;
          const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
          lines.push(...body.split(/\r?\n/).filter(Boolean).slice(1));
        }
        return lines.sort();
      };
      const detail = async (runId: string) => (await api('GET', `/runs/${runId}`)).body;
      /** DuckDB over the snapshot's files as they are now: the French customers, as the mapping writes them. */
      const duckdb = async (into: string) => {
        const keys = await downloadPrefix(s3, bucket, prefix, join(dir, into));
        const list = keys.map((key) => `'${join(dir, into, key)}'`).join(', ');
        return duckdbRows(`SELECT CAST(id AS VARCHAR) AS id, score, "person.name" AS name, "identities.email" AS email FROM read_parquet([${list}]) WHERE country = 'FR' ORDER BY id`);
      };

      // Run 1: 5000 rows in 2 files of 500-row groups, 2 groups a task: 5 tasks, one of them failed once.
      const snap1 = await succeeded(snapFlow);
      armed = false;
      expect(dropped).toBe(CLIENT_ATTEMPTS);
      const figures1 = (await detail(snap1.id)).fanout;
      expect(figures1).toMatchObject({ tasks: 5, done: 5, attempts: 6, rowsRead: 5000 });
      expect(manifests).toHaveLength(1);
      const d1Run1 = await succeeded(d1Flow);
      const rows1 = await rowsOf(snap1.files);
      expect(rows1).toEqual(await rowsOf(d1Run1.files));
      const expected1 = await duckdb('one');
      expect(rows1).toEqual(expected1.map((r) => `${r.id},${r.score},${r.name},${r.email},realized`).sort());

      // Snapshot 2 replaces it; the same changes are pushed to D1.
      const snapshot2 = second(snapshot1);
      await write(snapshot2);
      expect((await api('POST', '/profiles', profilesOf(snapshot2), 'application/x-ndjson')).status).toBe(200);
      const snap2 = await succeeded(snapFlow);
      const d1Run2 = await succeeded(d1Flow);
      const rows2 = await rowsOf(snap2.files);
      expect(rows2).toEqual(await rowsOf(d1Run2.files));
      // DuckDB: joined or changed are the French rows of snapshot 2 not in snapshot 1; exited, the French ids gone.
      const before = new Map(expected1.map((r) => [r.id as string, `${r.id},${r.score},${r.name},${r.email}`]));
      const after = await duckdb('two');
      const realized = after.map((r) => `${r.id},${r.score},${r.name},${r.email}`).filter((line) => before.get(line.split(',')[0]!) !== line);
      const gone = new Set(before.keys());
      for (const r of after) gone.delete(r.id as string);
      expect(rows2.filter((l) => l.endsWith(',realized')).map((l) => l.slice(0, -',realized'.length)).sort()).toEqual(realized.sort());
      expect(rows2.filter((l) => l.endsWith(',exited')).map((l) => l.split(',')[0]).sort()).toEqual([...gone].sort());
      expect(realized.length * gone.size).toBeGreaterThan(0);
      // 5040 rows: 7 tasks (the last row groups are short), none retried.
      const figures2 = (await detail(snap2.id)).fanout;
      expect(figures2).toMatchObject({ tasks: 7, done: 7, attempts: 7, rowsRead: snapshot2.length });
      expect(manifests).toHaveLength(2);

      // A task refused for good (403 on its row groups) fails the run: nothing is published.
      const broken = await run(brokenFlow);
      expect(broken.status).toBe('failed');
      expect(broken.error).toMatchObject({ code: 'S3_ACCESS_DENIED' });
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${folder}fanout/out-broken/` }));
      expect(listed.Contents ?? []).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await sourceProxy.stop();
      await destinationProxy.stop();
    }
  });
}
