/**
 * One run of a dataflow at a time, on every host: a run that outgrows its invocation (budget forced
 * low) is in flight between invocations; "export now" clicked ten times at once during it makes one
 * more run, which waits and starts only after the first has finished. Both publish whole files and
 * leave no upload open (the second never aborts the first's).
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from '../harness/moto.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, settledRun, startJourneyHost } from './hosts.ts';

const BUCKET = 'overlap';
const N = 3000;

export function oneRunAtATime(kind: HostKind): void {
  describe(`one run of a dataflow at a time on the ${kind} host`, { timeout: 180_000 }, () => {
    let moto: Moto;
    let s3: S3Client;
    let host: JourneyHost;
    let api: Api;
    let flow: string;

    beforeAll(async () => {
      moto = await startMoto();
      await createBucket(moto, BUCKET);
      const user = await createUser(moto, 'writer', permissionPolicy({ bucket: BUCKET, folderPath: `${kind}/` }));
      await moto.enableAuth();
      s3 = s3Reader(moto);
      host = await startJourneyHost(kind, { ALLOW_LOOPBACK_ENDPOINTS: 'true', D1_QUERIES_PER_INVOCATION: '40', EXPORT_PROFILE_PAGE: '100' });
      const org = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Overlap' });
      api = apiClient(host.url, org.body.token);
      const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ id: `p${String(i).padStart(5, '0')}`, identities: { email: [`p${i}@x.io`] }, attributes: { n: i } }));
      expect((await api('POST', '/profiles', lines.join('\n'), 'application/x-ndjson')).body).toEqual({ stored: N });
      const audience = (await api('POST', '/audiences', { kind: 'rule', name: 'all', rule: 'attributes.n >= 0' })).body.id;
      const destination = await api('POST', '/destinations', {
        name: 'overlap',
        bucket: BUCKET,
        folderPath: `${kind}/`,
        region: moto.region,
        endpoint: moto.endpoint,
        auth: { method: 'accessKey', accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
        fileType: 'csv',
      });
      expect(destination.status, destination.text).toBe(201);
      const created = await api('POST', '/dataflows', {
        name: 'overlap',
        destinationId: destination.body.id,
        audienceIds: [audience],
        mapping: { fields: [{ source: 'id' }, { source: 'attributes.n', type: 'integer' }] },
      });
      expect(created.status, created.text).toBe(201);
      flow = created.body.id;
    }, 120_000);

    afterAll(async () => {
      s3?.destroy();
      await host?.stop();
      await moto?.stop();
    });

    it('ten concurrent "export now" during a run make one more run, started after the first finished', async () => {
      const first = await api('POST', `/dataflows/${flow}/run`);
      expect(first.status, first.text).toBe(202);
      // The first run is in flight: started (it continues over several invocations).
      for (;;) {
        const run = (await api('GET', `/runs/${first.body.id}`)).body;
        if (run.startedAt || run.status !== 'queued') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const clicks = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/dataflows/${flow}/run`)));
      expect(clicks.map((c) => c.status)).toEqual(Array(10).fill(202));
      const second = new Set(clicks.map((c) => c.body.id as string));
      expect(second.size, 'the ten clicks are one run').toBe(1);
      const [secondId] = second;
      expect(secondId).not.toBe(first.body.id);

      const a = await settledRun(api, first.body.id, 150_000);
      const b = await settledRun(api, secondId!, 150_000);
      expect(a.status, JSON.stringify(a.error)).toBe('succeeded');
      expect(b.status, JSON.stringify(b.error)).toBe('succeeded');
      expect(a.attempts, 'the first run spans invocations').toBeGreaterThan(1);
      expect(a.rows).toBe(N);
      expect(b.rows).toBe(N);
      expect(Date.parse(b.startedAt), 'the second starts after the first finished').toBeGreaterThanOrEqual(Date.parse(a.finishedAt));
      expect((await api('GET', `/runs?dataflowId=${flow}`)).body.items).toHaveLength(2);

      const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${kind}/` }));
      expect(open.Uploads ?? []).toEqual([]);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${kind}/` }));
      const keys = (listed.Contents ?? []).map((o) => o.Key);
      for (const f of b.files as { key: string }[]) expect(keys).toContain(f.key);
    });
  });
}
