/**
 * Host faults in workerd against moto (auth enforced): duplicated and overlapping cron ticks, queue
 * redelivery (duplicates in a batch, concurrent deliveries, redelivery after success, a consumer that
 * died holding the lease), tallied as runs created, deliveries, executions, files and duplicates.
 * Plus the fan-out of 1,000 dataflows × 10 audiences due in one tick (one message per dataflow).
 */
import { createScheduledController } from 'cloudflare:test';
import { describe, expect, inject, it } from 'vitest';
import { consumeBatch } from '../../src/worker/consumer.ts';
import type { RunMessage } from '../../src/worker/env.ts';
import { executeRun } from '../../src/worker/execute.ts';
import worker from '../../src/worker/index.ts';
import { claimRun, LEASE_SECONDS } from '../../src/worker/store/runs.ts';
import { recordConsole } from './fuzz-api.ts';
import { call, newOrg, platformOf, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');
const at = (iso: string) => new Date(iso);
const PROFILES = Array.from({ length: 30 }, (_, i) =>
  JSON.stringify({
    id: `p${i}`,
    identities: { email: [`p${i}@x.com`] },
    attributes: { tier: i % 3 ? 'silver' : 'gold' },
  }),
).join('\n');

async function setup(folder: string) {
  const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
  const org = await newOrg(e);
  const api = (method: string, path: string, body?: unknown) =>
    call(e, method, path, { token: org.token, body });
  await call(e, 'POST', '/profiles', {
    token: org.token,
    raw: PROFILES,
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  const dest = await api('POST', '/destinations', motoDestinationBody(folder));
  const aud = await api('POST', '/audiences', {
    kind: 'rule',
    name: 'gold',
    rule: 'attributes.tier = "gold"',
  });
  const flow = await call(e, 'POST', '/dataflows', {
    token: org.token,
    now: () => at('2026-04-01T00:00:00Z'),
    body: {
      name: 'daily',
      destinationId: dest.body.id,
      audienceIds: [aud.body.id],
      mapping: { fields: [{ source: 'id' }] },
      schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' },
    },
  });
  expect(flow.status, flow.text).toBe(201);
  return { e, org, api, flowId: flow.body.id as string };
}

/** Consumer deliveries with the real executeRun, counting deliveries and executions. */
function consumer(e: ReturnType<typeof testEnv>) {
  const tally = { deliveries: 0, executions: 0, acked: 0, retried: 0 };
  const deliver = async (bodies: RunMessage[]) => {
    tally.deliveries += bodies.length;
    const messages = bodies.map((body, i) => ({
      id: `m${i}`,
      body,
      attempts: 1,
      ack: () => void tally.acked++,
      retry: () => void tally.retried++,
    }));
    await consumeBatch({ queue: 'edge-export-runs', messages }, e, {
      executeRun: (env, run) => {
        tally.executions++;
        return executeRun(env, run, platformOf(env));
      },
    });
  };
  return { tally, deliver };
}

describe('host faults: cron ticks and queue redelivery', () => {
  it('duplicated, overlapping and retried ticks plus 5× redelivery export each slot exactly once', async () => {
    const folder = `${moto.folder}host-faults/`;
    const logs = recordConsole();
    const s = await setup(folder);
    const tick = (iso: string) =>
      worker.scheduled(
        createScheduledController({ scheduledTime: at(iso).getTime(), cron: '*/5 * * * *' }),
        s.e,
      );
    // Each group runs concurrently (overlapping ticks); the second group holds a late retry of day 1.
    const groups = [
      [...Array(8).fill('2026-04-01T06:05:00Z'), '2026-04-01T06:10:00Z'],
      [...Array(5).fill('2026-04-02T06:05:00Z'), '2026-04-01T06:05:00Z'],
      Array(3).fill('2026-04-03T06:05:00Z'),
    ] as string[][];
    for (const group of groups) await Promise.all(group.map(tick));
    const ticks = groups.flat();
    const sent = s.e.EXPORTS.sent.filter((m) => m.orgId === s.org.id);
    const runIds = [...new Set(sent.map((m) => m.runId))];
    expect(runIds).toHaveLength(3);

    const { tally, deliver } = consumer(s.e);
    const REDELIVER = 5;
    // Duplicates in one batch, concurrent batches, then redelivery after success.
    await deliver(
      runIds.flatMap((m) => [
        { runId: m, orgId: s.org.id },
        { runId: m, orgId: s.org.id },
      ]),
    );
    await Promise.all(runIds.map((runId) => deliver([{ runId, orgId: s.org.id }])));
    for (let i = 2; i < REDELIVER - 1; i++) await deliver(sent);
    expect(tally.executions).toBe(3);

    // A consumer that died holding a lease: a redelivery during the lease is a no-op, after it runs.
    const manual = await s.api('POST', `/dataflows/${s.flowId}/run`);
    const crashed = { runId: manual.body.id as string, orgId: s.org.id };
    expect(await claimRun(s.e.DB, s.org.id, crashed.runId, new Date())).toBe(true); // …then "crashes"
    await deliver([crashed]);
    expect(tally.executions).toBe(3);
    await claimRun(s.e.DB, s.org.id, crashed.runId, new Date(Date.now() + 1)); // still held: no-op
    const expired = new Date(Date.now() - 2 * LEASE_SECONDS * 1000);
    await s.e.DB.prepare('UPDATE runs SET lease_until = ? WHERE id = ?')
      .bind(expired.toISOString(), crashed.runId)
      .run();
    await deliver([crashed, crashed]);
    expect(tally.executions).toBe(4);

    const runs = (await s.api('GET', `/runs?dataflowId=${s.flowId}`)).body.items as {
      status: string;
      files: { key: string }[];
    }[];
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const reported = runs.flatMap((r) => r.files.map((f) => f.key));
    const s3 = motoAdmin();
    const keys = await s3.list(folder);
    const duplicated = keys.length - new Set(reported).size + (reported.length - new Set(reported).size);
    const open = (await s3.uploads(folder)).length;
    expect(keys.sort()).toEqual([...new Set(reported)].sort());
    expect({ duplicated, open }).toEqual({ duplicated: 0, open: 0 });
    logs.restore();
    const leaked = logs.lines.filter(
      (l) => l.includes(moto.writer.secretAccessKey) || l.includes(s.org.token),
    );
    expect(leaked).toEqual([]);
    console.log(
      `RELIABILITY | worker host faults | ticks ${ticks.length} (overlapping), runs created ${runIds.length + 1}, ` +
        `messages sent ${sent.length}, deliveries ${tally.deliveries}, executions ${tally.executions}, ` +
        `acked ${tally.acked}, retried ${tally.retried}, files ${keys.length}, duplicated ${duplicated}, open uploads ${open}, console lines ${logs.lines.length} (0 with a secret)`,
    );
  });
});

describe('fan-out', () => {
  it('1,000 dataflows × 10 audiences due in one tick: 1,000 messages, none lost, none twice', async () => {
    const s = await setup(`${moto.folder}fanout/`);
    const audiences: string[] = [];
    for (let i = 0; i < 10; i++)
      audiences.push(
        (await s.api('POST', '/audiences', { kind: 'rule', name: `a${i}`, rule: 'attributes.tier = "gold"' }))
          .body.id,
      );
    await s.e.DB.prepare('UPDATE dataflows SET audience_ids = ? WHERE id = ?')
      .bind(JSON.stringify(audiences), s.flowId)
      .run();
    const cols = Object.keys(
      (await s.e.DB.prepare('SELECT * FROM dataflows WHERE id = ?').bind(s.flowId).first())!,
    );
    const select = cols
      .map((c) => (c === 'id' ? "'fan-' || i" : c === 'name' ? "'fan ' || i" : c))
      .join(', ');
    await s.e.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
       INSERT INTO dataflows (${cols.join(', ')}) SELECT ${select} FROM n, dataflows WHERE dataflows.id = ?`,
    )
      .bind(s.flowId)
      .run();
    const flows = await s.e.DB.prepare('SELECT COUNT(*) AS n FROM dataflows WHERE org_id = ?')
      .bind(s.org.id)
      .first<{ n: number }>();
    expect(flows!.n).toBe(1000);
    const started = Date.now();
    const controller = createScheduledController({
      scheduledTime: at('2026-04-01T06:05:00Z').getTime(),
      cron: '*/5 * * * *',
    });
    await Promise.all([worker.scheduled(controller, s.e), worker.scheduled(controller, s.e)]);
    const ms = Date.now() - started;
    const mine = s.e.EXPORTS.sent.filter((m) => m.orgId === s.org.id);
    const runs = await s.e.DB.prepare(
      "SELECT dataflow_id FROM runs WHERE org_id = ? AND trigger = 'schedule'",
    )
      .bind(s.org.id)
      .all<{ dataflow_id: string }>();
    expect(mine).toHaveLength(1000);
    expect(new Set(mine.map((m) => m.runId)).size).toBe(1000);
    expect(new Set(runs.results.map((r) => r.dataflow_id)).size).toBe(1000);
    expect(runs.results).toHaveLength(1000);
    // Drain: every message delivered twice (the second delivery is a redelivery), stub export.
    const drained = { executions: 0 };
    const drainStart = Date.now();
    for (const round of [mine, mine])
      for (let i = 0; i < round.length; i += 10) {
        const messages = round
          .slice(i, i + 10)
          .map((body, j) => ({ id: `f${i + j}`, body, attempts: 1, ack() {}, retry() {} }));
        await consumeBatch({ queue: 'edge-export-runs', messages }, s.e, {
          executeRun: async () => {
            drained.executions++;
            return { rows: 0, skipped: {}, bytes: 0, files: [] };
          },
        });
      }
    const drainMs = Date.now() - drainStart;
    expect(drained.executions).toBe(1000);
    const done = await s.e.DB.prepare(
      "SELECT COUNT(*) AS n FROM runs WHERE org_id = ? AND status = 'succeeded'",
    )
      .bind(s.org.id)
      .first<{ n: number }>();
    expect(done!.n).toBe(1000);
    console.log(
      `RELIABILITY | worker fan-out drain | 2000 deliveries (each message twice), executions ${drained.executions}, succeeded ${done!.n}, drain time ${drainMs} ms (stub export, no S3)`,
    );
    console.log(
      `RELIABILITY | worker fan-out | 1000 dataflows x 10 audiences, 2 overlapping ticks: messages ${mine.length}, distinct runs ${new Set(mine.map((m) => m.runId)).size}, tick time ${ms} ms`,
    );
  });
});
