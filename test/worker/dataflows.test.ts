import { describe, expect, it } from 'vitest';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

async function org() {
  const e = testEnv();
  const o = await newOrg(e);
  const dest = await call(e, 'POST', '/destinations', { token: o.token, body: destinationBody() });
  const aud = await call(e, 'POST', '/audiences', {
    token: o.token,
    body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' },
  });
  return { e, token: o.token, destinationId: dest.body.id as string, audienceId: aud.body.id as string };
}

const paths = (res: { body: { error: { issues: { path: string }[] } } }) =>
  res.body.error.issues.map((i) => i.path).sort();

describe('audiences', () => {
  it('stores the rule text and refuses a rule that does not parse, with line and column', async () => {
    const s = await org();
    const got = await call(s.e, 'GET', `/audiences/${s.audienceId}`, { token: s.token });
    expect(got.body).toMatchObject({ kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
    const bad = await call(s.e, 'POST', '/audiences', {
      token: s.token,
      body: { kind: 'rule', name: 'x', rule: 'attributes.tier = = 1' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0]).toMatchObject({
      path: 'rule',
      message: expect.stringMatching(/line 1, column \d+/),
    });
    const kind = await call(s.e, 'POST', '/audiences', {
      token: s.token,
      body: { kind: 'smart', name: 'x' },
    });
    expect(paths(kind)).toEqual(['kind']);
  });
});

describe('dataflows', () => {
  it('round-trips a dataflow with schedule, naming and mode; names every bad field', async () => {
    const s = await org();
    const body = {
      name: 'nightly',
      destinationId: s.destinationId,
      audienceIds: [s.audienceId],
      mapping: { fields: [{ source: 'id' }, { source: 'attributes.person.name', target: 'name' }] },
      schedule: {
        frequency: 'hourly',
        everyHours: 6,
        time: '01:30',
        startDate: '2026-05-01',
        endDate: '2026-06-01',
      },
      naming: { dateTime: 'unix' },
      exportMode: 'incremental',
    };
    const created = await call(s.e, 'POST', '/dataflows', { token: s.token, body });
    expect(created.status).toBe(201);
    const read = await call(s.e, 'GET', `/dataflows/${created.body.id}`, { token: s.token });
    expect(read.body).toMatchObject({
      ...body,
      enabled: true,
      naming: expect.objectContaining({ dateTime: 'unix' }),
    });
    const updated = await call(s.e, 'PUT', `/dataflows/${created.body.id}`, {
      token: s.token,
      body: { ...body, enabled: false },
    });
    expect(updated.body.enabled).toBe(false);

    const bad = await call(s.e, 'POST', '/dataflows', {
      token: s.token,
      body: {
        ...body,
        schedule: { frequency: 'hourly', everyHours: 5, startDate: '2026-02-30' },
        exportMode: 'delta',
        audienceIds: [],
      },
    });
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['audienceIds', 'exportMode', 'schedule.everyHours', 'schedule.startDate']);
    const both = await call(s.e, 'POST', '/dataflows', {
      token: s.token,
      body: { ...body, datasetId: 'ds1' },
    });
    expect(paths(both)).toEqual(['audienceIds']);
    const ssrf = await call(s.e, 'POST', '/dataflows', {
      token: s.token,
      body: { ...body, alertWebhook: 'https://10.0.0.8/hook' },
    });
    expect(paths(ssrf)).toEqual(['alertWebhook']);
  });

  it('"export now" queues a run that the runs API lists and details; Idempotency-Key dedups; clicks coalesce', async () => {
    const s = await org();
    const flow = await call(s.e, 'POST', '/dataflows', {
      token: s.token,
      body: {
        name: 'now',
        destinationId: s.destinationId,
        audienceIds: [s.audienceId],
        mapping: { fields: [{ source: 'id' }] },
      },
    });
    const first = await call(s.e, 'POST', `/dataflows/${flow.body.id}/run`, {
      token: s.token,
      headers: { 'Idempotency-Key': 'k1' },
    });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ trigger: 'api', status: 'queued', dataflowId: flow.body.id });
    const again = await call(s.e, 'POST', `/dataflows/${flow.body.id}/run`, {
      token: s.token,
      headers: { 'Idempotency-Key': 'k1' },
    });
    expect(again.status).toBe(409);
    const second = await call(s.e, 'POST', `/dataflows/${flow.body.id}/run`, {
      token: s.token,
      headers: { 'Idempotency-Key': 'k2' },
    });
    expect(second.status).toBe(202);
    // Without a key, "export now" while one is still waiting to start is that run (no new one).
    const click = await call(s.e, 'POST', `/dataflows/${flow.body.id}/run`, { token: s.token });
    expect(click.status).toBe(202);
    expect([first.body.id, second.body.id]).toContain(click.body.id);
    expect(s.e.EXPORTS.sent.map((m) => m.runId)).toEqual([first.body.id, second.body.id]);
    const list = await call(s.e, 'GET', `/runs?dataflowId=${flow.body.id}&limit=1`, { token: s.token });
    expect(list.body.items).toHaveLength(1);
    const next = await call(
      s.e,
      'GET',
      `/runs?dataflowId=${flow.body.id}&limit=1&cursor=${encodeURIComponent(list.body.cursor)}`,
      { token: s.token },
    );
    expect([list.body.items[0].id, next.body.items[0].id].sort()).toEqual(
      [first.body.id, second.body.id].sort(),
    );
    expect(next.body.cursor).toBeUndefined();
  });
});
