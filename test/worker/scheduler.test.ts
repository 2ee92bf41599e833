import { createScheduledController } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../src/worker/index.ts';
import { tick } from '../../src/worker/scheduler.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

const at = (iso: string) => new Date(iso);

async function scheduledFlow(schedule: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const e = testEnv();
  const org = await newOrg(e);
  const created = () => at('2026-04-01T00:00:00Z');
  const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
  const aud = await call(e, 'POST', '/audiences', {
    token: org.token,
    body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' },
  });
  const flow = await call(e, 'POST', '/dataflows', {
    token: org.token,
    now: created,
    body: {
      name: 'daily',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }] },
      schedule,
      ...extra,
    },
  });
  expect(flow.status).toBe(201);
  const runs = async () =>
    (
      await e.DB.prepare(
        'SELECT run_key, trigger, status, scheduled_time FROM runs WHERE dataflow_id = ? ORDER BY run_key',
      )
        .bind(flow.body.id)
        .all<{ run_key: string; scheduled_time: string }>()
    ).results;
  const mine = () => e.EXPORTS.sent.filter((m) => m.orgId === org.id);
  return { e, org, flowId: flow.body.id as string, runs, mine };
}

describe('cron tick', () => {
  it('two overlapping scheduled() calls create one run per slot and send one message', async () => {
    const s = await scheduledFlow({ frequency: 'daily', time: '06:00', startDate: '2026-04-01' });
    const controller = () =>
      createScheduledController({ scheduledTime: at('2026-04-01T06:05:00Z').getTime(), cron: '*/5 * * * *' });
    await Promise.all([worker.scheduled(controller(), s.e), worker.scheduled(controller(), s.e)]);
    const runs = await s.runs();
    expect(runs).toEqual([
      {
        run_key: `${s.flowId}:2026-04-01T06:00:00.000Z`,
        trigger: 'schedule',
        status: 'queued',
        scheduled_time: '2026-04-01T06:00:00.000Z',
      },
    ]);
    expect(s.mine()).toHaveLength(1);

    // Repeated and later ticks of the same day add nothing; the next day's slot is enqueued once.
    await worker.scheduled(controller(), s.e);
    await worker.scheduled(
      createScheduledController({ scheduledTime: at('2026-04-01T06:10:00Z').getTime() }),
      s.e,
    );
    expect(await s.runs()).toHaveLength(1);
    await s.e.DB.prepare("UPDATE runs SET status = 'succeeded' WHERE dataflow_id = ?").bind(s.flowId).run(); // as the consumer would
    await Promise.all(
      ['2026-04-02T06:00:00Z', '2026-04-02T06:05:00Z', '2026-04-02T06:00:00Z'].map((t) =>
        worker.scheduled(createScheduledController({ scheduledTime: at(t).getTime() }), s.e),
      ),
    );
    expect((await s.runs()).map((r) => r.scheduled_time)).toEqual([
      '2026-04-01T06:00:00.000Z',
      '2026-04-02T06:00:00.000Z',
    ]);
    expect(s.mine()).toHaveLength(2);
  });

  it('per-audience schedules: overlapping ticks create one run per audience slot, each naming its audience', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
    const audience = async (name: string) =>
      (await call(e, 'POST', '/audiences', { token: org.token, body: { kind: 'rule', name, rule: 'attributes.tier = "gold"' } })).body.id as string;
    const [a, b, c] = [await audience('a'), await audience('b'), await audience('c')];
    const flow = await call(e, 'POST', '/dataflows', {
      token: org.token,
      now: () => at('2026-04-01T00:00:00Z'),
      body: {
        name: 'per audience',
        destinationId: dest.body.id,
        audienceIds: [a, b, c],
        mapping: { fields: [{ source: 'id' }] },
        schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' },
        audiences: [
          { id: b, schedule: { frequency: 'hourly', everyHours: 3, time: '00:00', startDate: '2026-04-01' } },
          { id: c, schedule: null, naming: { customText: 'c' } },
        ],
      },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const id = flow.body.id as string;
    const tickAt = (iso: string) => worker.scheduled(createScheduledController({ scheduledTime: at(iso).getTime() }), e);
    await Promise.all([tickAt('2026-04-01T06:01:00Z'), tickAt('2026-04-01T06:01:00Z'), tickAt('2026-04-01T06:02:00Z')]);
    const runs = (
      await e.DB.prepare('SELECT run_key, scheduled_time, audience_ids FROM runs WHERE dataflow_id = ? ORDER BY scheduled_time, run_key').bind(id).all()
    ).results;
    // b every 3 hours (00:00 is not after the dataflow's creation), a on the dataflow's 06:00, c only on demand.
    expect(runs).toEqual([
      { run_key: `${id}:${b}:2026-04-01T03:00:00.000Z`, scheduled_time: '2026-04-01T03:00:00.000Z', audience_ids: JSON.stringify([b]) },
      { run_key: `${id}:2026-04-01T06:00:00.000Z`, scheduled_time: '2026-04-01T06:00:00.000Z', audience_ids: JSON.stringify([a]) },
      { run_key: `${id}:${b}:2026-04-01T06:00:00.000Z`, scheduled_time: '2026-04-01T06:00:00.000Z', audience_ids: JSON.stringify([b]) },
    ]);
    expect(e.EXPORTS.sent.filter((m) => m.orgId === org.id)).toHaveLength(3);
    const listed = await call(e, 'GET', `/runs?dataflowId=${id}`, { token: org.token });
    expect(listed.body.items.map((r: { audienceIds?: string[] }) => r.audienceIds).sort()).toEqual([[a], [b], [b]].sort());
  });

  it('a slot whose tick is retried after a crash (watermark not advanced) is still enqueued once', async () => {
    const s = await scheduledFlow({ frequency: 'hourly', everyHours: 3, startDate: '2026-04-01' });
    await tick(s.e, at('2026-04-01T03:01:00Z'));
    await s.e.DB.prepare('UPDATE dataflows SET scheduled_through = NULL WHERE id = ?').bind(s.flowId).run();
    await tick(s.e, at('2026-04-01T03:02:00Z'));
    // The 00:00 slot equals the creation time: the window (created, now] excludes it.
    expect((await s.runs()).map((r) => r.scheduled_time)).toEqual(['2026-04-01T03:00:00.000Z']);
    expect(s.mine()).toHaveLength(1);
  });

  it('re-sends a run whose message was lost, once per interval even under overlapping ticks', async () => {
    const s = await scheduledFlow({ frequency: 'daily', time: '06:00', startDate: '2026-04-01' });
    await tick(s.e, at('2026-04-01T06:00:00Z'));
    expect(s.mine()).toHaveLength(1);
    await tick(s.e, at('2026-04-01T06:04:00Z'));
    expect(s.mine()).toHaveLength(1);
    await Promise.all([tick(s.e, at('2026-04-01T06:06:00Z')), tick(s.e, at('2026-04-01T06:06:00Z'))]);
    expect(s.mine()).toHaveLength(2);
    expect(new Set(s.mine().map((m) => m.runId)).size).toBe(1);
  });

  it('a late tick catches up at most MAX_CATCH_UP slots and posts a delay alert', async () => {
    const posted: { url: string; body: unknown }[] = [];
    const fetcher = (async (url: string, init: RequestInit) => {
      posted.push({ url, body: JSON.parse(String(init.body)) });
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const s = await scheduledFlow(
      { frequency: 'daily', time: '06:00', startDate: '2026-04-01' },
      { alertWebhook: 'https://hooks.example.com/edge-export' },
    );
    const report = await tick(s.e, at('2026-04-10T06:00:00Z'), fetcher);
    expect((await s.runs()).map((r) => r.scheduled_time)).toEqual([
      '2026-04-08T06:00:00.000Z',
      '2026-04-09T06:00:00.000Z',
      '2026-04-10T06:00:00.000Z',
    ]);
    expect(report.missed).toBeGreaterThanOrEqual(7);
    expect(posted).toEqual([
      {
        url: 'https://hooks.example.com/edge-export',
        body: expect.objectContaining({ event: 'run.delayed', dataflowId: s.flowId, missedSlots: 7 }),
      },
    ]);
  });

  it('respects the end date (excluded) and disabled dataflows', async () => {
    const s = await scheduledFlow({ frequency: 'daily', startDate: '2026-04-01', endDate: '2026-04-03' });
    await tick(s.e, at('2026-04-01T00:00:00Z'));
    await tick(s.e, at('2026-04-02T00:00:00Z'));
    await tick(s.e, at('2026-04-03T00:00:00Z'));
    expect((await s.runs()).map((r) => r.scheduled_time)).toEqual(['2026-04-02T00:00:00.000Z']);
    const d = await scheduledFlow({ frequency: 'daily', startDate: '2026-04-01' }, { enabled: false });
    await tick(d.e, at('2026-04-05T00:00:00Z'));
    expect(await d.runs()).toEqual([]);
  });

  it('deletes finished runs and delivered alerts older than RUNS_RETENTION_DAYS, and nothing else', async () => {
    const d = await scheduledFlow({ frequency: 'daily', startDate: '2026-04-01' }, { enabled: false });
    const e = { ...d.e, RUNS_RETENTION_DAYS: '30' };
    const insert = (id: string, status: string, created: string) =>
      e.DB.prepare(
        `INSERT INTO runs (id, org_id, dataflow_id, run_key, trigger, status, scheduled_time, created_at)
         VALUES (?, ?, ?, ?, 'api', ?, ?, ?)`,
      )
        .bind(id, d.org.id, d.flowId, `key-${id}`, status, created, created)
        .run();
    const alert = (id: number, delivered: string | null, created: string) =>
      e.DB.prepare(
        `INSERT INTO alerts (id, org_id, dataflow_id, run_id, event, url, payload, next_attempt_at, delivered_at, created_at)
         VALUES (?, ?, ?, NULL, 'run.failed', 'https://hooks.example.com/x', '{}', ?, ?, ?)`,
      )
        .bind(id, d.org.id, d.flowId, '2099-01-01T00:00:00Z', delivered, created)
        .run();
    const old = '2026-03-01T00:00:00Z';
    const recent = '2026-05-20T00:00:00Z';
    await insert('old-ok', 'succeeded', old);
    await insert('old-failed', 'failed', old);
    await insert('old-queued', 'queued', old);
    await insert('old-running', 'running', old);
    await insert('recent-ok', 'succeeded', recent);
    await alert(9_000_001, old, old);
    await alert(9_000_002, null, old);
    await alert(9_000_003, recent, recent);

    // Cutoff 2026-05-02. Alerts other tests left pending fall due at this date: answer them here.
    await tick(e, at('2026-06-01T00:00:00Z'), async () => new Response(null, { status: 204 }));
    const ids = (
      await e.DB.prepare('SELECT id FROM runs WHERE dataflow_id = ? ORDER BY id')
        .bind(d.flowId)
        .all<{ id: string }>()
    ).results;
    expect(ids.map((r) => r.id)).toEqual(['old-queued', 'old-running', 'recent-ok']);
    const alerts = (
      await e.DB.prepare('SELECT id FROM alerts WHERE dataflow_id = ? ORDER BY id')
        .bind(d.flowId)
        .all<{ id: number }>()
    ).results;
    expect(alerts.map((r) => r.id)).toEqual([9_000_002, 9_000_003]);
  });
});
