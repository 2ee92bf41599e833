import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/core/errors.ts';
import { consumeBatch, type ExecuteRun } from '../../src/worker/consumer.ts';
import type { RunMessage } from '../../src/worker/env.ts';
import type { RunRow } from '../../src/worker/store/runs.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

async function queuedRun() {
  const e = testEnv();
  const org = await newOrg(e);
  const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
  const aud = await call(e, 'POST', '/audiences', {
    token: org.token,
    body: { kind: 'upload', name: 'list' },
  });
  const flow = await call(e, 'POST', '/dataflows', {
    token: org.token,
    body: {
      name: 'f',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }] },
      alertWebhook: 'https://hooks.example.com/a',
    },
  });
  const run = await call(e, 'POST', `/dataflows/${flow.body.id}/run`, { token: org.token });
  expect(run.status).toBe(202);
  const message: RunMessage = { runId: run.body.id, orgId: org.id };
  const alerts = async () =>
    (
      await e.DB.prepare('SELECT event, payload FROM alerts WHERE run_id = ? ORDER BY id')
        .bind(run.body.id)
        .all<{ event: string; payload: string }>()
    ).results;
  const detail = async () => (await call(e, 'GET', `/runs/${run.body.id}`, { token: org.token })).body;
  return { e, org, message, alerts, detail };
}

/** A batch whose acks and retries are recorded. */
function batch(messages: RunMessage[], attempts = 1) {
  const acked: string[] = [];
  const retried: string[] = [];
  const list = messages.map((body, i) => ({
    id: `m${i}`,
    body,
    attempts,
    ack: () => acked.push(`m${i}`),
    retry: () => retried.push(`m${i}`),
  }));
  return { acked, retried, batch: { queue: 'edge-export-runs', messages: list } };
}

describe('queue consumer', () => {
  it('runs a claimed run once, records counts, and writes start and success alerts', async () => {
    const s = await queuedRun();
    const calls: RunRow[] = [];
    const executeRun: ExecuteRun = async (_env, run) => {
      calls.push(run);
      return {
        rows: 42,
        skipped: { 'missing:attributes.email': 3 },
        bytes: 1234,
        files: [{ key: 'a.csv', size: 1234 }],
      };
    };
    const b = batch([s.message, s.message]); // a duplicated delivery in the same batch
    await consumeBatch(b.batch, s.e, { executeRun });
    expect(calls).toHaveLength(1);
    expect(b.acked).toEqual(['m0', 'm1']);
    expect(await s.detail()).toMatchObject({
      status: 'succeeded',
      rows: 42,
      skipped: { 'missing:attributes.email': 3 },
      bytes: 1234,
      attempts: 1,
    });
    expect((await s.alerts()).map((a) => a.event)).toEqual(['run.started', 'run.succeeded']);
    // A redelivery after success is a no-op.
    await consumeBatch(batch([s.message]).batch, s.e, { executeRun });
    expect(calls).toHaveLength(1);
  });

  it('fails a run on a non-retryable error, without a stack, and alerts', async () => {
    const s = await queuedRun();
    const executeRun: ExecuteRun = async () => {
      throw new ExportError('S3_ACCESS_DENIED', 'role lacks s3:PutObject on acme-exports/audiences/*', {
        plugin: 'sink/s3',
        stage: 'sink',
      });
    };
    const b = batch([s.message]);
    await consumeBatch(b.batch, s.e, { executeRun });
    expect(b.acked).toEqual(['m0']);
    const run = await s.detail();
    expect(run).toMatchObject({
      status: 'failed',
      error: { code: 'S3_ACCESS_DENIED', plugin: 'sink/s3', stage: 'sink' },
    });
    expect(JSON.stringify(run)).not.toMatch(/stack|\.ts:\d+/);
    expect((await s.alerts()).map((a) => a.event)).toEqual(['run.started', 'run.failed']);
  });

  it('puts a run back on the queue after a retryable error, then fails it after the last attempt', async () => {
    const s = await queuedRun();
    const executeRun: ExecuteRun = async () => {
      throw new ExportError('NETWORK', 'connection reset');
    };
    const first = batch([s.message], 1);
    await consumeBatch(first.batch, s.e, { executeRun });
    expect(first.retried).toEqual(['m0']);
    expect((await s.detail()).status).toBe('queued');
    const last = batch([s.message], 3);
    await consumeBatch(last.batch, s.e, { executeRun });
    expect(last.acked).toEqual(['m0']);
    expect(await s.detail()).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'NETWORK' } });
  });
});
