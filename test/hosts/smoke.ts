/**
 * What the journeys (test/journeys) leave out: the host's own cron. A Node or Deno host started
 * with its ticker on (a timer on Node, Deno.cron on Deno) runs a dataflow scheduled for the next
 * minute by itself, exporting to moto with auth enforced.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, settledRun, startJourneyHost } from '../journeys/hosts.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from '../harness/moto.ts';

const BUCKET = 'hosts-smoke';
const FOLDER = 'exports/';

/** A daily slot at the next whole minute at least 10 s away (UTC), so the dataflow exists before it. */
function nextMinuteSlot(): { time: string; startDate: string } {
  const slot = new Date(Math.ceil((Date.now() + 10_000) / 60_000) * 60_000);
  return { time: slot.toISOString().slice(11, 16), startDate: slot.toISOString().slice(0, 10) };
}

/** Polls the dataflow's runs until the cron has created one, for at most `ms` milliseconds. */
async function scheduledRunOf(api: Api, dataflowId: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const runs = (await api('GET', `/runs?dataflowId=${dataflowId}`)).body.items;
    if (runs.length > 0) return runs[0].id;
    if (Date.now() > deadline) throw new Error(`no scheduled run after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Registers the own-cron test of one host. */
export function hostSmoke(kind: Exclude<HostKind, 'workerd'>): void {
  describe(`the ${kind} host's own cron`, () => {
    let moto: Moto | undefined;
    let host: JourneyHost | undefined;
    let writer: { accessKeyId: string; secretAccessKey: string };

    beforeAll(async () => {
      moto = await startMoto();
      await createBucket(moto, BUCKET);
      writer = await createUser(moto, `${kind}-writer`, permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }));
      await moto.enableAuth();
      host = await startJourneyHost(kind, { ALLOW_LOOPBACK_ENDPOINTS: 'true', EDGE_EXPORT_CRON: 'on' });
    });

    afterAll(async () => {
      await host?.stop();
      await moto?.stop();
    });

    it('runs a dataflow scheduled for the next minute', async () => {
      const org = await apiClient(host!.url, host!.adminToken)('POST', '/admin/organizations', { name: 'Acme' });
      const api = apiClient(host!.url, org.body.token);
      const profiles = ['p1', 'p2', 'p3'].map((id) => JSON.stringify({ id, identities: { email: [`${id}@example.com`] }, attributes: {} }));
      expect((await api('POST', '/profiles', profiles.join('\n'), 'application/x-ndjson')).status).toBe(200);
      const audience = await api('POST', '/audiences', { kind: 'rule', name: 'all', rule: 'id != ""' });
      const destination = await api('POST', '/destinations', {
        name: 'moto',
        bucket: BUCKET,
        folderPath: `${FOLDER}${kind}/`,
        region: moto!.region,
        endpoint: moto!.endpoint,
        auth: { method: 'accessKey', accessKeyId: writer.accessKeyId, secretAccessKey: writer.secretAccessKey },
      });
      expect(destination.status, destination.text).toBe(201);
      const flow = await api('POST', '/dataflows', {
        name: 'next minute',
        destinationId: destination.body.id,
        audienceIds: [audience.body.id],
        mapping: { fields: [{ source: 'id' }] },
        schedule: { frequency: 'daily', ...nextMinuteSlot() },
      });
      expect(flow.status, flow.text).toBe(201);
      const run = await settledRun(api, await scheduledRunOf(api, flow.body.id, 100_000));
      expect(run, host!.output()).toMatchObject({ status: 'succeeded', trigger: 'schedule', rows: 3 });
      const s3 = s3Reader(moto!);
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: run.files[0].key }));
      expect((await object.Body!.transformToString()).trim().split('\n')).toEqual(['id', 'p1', 'p2', 'p3']);
      s3.destroy();
    }, 180_000);
  });
}
