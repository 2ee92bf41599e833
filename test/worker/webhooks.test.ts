import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/core/security/webhook.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/worker/routes/webhooks.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

const NOW = new Date('2026-04-01T12:00:00Z');
const now = () => NOW;
const seconds = (offset = 0) => String(NOW.getTime() / 1000 + offset);

async function setup() {
  const e = testEnv();
  const org = await newOrg(e);
  const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
  const aud = await call(e, 'POST', '/audiences', {
    token: org.token,
    body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' },
  });
  const flow = await call(e, 'POST', '/dataflows', {
    token: org.token,
    body: {
      name: 'f',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }] },
    },
  });
  expect(flow.status).toBe(201);
  expect(flow.body.webhookSecret).toMatch(/^whsec_/);
  return { e, org, flowId: flow.body.id as string, secret: flow.body.webhookSecret as string };
}

async function deliver(
  s: Awaited<ReturnType<typeof setup>>,
  options: {
    body?: string;
    timestamp?: string;
    sign?: { secret?: string; timestamp?: string; body?: string; key?: string | null };
    encoding?: 'hex' | 'base64';
    headers?: Record<string, string>;
  } = {},
) {
  const body = options.body ?? '{"event":"audience.evaluated"}';
  const timestamp = options.timestamp ?? seconds();
  // The Idempotency-Key sent is the one signed, unless the test signs another (or none: null).
  const key = options.sign?.key === undefined ? options.headers?.['Idempotency-Key'] : (options.sign.key ?? undefined);
  const signature = await signWebhook(
    options.sign?.secret ?? s.secret,
    options.sign?.timestamp ?? timestamp,
    options.sign?.body ?? body,
    options.encoding,
    key,
  );
  const headers = { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp, ...options.headers };
  return { ...(await call(s.e, 'POST', `/webhooks/${s.flowId}`, { raw: body, now, headers })), request: headers };
}

describe('POST /v1/webhooks/:dataflowId', () => {
  it('a valid signature (hex or base64) queues exactly one run', async () => {
    const s = await setup();
    const res = await deliver(s);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ dataflowId: s.flowId, trigger: 'webhook', status: 'queued' });
    expect(s.e.EXPORTS.sent).toEqual([{ runId: res.body.id, orgId: s.org.id }]);
    const other = await deliver(s, { body: '{"event":"second"}', encoding: 'base64' });
    expect(other.status).toBe(202);
    expect(s.e.EXPORTS.sent).toHaveLength(2);
  });

  it.each([
    ['a bad signature', { sign: { secret: 'whsec_wrong' } }, 'mismatch'],
    ['a tampered body', { sign: { body: '{"event":"other"}' } }, 'mismatch'],
    ['an expired timestamp', { timestamp: seconds(-301) }, 'expired'],
    ['a timestamp from the future', { timestamp: seconds(400) }, 'expired'],
  ] as const)('refuses %s with 401 and queues nothing', async (_name, options, reason) => {
    const s = await setup();
    const res = await deliver(s, options);
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'WEBHOOK_REFUSED', details: { reason } });
    expect(s.e.EXPORTS.sent).toEqual([]);
    const runs = await s.e.DB.prepare('SELECT COUNT(*) AS n FROM runs WHERE dataflow_id = ?')
      .bind(s.flowId)
      .first<{ n: number }>();
    expect(runs!.n).toBe(0);
  });

  it('refuses a replay of the same delivery: one run, one message', async () => {
    const s = await setup();
    const first = await deliver(s);
    expect(first.status).toBe(202);
    const replays = await Promise.all([deliver(s), deliver(s), deliver(s, { encoding: 'base64' })]);
    for (const replay of replays) {
      expect(replay.status).toBe(409);
      expect(replay.body.error).toMatchObject({ code: 'REPLAYED', details: { runId: first.body.id } });
    }
    expect(s.e.EXPORTS.sent).toHaveLength(1);
  });

  it('treats two deliveries with one Idempotency-Key as one, even when re-signed later', async () => {
    const s = await setup();
    const headers = { 'Idempotency-Key': 'evaluation-2026-04-01' };
    expect((await deliver(s, { headers })).status).toBe(202);
    const again = await deliver(s, { headers, timestamp: seconds(5), body: '{"retry":true}' });
    expect(again.status).toBe(409);
    expect(s.e.EXPORTS.sent).toHaveLength(1);
  });

  it('accepts a delivery once whatever its headers: a new, changed or dropped Idempotency-Key makes no run', async () => {
    const s = await setup();
    const first = await deliver(s, { headers: { 'Idempotency-Key': 'k-1' } });
    expect(first.status).toBe(202);
    const signature = first.request[SIGNATURE_HEADER];
    const timestamp = first.request[TIMESTAMP_HEADER];
    const resend = (headers: Record<string, string>, body = '{"event":"audience.evaluated"}') =>
      call(s.e, 'POST', `/webhooks/${s.flowId}`, {
        raw: body,
        now,
        headers: { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp, ...headers },
      });
    // The key is signed: another key, or none, does not verify.
    expect((await resend({ 'Idempotency-Key': 'k-2' })).status).toBe(401);
    expect((await resend({})).status).toBe(401);
    // The same bytes signed another way (the key moved into the body) verify, but are the same signature.
    const moved = await resend({}, 'k-1.{"event":"audience.evaluated"}');
    expect(moved.status).toBe(409);
    expect(moved.body.error).toMatchObject({ code: 'REPLAYED', details: { runId: first.body.id } });
    // Unkeyed deliveries replayed with a key added do not verify either.
    const plain = await deliver(s, { body: '{"n":2}' });
    expect(plain.status).toBe(202);
    const added = await call(s.e, 'POST', `/webhooks/${s.flowId}`, {
      raw: '{"n":2}',
      now,
      headers: { ...plain.request, 'Idempotency-Key': 'k-3' },
    });
    expect(added.status).toBe(401);
    expect(s.e.EXPORTS.sent).toHaveLength(2);
  });

  it('a refused retry claims nothing: its signature stays free', async () => {
    const s = await setup();
    const headers = { 'Idempotency-Key': 'k-1' };
    expect((await deliver(s, { headers })).status).toBe(202);
    // A re-signed retry under the same key is refused …
    const retry = await deliver(s, { headers, timestamp: seconds(5) });
    expect(retry.status).toBe(409);
    const row = await s.e.DB.prepare("SELECT COUNT(*) AS n FROM idempotency_keys WHERE scope = ? AND key LIKE 'sig:%'")
      .bind(`webhook:${s.flowId}`)
      .first<{ n: number }>();
    // … and only the first delivery's signature is claimed.
    expect(row!.n).toBe(1);
  });

  it('answers an unknown dataflow like a bad signature', async () => {
    const s = await setup();
    const res = await call(s.e, 'POST', '/webhooks/dfl_doesnotexist', {
      raw: '{}',
      now,
      headers: { [SIGNATURE_HEADER]: 'a'.repeat(64), [TIMESTAMP_HEADER]: seconds() },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('WEBHOOK_REFUSED');
  });

  it('never shows the webhook secret again after creation', async () => {
    const s = await setup();
    const read = await call(s.e, 'GET', `/dataflows/${s.flowId}`, { token: s.org.token });
    const list = await call(s.e, 'GET', '/dataflows', { token: s.org.token });
    for (const res of [read, list]) expect(res.text).not.toContain(s.secret);
    expect(read.body.webhookUrl).toBe(`/v1/webhooks/${s.flowId}`);
  });
});
