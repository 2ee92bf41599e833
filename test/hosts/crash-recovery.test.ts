/**
 * A host killed in the middle of a multipart upload (SIGKILL: nothing drained, the in-process queue
 * lost) and started again on the same database resumes the run by itself — its own minute ticker
 * finds the run's lease expired (30 s, renewed every 10 s while a run executes) and sends it again —
 * and completes it within two minutes of the restart: every row exactly once, no upload left open.
 */
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from '../harness/moto.ts';
import { type Api, apiClient, type JourneyHost, settledRun, startJourneyHost } from '../journeys/hosts.ts';

const BUCKET = 'crash';
/** 40,000 rows of ~2 KB: an 80 MB file, ten 8 MiB parts on the Node host. */
const N = 40_000;
const PAD = 'x'.repeat(2000);
const BINDINGS = { ALLOW_LOOPBACK_ENDPOINTS: 'true', EDGE_EXPORT_CRON: 'on' };

describe('a Node host killed mid-multipart and restarted', { timeout: 300_000 }, () => {
  let moto: Moto;
  let s3: S3Client;
  let host: JourneyHost;
  let api: Api;
  let flow: string;
  let token: string;

  beforeAll(async () => {
    moto = await startMoto();
    await createBucket(moto, BUCKET);
    const user = await createUser(moto, 'writer', permissionPolicy({ bucket: BUCKET, folderPath: 'out/' }));
    await moto.enableAuth();
    s3 = s3Reader(moto);
    host = await startJourneyHost('node', BINDINGS);
    token = (await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Crash' })).body.token;
    api = apiClient(host.url, token);
    for (let from = 0; from < N; from += 2000) {
      const lines = Array.from({ length: 2000 }, (_, i) =>
        JSON.stringify({ id: `p${String(from + i).padStart(6, '0')}`, identities: {}, attributes: { n: from + i, pad: PAD } }),
      );
      expect((await api('POST', '/profiles', lines.join('\n'), 'application/x-ndjson')).body).toEqual({ stored: 2000 });
    }
    const audience = (await api('POST', '/audiences', { kind: 'rule', name: 'all', rule: 'attributes.n >= 0' })).body.id;
    const destination = await api('POST', '/destinations', {
      name: 'crash',
      bucket: BUCKET,
      folderPath: 'out/',
      region: moto.region,
      endpoint: moto.endpoint,
      auth: { method: 'accessKey', accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      fileType: 'csv',
    });
    expect(destination.status, destination.text).toBe(201);
    const created = await api('POST', '/dataflows', {
      name: 'crash',
      destinationId: destination.body.id,
      audienceIds: [audience],
      mapping: { fields: [{ source: 'id' }, { source: 'attributes.n', type: 'integer' }, { source: 'attributes.pad' }] },
    });
    expect(created.status, created.text).toBe(201);
    flow = created.body.id;
  }, 180_000);

  afterAll(async () => {
    s3?.destroy();
    await host?.stop();
    await moto?.stop();
  });

  it('completes the run within two minutes of the restart: rows exactly once, no upload open', async () => {
    const queued = await api('POST', `/dataflows/${flow}/run`);
    expect(queued.status, queued.text).toBe(202);
    const runId = queued.body.id as string;
    // Killed once the upload has parts stored (the runs row keeps the upload id and part ETags).
    for (;;) {
      const [row] = await host.sql<{ multipart: string | null; status: string }>('SELECT multipart, status FROM runs WHERE id = ?', runId);
      expect(row!.status, 'the run finished before the host could be killed').not.toBe('succeeded');
      const parts = row!.multipart ? Object.values(JSON.parse(row!.multipart) as Record<string, { parts?: unknown[] }>).flatMap((u) => u.parts ?? []) : [];
      if (parts.length >= 2) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    await host.kill();
    const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    expect(open.Uploads?.length, 'an upload is open when the host dies').toBeGreaterThan(0);

    host = await startJourneyHost('node', BINDINGS, { state: host.state });
    api = apiClient(host.url, token);
    const restarted = Date.now();
    const run = await settledRun(api, runId, 120_000);
    const took = Date.now() - restarted;
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(took, 'completed within two minutes of the restart').toBeLessThan(120_000);
    console.info(`crash recovery: the run completed ${(took / 1000).toFixed(1)} s after the restart`);
    expect(run.attempts).toBe(2);

    const [file] = run.files as { key: string; rows: number }[];
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: file!.key }));
    const lines = (await got.Body!.transformToString()).trim().split('\n');
    const ids = lines.slice(1).map((l) => l.slice(0, l.indexOf(',')));
    expect(ids.length).toBe(N);
    expect(new Set(ids).size).toBe(N);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads ?? []).toEqual([]);
  });
});
