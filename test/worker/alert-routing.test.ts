/**
 * Alert routing in workerd, through the API with a pinned clock: the events a dataflow chose (and only
 * those) reach its webhook, a Slack body Slack's Block Kit accepts and signed like JSON ones, and the
 * lateness alert, once per late slot and never for an on-time one, from the cron tick.
 */
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/core/errors.ts';
import { verifyWebhook } from '../../src/core/security/webhook.ts';
import { deliverAlerts } from '../../src/worker/alerts.ts';
import { type ExecuteRun, consumeBatch } from '../../src/worker/consumer.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/worker/routes/webhooks.ts';
import { tick } from '../../src/worker/scheduler.ts';
import { slackProblems } from '../harness/slack.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

const ALERT_SECRET = 'slack-alert-secret-0123456789';
const at = (iso: string) => new Date(iso);
const minutes = (from: Date, n: number) => new Date(from.getTime() + n * 60_000);

let hooks = 0;

/** Every alert post, whichever dataflow's (each has its own URL); ticks and deliveries answer 204. */
const received: { url: string; headers: Headers; body: string }[] = [];
const receiver = (async (url: string, init: RequestInit) => {
  received.push({ url, headers: new Headers(init.headers), body: String(init.body) });
  return new Response(null, { status: 204 });
}) as typeof fetch;

/** A dataflow of one upload audience whose alerts go to a webhook URL of its own. */
async function flowWithAlerts(extra: Record<string, unknown>, e = testEnv()) {
  const org = await newOrg(e);
  const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
  const aud = await call(e, 'POST', '/audiences', { token: org.token, body: { kind: 'upload', name: 'list' } });
  const url = `https://hooks.example.com/routing-${++hooks}`;
  const flow = await call(e, 'POST', '/dataflows', {
    token: org.token,
    now: () => at('2026-04-01T00:00:00Z'),
    body: {
      name: 'Nightly VIPs',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }] },
      alertWebhook: url,
      ...extra,
    },
  });
  expect(flow.status, flow.text).toBe(201);
  const flowId = flow.body.id as string;
  /** Runs one run through the consumer at `now`, as its queue message would. */
  const consume = async (runId: string, executeRun: ExecuteRun, now: Date) => {
    const message = { id: runId, body: { runId, orgId: org.id }, attempts: 1, ack: () => {}, retry: () => {} };
    await consumeBatch({ queue: 'edge-export-runs', messages: [message] }, e, { executeRun, now: () => now });
  };
  const runNow = async (executeRun: ExecuteRun, now: Date) => {
    const run = await call(e, 'POST', `/dataflows/${flowId}/run`, { token: org.token, now: () => now });
    await consume(run.body.id, executeRun, now);
    return run.body.id as string;
  };
  /** Delivers what is due at `now` and takes the posts this dataflow's webhook received so far. */
  const delivered = async (now: Date) => {
    await deliverAlerts(e, now, receiver);
    const mine = received.filter((p) => p.url === url);
    received.splice(0, received.length, ...received.filter((p) => p.url !== url));
    return mine.map(({ headers, body }) => ({ headers, body }));
  };
  return { e, org, flow, flowId, consume, runNow, delivered };
}

const succeeds: ExecuteRun = async () => ({ rows: 3, skipped: {}, bytes: 42, files: [] });
const fails: ExecuteRun = async () => {
  throw new ExportError('S3_ACCESS_DENIED', 'sink (upload): the role lacks s3:PutObject on acme-exports/audiences/*', { plugin: 'sink/s3', stage: 'upload' });
};

describe('alert routing', () => {
  it('posts only the chosen events: a failure alert, and nothing for a run that succeeded', async () => {
    const s = await flowWithAlerts({ alertEvents: ['run.failed'] });
    expect(s.flow.body).toMatchObject({ alertEvents: ['run.failed'], alertFormat: 'signed-json' });
    const T = at('2026-04-02T10:00:00Z');
    await s.runNow(succeeds, T);
    expect(await s.delivered(T)).toEqual([]);
    const failed = await s.runNow(fails, minutes(T, 5));
    const posts = await s.delivered(minutes(T, 5));
    expect(posts.map((p) => JSON.parse(p.body))).toEqual([
      expect.objectContaining({ event: 'run.failed', runId: failed, dataflowId: s.flowId, error: expect.objectContaining({ code: 'S3_ACCESS_DENIED' }) }),
    ]);
    expect(posts[0]!.headers.get('X-Edge-Export-Event')).toBe('run.failed');
  });

  it('keeps today\'s behaviour by default: every event but run.recovered, listed in the dataflow', async () => {
    const s = await flowWithAlerts({});
    expect(s.flow.body.alertEvents).toEqual(['run.started', 'run.succeeded', 'run.failed', 'run.delayed', 'run.skipped_rate']);
    const T = at('2026-04-02T11:00:00Z');
    await s.runNow(succeeds, T);
    expect((await s.delivered(T)).map((p) => JSON.parse(p.body).event)).toEqual(['run.started', 'run.succeeded']);
  });

  it('posts run.recovered for a success after a failure, once, when chosen', async () => {
    const s = await flowWithAlerts({ alertEvents: ['run.recovered', 'run.failed'] });
    const T = at('2026-04-02T13:00:00Z');
    const failed = await s.runNow(fails, T);
    const recovered = await s.runNow(succeeds, minutes(T, 10));
    await s.runNow(succeeds, minutes(T, 20));
    const posts = (await s.delivered(minutes(T, 20))).map((p) => JSON.parse(p.body));
    expect(posts.map((p) => [p.event, p.runId])).toEqual([
      ['run.failed', failed],
      ['run.recovered', recovered],
    ]);
    expect(posts[1]).toMatchObject({ failedRunId: failed, rows: 3, bytes: 42, files: 0 });
    // Not among the default events: a dataflow that never chose gets no run.recovered.
    const quiet = await flowWithAlerts({});
    await quiet.runNow(fails, T);
    await quiet.runNow(succeeds, minutes(T, 10));
    expect((await quiet.delivered(minutes(T, 10))).map((p) => JSON.parse(p.body).event)).toEqual([
      'run.started',
      'run.failed',
      'run.started',
      'run.succeeded',
    ]);
  });

  it('sends a Slack message Block Kit accepts, signed over the body sent, with the error and a console link, no secret', async () => {
    const e = testEnv({ CONSOLE_URL: 'https://export.example.com/' });
    const s = await flowWithAlerts({ alertFormat: 'slack', alertSecret: ALERT_SECRET, alertEvents: ['run.failed', 'run.succeeded'] }, e);
    expect(s.flow.body).toMatchObject({ alertFormat: 'slack', alertSigned: true });
    const T = at('2026-04-02T12:00:00Z');
    const runId = await s.runNow(fails, T);
    const [post, ...more] = await s.delivered(T);
    expect(more).toEqual([]);
    const body = JSON.parse(post!.body);
    expect(slackProblems(body)).toEqual([]);
    expect(body.text).toContain('Run failed');
    expect(body.text).toContain(runId);
    expect(body.text).toContain('Nightly VIPs');
    expect(body.text).toContain('S3_ACCESS_DENIED');
    expect(body.text).toContain('the role lacks s3:PutObject');
    expect(post!.body).toContain(`https://export.example.com/#/runs/${runId}|Open the run in the console`);
    expect(post!.body).not.toContain(ALERT_SECRET);
    expect(
      await verifyWebhook({
        secret: ALERT_SECRET,
        timestamp: post!.headers.get(TIMESTAMP_HEADER),
        signature: post!.headers.get(SIGNATURE_HEADER),
        body: post!.body,
        now: T,
      }),
    ).toEqual({ ok: true });
    // Every block of a succeeded run's message is valid too; without CONSOLE_URL there is no link.
    const plain = await flowWithAlerts({ alertFormat: 'slack', alertEvents: ['run.succeeded'] });
    await plain.runNow(succeeds, T);
    const [ok] = await plain.delivered(T);
    expect(slackProblems(JSON.parse(ok!.body))).toEqual([]);
    expect(JSON.parse(ok!.body).text).toContain('3 rows in 0 file(s), 42 bytes');
    expect(ok!.body).not.toContain('console');
    expect(ok!.headers.get(SIGNATURE_HEADER)).toBeNull();
  });

  it('posts run.delayed once for a scheduled run not finished by its margin, and never for an on-time one', async () => {
    const s = await flowWithAlerts({
      schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' },
      lateAfterMinutes: 30,
      alertEvents: ['run.delayed'],
    });
    expect(s.flow.body.lateAfterMinutes).toBe(30);
    const slot = at('2026-04-01T06:00:00Z');
    const runs = async () =>
      (await s.e.DB.prepare('SELECT id, scheduled_time FROM runs WHERE dataflow_id = ? ORDER BY scheduled_time').bind(s.flowId).all<{ id: string; scheduled_time: string }>()).results;

    // Day 1: the run is queued and stays so (its consumer never comes): late at 06:30, alerted once.
    await tick(s.e, minutes(slot, 1), receiver);
    const [late] = await runs();
    await tick(s.e, minutes(slot, 29), receiver);
    expect(await s.delivered(minutes(slot, 29))).toEqual([]);
    await Promise.all([tick(s.e, minutes(slot, 31), receiver), tick(s.e, minutes(slot, 31), receiver)]);
    await tick(s.e, minutes(slot, 45), receiver);
    const alerts = await s.delivered(minutes(slot, 45));
    expect(alerts.map((p) => JSON.parse(p.body))).toEqual([
      {
        event: 'run.delayed',
        reason: 'late',
        runId: late!.id,
        dataflowId: s.flowId,
        trigger: 'schedule',
        scheduledTime: '2026-04-01T06:00:00.000Z',
        lateAfterMinutes: 30,
        deadline: '2026-04-01T06:30:00.000Z',
        status: 'queued',
        at: '2026-04-01T06:31:00.000Z',
      },
    ]);
    const outbox = await s.e.DB.prepare('SELECT event FROM alerts WHERE run_id = ?').bind(late!.id).all();
    expect(outbox.results).toEqual([{ event: 'run.delayed' }]);
    // Finishing late afterwards, and later ticks, send nothing more for that slot.
    await s.consume(late!.id, succeeds, minutes(slot, 50));
    await tick(s.e, minutes(slot, 60), receiver);
    expect(await s.delivered(minutes(slot, 60))).toEqual([]);

    // Day 2: finished 5 minutes after its slot: on time, no alert whatever the ticks.
    const day2 = at('2026-04-02T06:00:00Z');
    await tick(s.e, minutes(day2, 1), receiver);
    await s.consume((await runs())[1]!.id, succeeds, minutes(day2, 5));
    for (const m of [29, 31, 90]) await tick(s.e, minutes(day2, m), receiver);
    expect(await s.delivered(minutes(day2, 90))).toEqual([]);

    // Day 3: finished 40 minutes after its slot, between two ticks: late, alerted once with its times.
    const day3 = at('2026-04-03T06:00:00Z');
    await tick(s.e, minutes(day3, 1), receiver);
    const third = (await runs())[2]!;
    await s.consume(third.id, succeeds, minutes(day3, 40));
    await tick(s.e, minutes(day3, 41), receiver);
    await tick(s.e, minutes(day3, 42), receiver);
    expect((await s.delivered(minutes(day3, 42))).map((p) => JSON.parse(p.body))).toEqual([
      expect.objectContaining({
        event: 'run.delayed',
        reason: 'late',
        runId: third.id,
        status: 'succeeded',
        startedAt: '2026-04-03T06:40:00.000Z',
        finishedAt: '2026-04-03T06:40:00.000Z',
      }),
    ]);
  });

  it('leaves lateness unsent when the dataflow alerts on other events, and names a missed-slot delay', async () => {
    const e = testEnv({ MAX_CATCH_UP: '1' });
    const quiet = await flowWithAlerts({ schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' }, alertEvents: ['run.failed'] }, e);
    const loud = await flowWithAlerts({ schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' } }, e);
    // Three days late: one slot caught up, two dropped.
    const T = at('2026-04-03T07:00:00Z');
    await tick(e, T, receiver);
    expect(await quiet.delivered(T)).toEqual([]);
    expect((await loud.delivered(T)).map((p) => JSON.parse(p.body))).toEqual([
      { event: 'run.delayed', reason: 'missedSlots', dataflowId: loud.flowId, missedSlots: 2, at: T.toISOString() },
    ]);
  });

  it('refuses unknown events and formats with the closest name, and lateness a dataflow cannot have', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
    const base = { name: 'f', destinationId: dest.body.id, datasetId: 'none', alertWebhook: 'https://hooks.example.com/x' };
    const issues = async (extra: Record<string, unknown>) => {
      const res = await call(e, 'POST', '/dataflows', { token: org.token, body: { ...base, ...extra } });
      expect(res.status).toBe(400);
      return res.body.error.issues as { path: string; message: string }[];
    };
    const typo = await issues({ alertEvents: ['run.failed', 'run.faild'], alertFormat: 'slak', lateAfterMinutes: 0 });
    expect(typo).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'alertEvents[1]', message: expect.stringMatching(/alertEvents: expected one of run\.started, .*received "run\.faild".*did you mean "run\.failed"/) }),
        expect.objectContaining({ path: 'alertFormat', message: 'expected "signed-json" or "slack", received "slak" (did you mean "slack"?)' }),
        expect.objectContaining({ path: 'lateAfterMinutes', message: 'expected a whole number of minutes from 1 to 10080 (a week)' }),
      ]),
    );
    expect(await issues({ alertEvents: [] })).toEqual([expect.objectContaining({ path: 'alertEvents', message: expect.stringContaining('at least one event') })]);
    expect(await issues({ lateAfterMinutes: 30 })).toEqual([
      expect.objectContaining({ path: 'lateAfterMinutes', message: expect.stringContaining('only a scheduled dataflow can be late') }),
    ]);
    const scheduled = { schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' } };
    expect(await issues({ ...scheduled, lateAfterMinutes: 30, alertEvents: ['run.failed'] })).toEqual([
      expect.objectContaining({ path: 'lateAfterMinutes', message: expect.stringContaining('which alertEvents leaves out') }),
    ]);
  });
});
