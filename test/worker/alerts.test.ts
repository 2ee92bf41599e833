import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/core/security/webhook.ts';
import { deliverAlerts } from '../../src/worker/alerts.ts';
import { type ExecuteRun, consumeBatch } from '../../src/worker/consumer.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/worker/routes/webhooks.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

const ALERT_SECRET = 'alert-secret-0123456789-abcdef';
const T0 = new Date('2026-04-01T12:00:00Z');

async function flowWithAlerts(extra: Record<string, unknown>) {
  const e = testEnv();
  const org = await newOrg(e);
  const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
  const aud = await call(e, 'POST', '/audiences', { token: org.token, body: { kind: 'upload', name: 'l' } });
  const flow = await call(e, 'POST', '/dataflows', {
    token: org.token,
    body: {
      name: 'f',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }] },
      alertWebhook: 'https://hooks.example.com/edge',
      ...extra,
    },
  });
  expect(flow.status).toBe(201);
  const run = await call(e, 'POST', `/dataflows/${flow.body.id}/run`, { token: org.token });
  const message = { runId: run.body.id as string, orgId: org.id };
  const batch = {
    queue: 'edge-export-runs',
    messages: [{ id: 'm0', body: message, attempts: 1, ack: () => {}, retry: () => {} }],
  };
  return { e, org, flow, runId: run.body.id as string, batch };
}

/** Rows 80, skipped 20: a skipped rate of 0.2. */
const executeRun: ExecuteRun = async () => ({
  rows: 80,
  skipped: { 'missing:identities.email': 15, duplicate: 5 },
  bytes: 100,
  files: [],
});

/** Records the alert posts of one run (the outbox is shared by every test in this database). */
function recorder(status: number, runId: string) {
  const posts: { url: string; headers: Headers; body: string }[] = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    if (JSON.parse(String(init.body)).runId === runId)
      posts.push({ url, headers: new Headers(init.headers), body: String(init.body) });
    return new Response(null, { status });
  }) as typeof fetch;
  return { posts, fetcher };
}

describe('alerts', () => {
  it('posts run.skipped_rate above the threshold, signed with the alert secret, retried after a failure', async () => {
    const s = await flowWithAlerts({ alertSecret: ALERT_SECRET, skippedRateThreshold: 0.1 });
    expect(s.flow.body).toMatchObject({ alertSigned: true, skippedRateThreshold: 0.1 });
    expect(s.flow.text).not.toContain(ALERT_SECRET);
    await consumeBatch(s.batch, s.e, { executeRun, now: () => T0 });

    const down = recorder(503, s.runId);
    await deliverAlerts(s.e, T0, down.fetcher);
    expect(down.posts.map((p) => JSON.parse(p.body).event)).toEqual([
      'run.started',
      'run.succeeded',
      'run.skipped_rate',
    ]);
    // Not due again before the first backoff step (1 minute).
    const early = recorder(204, s.runId);
    await deliverAlerts(s.e, new Date(T0.getTime() + 30_000), early.fetcher);
    expect(early.posts).toEqual([]);

    const later = new Date(T0.getTime() + 61_000);
    const up = recorder(204, s.runId);
    await deliverAlerts(s.e, later, up.fetcher);
    expect(up.posts).toHaveLength(3);
    const skipped = up.posts.find((p) => JSON.parse(p.body).event === 'run.skipped_rate')!;
    expect(JSON.parse(skipped.body)).toMatchObject({
      runId: s.runId,
      skippedRate: 0.2,
      threshold: 0.1,
      rows: 80,
      skipped: { 'missing:identities.email': 15, duplicate: 5 },
    });
    for (const post of up.posts) {
      expect(post.url).toBe('https://hooks.example.com/edge');
      const verdict = await verifyWebhook({
        secret: ALERT_SECRET,
        timestamp: post.headers.get(TIMESTAMP_HEADER),
        signature: post.headers.get(SIGNATURE_HEADER),
        body: post.body,
        now: later,
      });
      expect(verdict).toEqual({ ok: true });
    }
    const wrong = await verifyWebhook({
      secret: 'another-secret-0123456789',
      timestamp: skipped.headers.get(TIMESTAMP_HEADER),
      signature: skipped.headers.get(SIGNATURE_HEADER),
      body: skipped.body,
      now: later,
    });
    expect(wrong.ok).toBe(false);
    // Delivered alerts are not sent again.
    await deliverAlerts(s.e, new Date(later.getTime() + 3_600_000), up.fetcher);
    expect(up.posts).toHaveLength(3);
  });

  it('stays quiet at or below the threshold and sends unsigned alerts without a secret', async () => {
    const s = await flowWithAlerts({ skippedRateThreshold: 0.2 });
    expect(s.flow.body.alertSigned).toBe(false);
    await consumeBatch(s.batch, s.e, { executeRun, now: () => T0 });
    const up = recorder(204, s.runId);
    await deliverAlerts(s.e, T0, up.fetcher);
    expect(up.posts.map((p) => JSON.parse(p.body).event)).toEqual(['run.started', 'run.succeeded']);
    expect(up.posts[0]!.headers.get(SIGNATURE_HEADER)).toBeNull();
  });

  it('refuses a bad threshold and a short secret, naming the field without echoing the secret', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
    const res = await call(e, 'POST', '/dataflows', {
      token: org.token,
      body: {
        name: 'f',
        destinationId: dest.body.id,
        datasetId: 'none',
        skippedRateThreshold: 1.5,
        alertSecret: 'short-secret',
      },
    });
    expect(res.status).toBe(400);
    const paths = res.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['skippedRateThreshold', 'alertSecret']));
    expect(res.text).not.toContain('short-secret');
  });
});
