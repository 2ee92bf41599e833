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

  it('holds a run while another run of its dataflow is in flight, and sends it again later', async () => {
    const s = await queuedRun();
    const flowId = (await s.detail()).dataflowId as string;
    // The first run is in flight: started (claimed) by another consumer.
    await s.e.DB.prepare("UPDATE runs SET status = 'running', attempts = 1, started_at = ?, lease_until = ? WHERE id = ?")
      .bind(new Date().toISOString(), new Date(Date.now() + 60_000).toISOString(), s.message.runId)
      .run();
    const next = await call(s.e, 'POST', `/dataflows/${flowId}/run`, { token: s.org.token });
    expect(next.body.id).not.toBe(s.message.runId);
    const calls: string[] = [];
    const executeRun: ExecuteRun = async (_env, run) => {
      calls.push(run.id);
      return { rows: 1, skipped: {}, bytes: 1, files: [] };
    };
    const waiting = batch([{ runId: next.body.id, orgId: s.org.id }]);
    s.e.EXPORTS.sent.length = 0;
    await consumeBatch(waiting.batch, s.e, { executeRun });
    expect(calls).toEqual([]);
    expect(waiting.acked).toEqual(['m0']);
    expect(s.e.EXPORTS.sent).toEqual([{ runId: next.body.id, orgId: s.org.id }]);
    expect((await call(s.e, 'GET', `/runs/${next.body.id}`, { token: s.org.token })).body).toMatchObject({ status: 'queued', attempts: 0 });
    // Once the first has finished, the message that comes back runs it.
    await s.e.DB.prepare("UPDATE runs SET status = 'succeeded', finished_at = ? WHERE id = ?").bind(new Date().toISOString(), s.message.runId).run();
    await consumeBatch(batch([{ runId: next.body.id, orgId: s.org.id }]).batch, s.e, { executeRun });
    expect(calls).toEqual([next.body.id]);
  });

  it('renews the lease while a run executes; a consumer that lost it records nothing', async () => {
    const s = await queuedRun();
    const lease = async () =>
      (await s.e.DB.prepare('SELECT lease_until, attempts FROM runs WHERE id = ?').bind(s.message.runId).first<{ lease_until: string; attempts: number }>())!;
    const executeRun: ExecuteRun = async (_env, _run, held) => {
      const claimed = (await lease()).lease_until;
      // The heartbeat moves the lease on while the export works.
      while ((await lease()).lease_until === claimed) await new Promise((r) => setTimeout(r, 5));
      // Another consumer takes the run over (as after an expired lease): this one's claim is stale.
      await s.e.DB.prepare('UPDATE runs SET attempts = attempts + 1 WHERE id = ?').bind(s.message.runId).run();
      while (!held.lost()) await new Promise((r) => setTimeout(r, 5));
      return { rows: 7, skipped: {}, bytes: 70, files: [] };
    };
    const b = batch([s.message]);
    await consumeBatch(b.batch, s.e, { executeRun, heartbeatSeconds: 0.02 });
    expect(b.acked).toEqual(['m0']);
    // The outcome of the consumer that lost the lease is not written: the run stays with its new owner.
    expect(await s.detail()).toMatchObject({ status: 'running', attempts: 2 });
    expect((await s.alerts()).map((a) => a.event)).toEqual(['run.started']);
  });
});
