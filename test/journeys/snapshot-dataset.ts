/**
 * The snapshot dataset journey (docs/SNAPSHOTS.md, "Datasets"), registered into each host's journeys:
 * a dataset reading a Parquet snapshot in S3 (2 files of 500-row groups, 1000 rows a task) is exported
 * by a run fanned out over the queue, through the HTTP API only, against moto with auth enforced (a
 * least-privilege reader's keys). Its rows equal — in the same order — the same dataflow's over the
 * same records pushed into D1 (POST /v1/datasets/{id}/records), and DuckDB's answer over the files:
 * in full, then incrementally after a second snapshot updates and adds records.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { type Moto, createUser } from '../harness/moto.ts';
import { downloadPrefix, duckdbRows } from '../support/hive.ts';
import { type CustomerRow, customerParquet, customerRows } from '../support/snapshot-fixtures.ts';
import { apiClient, type JourneyHost, settledRun } from './hosts.ts';

export interface SnapshotDatasetJourneyContext {
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

const SCHEMA = [
  { name: 'id', type: 'integer' },
  { name: 'country', type: 'string' },
  { name: 'score', type: 'double' },
];

/** Snapshot 2: every 4th customer rescored later, 30 new ones later still; the others as they were. */
function second(rows: readonly CustomerRow[]): CustomerRow[] {
  return [
    ...rows.map((r) => (r.id % 4 === 0 ? { ...r, score: r.score + 1000, updatedAt: new Date(Date.UTC(2026, 1, 1, 0, 0, r.id % 60)) } : r)),
    ...customerRows(30, 10_001).map((r) => ({ ...r, updatedAt: new Date(Date.UTC(2026, 1, 2, 0, 0, r.id % 7)) })),
  ];
}

/** The same customers as dataset records for POST /v1/datasets/{id}/records (the D1 path). */
function recordsOf(rows: readonly CustomerRow[]): string {
  return rows
    .map((r) => JSON.stringify({ id: String(r.id), updatedAt: r.updatedAt.toISOString(), values: { id: r.id, country: r.country, score: r.score } }))
    .join('\n');
}

export function snapshotDatasetJourney(context: () => SnapshotDatasetJourneyContext): void {
  it('exports a dataset read from a Parquet snapshot, fanned out: equal to the D1 path and DuckDB, in full then incrementally', async () => {
    const { moto, host, s3, bucket, folder, writer } = context();
    const org = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Snapshot Dataset Co' });
    expect(org.status, org.text).toBe(201);
    const api = apiClient(host.url, org.body.token);
    const prefix = `${folder}snapds/snapshot/`;
    const write = async (rows: readonly CustomerRow[]) => {
      for (const [file, part] of [rows.filter((r) => r.id % 3 !== 1), rows.filter((r) => r.id % 3 === 1)].entries()) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}part-${file}.parquet`, Body: customerParquet(part, 500) }));
      }
    };
    const snapshot1 = customerRows(4000, 1);
    await write(snapshot1);
    const reader = await createUser(moto, `${folder.replace(/\W/g, '')}-snapds-reader`, {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}` },
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${bucket}/${folder}snapds/*` },
      ],
    });
    const dir = await mkdtemp(join(tmpdir(), 'edge-export-snapds-'));
    try {
      const source = await api('POST', '/sources', {
        name: 'crm',
        format: 'parquet',
        location: { type: 's3', bucket, region: moto.region, endpoint: moto.endpoint, prefix, auth: { method: 'accessKey', accessKeyId: reader.accessKeyId, secretAccessKey: reader.secretAccessKey } },
        idColumn: 'id',
        updatedAtColumn: 'updatedAt',
        rowsPerTask: 1000,
      });
      expect(source.status, source.text).toBe(201);
      const dataflow = async (datasetId: string, sourceId?: string) => {
        const dataset = await api('POST', '/datasets', { id: datasetId, name: datasetId, schema: SCHEMA, ...(sourceId && { sourceId }) });
        expect(dataset.status, dataset.text).toBe(201);
        expect(dataset.body.sourceId).toBe(sourceId);
        const destination = await api('POST', '/destinations', {
          name: `snapds ${datasetId}`,
          bucket,
          folderPath: `${folder}snapds/out-${datasetId}`,
          region: moto.region,
          endpoint: moto.endpoint,
          auth: { method: 'accessKey', ...writer() },
          fileType: 'csv',
          manifest: true,
        });
        expect(destination.status, destination.text).toBe(201);
        const flow = await api('POST', '/dataflows', { name: datasetId, destinationId: destination.body.id, datasetId, exportMode: 'incremental' });
        expect(flow.status, flow.text).toBe(201);
        return flow.body.id as string;
      };
      const snapFlow = await dataflow('crmsnap', source.body.id);
      const d1Flow = await dataflow('crmd1');
      const succeeded = async (flowId: string) => {
        const queued = await api('POST', `/dataflows/${flowId}/run`);
        expect(queued.status, queued.text).toBe(202);
        const settled = await settledRun(api, queued.body.id);
        expect(settled.status, `${JSON.stringify(settled.error)}\n${host.output()}`).toBe('succeeded');
        return (await api('GET', `/runs/${queued.body.id}`)).body as { files: { key: string }[]; fanout?: Record<string, number> };
      };
      /** A run's data rows (its CSV files but the manifest, in file order), as lines. */
      const rowsOf = async (files: { key: string }[]) => {
        const lines: string[] = [];
        const data = files.filter((f) => !f.key.includes('/manifest-'));
        expect(data.length).toBeGreaterThan(0);
        for (const { key } of data) {
          expect(key).toMatch(/\/exportTime=\d{12}\//);
          const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
          lines.push(...body.split(/\r?\n/).filter(Boolean).slice(1));
        }
        return lines;
      };
      const files = async (into: string) => (await downloadPrefix(s3, bucket, prefix, join(dir, into))).map((key) => `'${join(dir, into, key)}'`).join(', ');
      const line = (r: Record<string, unknown>) => `${r.id},${r.country},${r.score}`;

      // Run 1 (full): 4000 rows in 2 files (2667 and 1333 rows) of 500-row groups, 2 groups a task: 3 + 2 tasks.
      expect((await api('POST', '/datasets/crmd1/records', recordsOf(snapshot1), 'application/x-ndjson')).status).toBe(200);
      const snap1 = await succeeded(snapFlow);
      expect(snap1.fanout).toMatchObject({ tasks: 5, done: 5, rowsRead: 4000 });
      const rows1 = await rowsOf(snap1.files);
      expect(rows1).toEqual(await rowsOf((await succeeded(d1Flow)).files));
      const one = await files('one');
      const expected1 = await duckdbRows(`SELECT id, country, score FROM read_parquet([${one}]) ORDER BY updatedAt, CAST(id AS VARCHAR)`);
      expect(rows1).toEqual(expected1.map(line));

      // Run 2 (incremental): only what the second snapshot updated or added.
      const snapshot2 = second(snapshot1);
      await write(snapshot2);
      expect((await api('POST', '/datasets/crmd1/records', recordsOf(snapshot2), 'application/x-ndjson')).status).toBe(200);
      const snap2 = await succeeded(snapFlow);
      expect(snap2.fanout).toMatchObject({ tasks: 5, done: 5, rowsRead: snapshot2.length });
      const rows2 = await rowsOf(snap2.files);
      expect(rows2).toEqual(await rowsOf((await succeeded(d1Flow)).files));
      const two = await files('two');
      const expected2 = await duckdbRows(
        `SELECT id, country, score FROM read_parquet([${two}]) WHERE updatedAt > (SELECT max(updatedAt) FROM read_parquet([${one}])) ORDER BY updatedAt, CAST(id AS VARCHAR)`,
      );
      expect(expected2).toHaveLength(1000 + 30);
      expect(rows2).toEqual(expected2.map(line));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
