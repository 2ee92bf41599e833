/**
 * End to end in workerd: profiles ingested through the API, a scheduled dataflow, overlapping and
 * repeated cron ticks, duplicated queue deliveries, and the real export runner writing to moto (auth
 * enforced) as an IAM user holding only the policy edge-export generates. Read back independently.
 */
import { createScheduledController } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { signWebhook } from '../../src/core/security/webhook.ts';
import type { RunMessage } from '../../src/worker/env.ts';
import worker from '../../src/worker/index.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/worker/routes/webhooks.ts';
import { call, newOrg, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');
const at = (iso: string) => new Date(iso);

function profiles(n: number): string {
  return Array.from({ length: n }, (_, i) => {
    const id = `p${String(i + 1).padStart(3, '0')}`;
    const tier = i % 2 === 0 ? 'gold' : 'silver';
    return JSON.stringify({ id, identities: { email: [`${id}@example.com`] }, attributes: { tier } });
  }).join('\n');
}

/** A queue batch whose acks and retries are recorded. */
function batchOf(messages: RunMessage[]) {
  const acked: string[] = [];
  const retried: string[] = [];
  const list = messages.map((body, i) => ({
    id: `m${i}`,
    body,
    attempts: 1,
    ack: () => acked.push(`m${i}`),
    retry: () => retried.push(`m${i}`),
  }));
  return { acked, retried, batch: { queue: 'edge-export-runs', messages: list } };
}

async function scheduledExport(folder: string) {
  const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
  const org = await newOrg(e);
  const api = (method: string, path: string, body?: unknown, now?: () => Date) =>
    call(e, method, path, { token: org.token, ...(body !== undefined && { body }), ...(now && { now }) });
  const loaded = await call(e, 'POST', '/profiles', {
    token: org.token,
    raw: profiles(40),
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  expect(loaded.body).toEqual({ stored: 40 });
  const dest = await api('POST', '/destinations', motoDestinationBody(folder, { fileType: 'csv' }));
  expect(dest.status).toBe(201);
  const aud = await api('POST', '/audiences', {
    kind: 'rule',
    name: 'gold',
    rule: 'attributes.tier = "gold"',
  });
  const flow = await api(
    'POST',
    '/dataflows',
    {
      name: 'daily gold',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }] },
      schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' },
    },
    () => at('2026-04-01T00:00:00Z'),
  );
  expect(flow.status).toBe(201);
  const mine = () => e.EXPORTS.sent.filter((m) => m.orgId === org.id);
  return {
    e,
    org,
    api,
    flowId: flow.body.id as string,
    webhookSecret: flow.body.webhookSecret as string,
    mine,
  };
}

describe('cron → queue → export to moto', () => {
  it('overlapping and repeated ticks and duplicated deliveries produce one run and one set of files', async () => {
    const folder = `${moto.folder}cron/`;
    const s = await scheduledExport(folder);
    const tickAt = (iso: string) =>
      worker.scheduled(
        createScheduledController({ scheduledTime: at(iso).getTime(), cron: '*/5 * * * *' }),
        s.e,
      );
    await Promise.all([tickAt('2026-04-01T06:05:00Z'), tickAt('2026-04-01T06:05:00Z')]);
    await tickAt('2026-04-01T06:10:00Z');
    expect(s.mine()).toHaveLength(1);

    // At-least-once delivery: the message arrives twice in one batch, then once more later.
    const first = batchOf([s.mine()[0]!, s.mine()[0]!]);
    await worker.queue(first.batch, s.e);
    expect(first.acked).toEqual(['m0', 'm1']);
    const again = batchOf([s.mine()[0]!]);
    await worker.queue(again.batch, s.e);
    await tickAt('2026-04-01T06:15:00Z');

    const runs = (await s.api('GET', `/runs?dataflowId=${s.flowId}`)).body.items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      trigger: 'schedule',
      status: 'succeeded',
      scheduledTime: '2026-04-01T06:00:00.000Z',
      rows: 20,
      attempts: 1,
    });
    expect(runs[0].files).toHaveLength(1);

    const s3 = motoAdmin();
    const keys = await s3.list(folder);
    expect(keys).toEqual([runs[0].files[0].key]);
    expect(keys[0]).toMatch(/^exports\/cron\/gold\//);
    const lines = (await s3.get(keys[0]!)).text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('id,email');
    const expected = Array.from({ length: 20 }, (_, i) => {
      const id = `p${String(2 * i + 1).padStart(3, '0')}`;
      return `${id},${id}@example.com`;
    });
    expect(lines.slice(1).sort()).toEqual(expected);
  });

  it('a signed webhook delivery exports once; its replay is refused and writes nothing', async () => {
    const folder = `${moto.folder}webhook/`;
    const s = await scheduledExport(folder);
    const body = '{"event":"audience.evaluated"}';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      [TIMESTAMP_HEADER]: timestamp,
      [SIGNATURE_HEADER]: await signWebhook(s.webhookSecret, timestamp, body),
    };
    const delivered = await call(s.e, 'POST', `/webhooks/${s.flowId}`, { raw: body, headers });
    expect(delivered.status).toBe(202);
    const replay = await call(s.e, 'POST', `/webhooks/${s.flowId}`, { raw: body, headers });
    expect(replay.status).toBe(409);
    expect(s.mine()).toHaveLength(1);
    await worker.queue(batchOf(s.mine()).batch, s.e);
    const run = (await s.api('GET', `/runs/${delivered.body.id}`)).body;
    expect(run).toMatchObject({ trigger: 'webhook', status: 'succeeded', rows: 20 });
    expect(await motoAdmin().list(folder)).toEqual([run.files[0].key]);
  });
});
