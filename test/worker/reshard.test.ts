/**
 * Resharding on workerd (docs/SCALE.md "Resharding"): an organization grown from 2 to 4 shards, and
 * from the single-database layout to 4 shards, through the admin API, the job's messages delivered one
 * invocation at a time with the real budget, the real ProfileShard Durable Objects and the real D1,
 * while profiles keep being ingested between steps. Afterwards every shard holds exactly the profiles
 * its buckets own (bucket computed here independently of the code under test), at their newest
 * version, and the old owners (shards or D1) hold nothing that moved.
 */
import { describe, expect, inject, it } from 'vitest';
import { invocationBudget } from '../../src/worker/budget.ts';
import { consumeBatch } from '../../src/worker/consumer.ts';
import type { Env, RunMessage } from '../../src/worker/env.ts';
import { abandonRun, executeRun } from '../../src/worker/execute.ts';
import { runTask } from '../../src/worker/fanout.ts';
import { consumeReshard } from '../../src/worker/reshard.ts';
import { type ShardNamespace, type ShardOwner, type ShardProfile, shardNamespace } from '../../src/worker/shards/types.ts';
import { tick } from '../../src/worker/scheduler.ts';
import { claimRun, failRun } from '../../src/worker/store/runs.ts';
import { listTasks } from '../../src/worker/store/tasks.ts';
import { fnvBucket, fnvOwner } from '../support/fnv-bucket.ts';
import { call, destinationBody, platformOf, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const ADMIN = 'test-admin-token-0123456789';

const bucket = fnvBucket;
const ownerName = fnvOwner;

/** Ids `prefix00000…` from `from` to `to` (excluded). */
const idsOf = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, k) => `${prefix}${String(from + k).padStart(5, '0')}`);

/** NDJSON of these profiles with a version attribute (a later ingest of the same id is a newer version). */
const ndjsonOf = (ids: readonly string[], version: number) =>
  ids.map((id) => JSON.stringify({ id, attributes: { version, tier: version % 2 ? 'gold' : 'silver' } })).join('\n');

/** Every row a shard's Durable Object holds for the organization, whatever bucket. */
async function held(shards: ShardNamespace, orgId: string, name: string): Promise<ShardProfile[]> {
  const rows: ShardProfile[] = [];
  for (;;) {
    const page = await shards.shard(orgId, name).profiles(orgId, { from: 0, to: 4096 }, { after: rows.at(-1)?.id ?? null, through: null }, 500);
    rows.push(...page.map((p) => ({ id: p.id, json: p.json, updatedAt: p.updatedAt })));
    if (page.length < 500) return rows;
  }
}

async function scenario(name: string, shards: number | undefined, overrides: Partial<Env> = {}) {
  // A tiny budget (15 D1 queries an invocation) and pages of 10: the copy takes many invocations.
  const e = testEnv({ RESHARD_PAGE: '10', RESHARD_SETTLE_SECONDS: '0', D1_QUERIES_PER_INVOCATION: '15', ...overrides });
  const created = await call(e, 'POST', '/admin/organizations', { token: ADMIN, body: { name, ...(shards !== undefined && { shards }) } });
  expect(created.status, created.text).toBe(201);
  const org = { id: created.body.id as string, token: created.body.token as string };
  const namespace = shardNamespace(e.SHARDS)!;
  /** The newest version ingested of every id. */
  const latest = new Map<string, number>();
  const ingestIds = async (ids: readonly string[], version: number) => {
    const r = await call(e, 'POST', '/profiles', { token: org.token, raw: ndjsonOf(ids, version), headers: { 'Content-Type': 'application/x-ndjson' } });
    expect(r.status, r.text).toBe(200);
    for (const id of ids) latest.set(id, version);
  };
  const ingest = (prefix: string, from: number, to: number, version: number) => ingestIds(idsOf(prefix, from, to), version);
  /** Runs once, between a copy's read of a page and its write to the new owner (a concurrent ingest). */
  let beforeCopy: ((profiles: readonly ShardProfile[]) => Promise<void>) | undefined;
  const race = async (profiles: readonly ShardProfile[]) => {
    const f = beforeCopy;
    beforeCopy = undefined;
    await f?.(profiles);
  };
  const admin = (method: string, body?: unknown) => call(e, method, `/admin/organizations/${org.id}/shards`, { token: ADMIN, ...(body !== undefined && { body }) });
  let failures = 0;
  /** The invocation's shards (each call counted in its budget), failing `insertMissingProfiles` while `failures` > 0 (a dropped RPC). */
  const flaky = (shards: ShardNamespace): ShardNamespace => ({
    shard: (orgId, shardName) => {
      const store = shards.shard(orgId, shardName);
      return {
        // Only the copy writes through this namespace (ingest goes through the API).
        upsertProfiles: async (o, p) => {
          await race(p);
          return store.upsertProfiles(o, p);
        },
        insertMissingProfiles: async (o, p) => {
          await race(p);
          if (failures > 0) {
            failures--;
            throw new Error('simulated: the shard RPC was dropped');
          }
          return store.insertMissingProfiles(o, p);
        },
        profiles: (o, b, r, l) => store.profiles(o, b, r, l),
        split: (o, b, n) => store.split(o, b, n),
        deleteBuckets: (o, b, l) => store.deleteBuckets(o, b, l),
      };
    },
  });
  const pending: { body: RunMessage; attempts: number }[] = [];
  let invocations = 0;
  let mostQueries = 0;
  let retries = 0;
  /** Delivers one message as an invocation would, with its own budget; a retried one comes back with one more attempt. */
  const deliver = async () => {
    pending.push(...e.EXPORTS.sent.splice(0).map((body) => ({ body, attempts: 1 })));
    const next = pending.shift();
    if (!next) return false;
    invocations++;
    const budget = invocationBudget(e);
    const retry = () => {
      retries++;
      pending.push({ body: next.body, attempts: next.attempts + 1 });
    };
    await consumeBatch({ queue: 'edge-export-runs', messages: [{ id: `m${invocations}`, body: next.body, attempts: next.attempts, ack: () => {}, retry }] }, budget.env, {
      // Exports as the Worker's consumer runs them (worker.ts): a sharded organization's fan out over its shards.
      executeRun: (env, run) => executeRun(env, run, platformOf(env), { pause: (owed) => budget.low(owed) }),
      runTask: (env, task) => runTask(env, task, undefined),
      finishing: budget.finishing,
      abandonRun: (env, run) => abandonRun(env, run, platformOf(env)),
      reshard: (message, env) => consumeReshard(message, env, { shards: flaky(shardNamespace(env.SHARDS)!), pause: (owed) => budget.low(owed) }),
    });
    mostQueries = Math.max(mostQueries, budget.queries);
    return true;
  };
  /** Every profile, in exactly its owner under `owners`, at its newest version; no other shard in `names` holds any. */
  const expectPlaced = async (owners: readonly ShardOwner[], names: readonly string[]) => {
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    for (const id of latest.keys()) expected.get(ownerName(owners, id))!.push(id);
    for (const n of names) {
      const rows = await held(namespace, org.id, n);
      expect(rows.map((r) => r.id), `shard ${n}`).toEqual(expected.get(n)!.sort());
      for (const row of rows) expect(JSON.parse(row.json).attributes.version, row.id).toBe(latest.get(row.id));
    }
  };
  return {
    e,
    org,
    ingest,
    admin,
    deliver,
    expectPlaced,
    latest,
    namespace,
    fail: (n: number) => (failures = n),
    ingestIds,
    raceCopy: (f: typeof beforeCopy) => (beforeCopy = f),
    pending,
    stats: () => ({ invocations, mostQueries, retries }),
  };
}

const d1Count = async (e: Env, orgId: string) => (await e.DB.prepare('SELECT COUNT(*) AS n FROM profiles WHERE org_id = ?').bind(orgId).first<{ n: number }>())!.n;

describe('resharding', () => {
  it('grows 2 → 4 shards online: only the moved buckets are copied, newer writes are kept, the old owners are cleaned', async () => {
    const s = await scenario('grow', 2);
    await s.ingest('p', 0, 400, 1);
    const before = (await s.admin('GET')).body;
    expect(before.layout.shards.map((o: ShardOwner) => o.name)).toEqual(['s0', 's1']);
    expect(before.resharding).toEqual({ state: 'idle' });

    const put = await s.admin('PUT', { shards: 4 });
    expect(put.status, put.text).toBe(200);
    expect(put.body.layout.next).toEqual([
      { name: 's0', from: 0, to: 1024 },
      { name: 's2', from: 1024, to: 2048 },
      { name: 's1', from: 2048, to: 3072 },
      { name: 's3', from: 3072, to: 4096 },
    ]);
    expect(put.body.resharding).toMatchObject({ state: 'copying', shards: 4, movedBuckets: 2048, copied: 0 });
    // A second growth while this one runs is refused, naming the field.
    const again = await s.admin('PUT', { shards: 8 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/^shards: the organization is already resharding to 4 shards/), details: { field: 'shards' } });
    // Between the first copy's read and its write, the profiles it carries get a newer version (dual-written):
    // the copy must not overwrite them with what it read.
    let raced: string[] = [];
    s.raceCopy(async (profiles) => {
      raced = profiles.map((p) => p.id);
      await s.ingestIds(raced, 100);
    });

    // Step by step, with ingest between steps: new profiles, and newer versions of old ones.
    let step = 0;
    const states = new Set<string>();
    while (await s.deliver()) {
      step++;
      const state = (await s.admin('GET')).body.resharding.state;
      states.add(state);
      if (state === 'copying' && step <= 6) await s.ingest('p', step * 50, step * 50 + 50, step + 1);
      if (state === 'copying' && step <= 6) await s.ingest('n', step * 20, step * 20 + 20, step + 1);
    }
    expect(states).toEqual(new Set(['copying', 'cleanup', 'idle']));
    expect(raced.length).toBeGreaterThan(0);
    expect(raced.every((id) => s.latest.get(id) === 100)).toBe(true);
    expect(s.stats().invocations).toBeGreaterThan(3);
    // Within each invocation's budget (15 queries and shard RPCs): no step failed for want of one.
    expect(s.stats().mostQueries).toBeLessThanOrEqual(15);
    expect(s.stats().retries).toBe(0);

    const after = (await s.admin('GET')).body;
    expect(after.layout).toEqual({ version: 1, generation: 2, shards: put.body.layout.next });
    expect(after.resharding).toMatchObject({ state: 'idle', shards: 4 });
    // Copied: the moved half of the 400 profiles there at the start, and of those ingested before their page was read.
    const moves = (id: string) => (bucket(id) >= 1024 && bucket(id) < 2048) || bucket(id) >= 3072;
    const moved = [...s.latest.keys()].filter(moves);
    expect(after.resharding.copied).toBeGreaterThanOrEqual(idsOf('p', 0, 400).filter(moves).length);
    expect(after.resharding.copied).toBeLessThanOrEqual(moved.length);
    expect(after.resharding.deleted).toBe(moved.length);
    await s.expectPlaced(after.layout.shards, ['s0', 's1', 's2', 's3']);

    // The grown organization keeps ingesting into its new owners.
    await s.ingest('z', 0, 50, 9);
    await s.expectPlaced(after.layout.shards, ['s0', 's1', 's2', 's3']);
  });

  it('grows the single-database layout to 4 shards: D1 is the source, copied then emptied in pages', async () => {
    const s = await scenario('from-d1', undefined);
    await s.ingest('d', 0, 300, 1);
    expect(await d1Count(s.e, s.org.id)).toBe(300);
    const put = await s.admin('PUT', { shards: 4 });
    expect(put.status, put.text).toBe(200);
    expect(put.body.layout).toBeNull();
    expect(put.body.resharding).toMatchObject({ state: 'copying', from: 'single-database', shards: 4, movedBuckets: 4096 });
    let step = 0;
    while (await s.deliver()) {
      step++;
      const state = (await s.admin('GET')).body.resharding.state;
      // While copying, D1 still serves the organization (and receives its writes, as do the new shards).
      if (state === 'copying' && step <= 8) {
        await s.ingest('d', step * 30, step * 30 + 30, step + 1);
        expect(await d1Count(s.e, s.org.id)).toBe(s.latest.size);
      }
    }
    const after = (await s.admin('GET')).body;
    expect(after.layout.generation).toBe(1);
    expect(after.layout.next).toBeUndefined();
    expect(after.layout.shards.map((o: ShardOwner) => [o.name, o.from, o.to])).toEqual([
      ['s0', 0, 1024],
      ['s1', 1024, 2048],
      ['s2', 2048, 3072],
      ['s3', 3072, 4096],
    ]);
    expect(after.resharding).toMatchObject({ state: 'idle', deleted: s.latest.size });
    // A page from D1 reaches all 4 new owners (6 queries and RPCs): still within each invocation's 15, no step failed.
    expect(s.stats()).toMatchObject({ retries: 0 });
    expect(s.stats().mostQueries).toBeLessThanOrEqual(15);
    expect(s.stats().invocations).toBeGreaterThan(10);
    expect(await d1Count(s.e, s.org.id)).toBe(0);
    await s.expectPlaced(after.layout.shards, ['s0', 's1', 's2', 's3']);
  });

  it('refuses a shard count that does not grow, naming shards', async () => {
    const s = await scenario('refuse', 4);
    await s.ingest('q', 0, 5, 1);
    for (const shards of [4, 2, 257, 'many']) {
      const r = await s.admin('PUT', { shards });
      expect(r.status, String(shards)).toBe(400);
      expect(r.text).toMatch(typeof shards === 'number' && shards <= 4 ? /shards: expected an integer from 5 to 256 \(more than the 4 shards/ : /shards: expected an integer/);
    }
    // Nothing started: the layout is the same, no message sent.
    expect((await s.admin('GET')).body).toMatchObject({ layout: { generation: 1, shards: [{ name: 's0' }, { name: 's1' }, { name: 's2' }, { name: 's3' }] }, resharding: { state: 'idle' } });
    expect(s.e.EXPORTS.sent).toEqual([]);
  });

  it('retries a failed step, and waits to clean up until an export started before the flip is over', async () => {
    const s = await scenario('retry-wait', 2, { D1_QUERIES_PER_INVOCATION: '0' });
    await s.ingest('r', 0, 120, 1);
    // A run of the organization, claimed (started) before the resharding flips.
    const dest = await call(s.e, 'POST', '/destinations', { token: s.org.token, body: destinationBody() });
    const audience = await call(s.e, 'POST', '/audiences', { token: s.org.token, body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' } });
    const flow = await call(s.e, 'POST', '/dataflows', {
      token: s.org.token,
      body: { name: 'f', destinationId: dest.body.id, audienceIds: [audience.body.id], mapping: { fields: [{ source: 'id' }] } },
    });
    expect(flow.status, flow.text).toBe(201);
    const run = await call(s.e, 'POST', `/dataflows/${flow.body.id}/run`, { token: s.org.token });
    s.e.EXPORTS.sent.splice(0);
    expect(await claimRun(s.e.DB, s.org.id, run.body.id, new Date())).toBe(true);

    expect((await s.admin("PUT", { shards: 3 })).status).toBe(200);
    // The first copy's RPC fails: recorded, retried (with one more attempt), then the copy goes on.
    s.fail(1);
    await s.deliver();
    const failed = (await s.admin('GET')).body.resharding;
    expect(failed).toMatchObject({ state: 'copying', copied: 0, error: { message: expect.stringMatching(/simulated/) } });
    expect(s.pending).toHaveLength(1);
    expect(s.pending[0]!.attempts).toBe(2);
    // Without a budget (D1_QUERIES_PER_INVOCATION 0) one invocation copies everything and flips; cleanup waits for the run.
    await s.deliver();
    const waiting = (await s.admin('GET')).body;
    expect(waiting.layout.generation).toBe(2);
    expect(waiting.resharding).toMatchObject({ state: 'cleanup', deleted: 0 });
    expect(waiting.resharding.error).toBeUndefined();
    expect(s.e.EXPORTS.sent).toEqual([{ runId: 'reshard:1', orgId: s.org.id, reshard: 1 }]);
    // The old owner still has its moved rows: the running export may read them.
    const oldRows = await held(s.namespace, s.org.id, 's0');
    expect(oldRows.length).toBeGreaterThan(0);
    await s.deliver();
    expect((await s.admin('GET')).body.resharding).toMatchObject({ state: 'cleanup', deleted: 0 });
    // The run ends: the next look cleans up.
    const claimed = await s.e.DB.prepare('SELECT attempts FROM runs WHERE id = ?').bind(run.body.id).first<{ attempts: number }>();
    expect(await failRun(s.e.DB, run.body.id, { code: 'TEST', message: 'ended by the test' }, new Date(), claimed!.attempts)).toBe(true);
    while (await s.deliver());
    const done = (await s.admin('GET')).body;
    expect(done.resharding).toMatchObject({ state: 'idle' });
    await s.expectPlaced(done.layout.shards, done.layout.shards.map((o: ShardOwner) => o.name));
  });

  it('an export planned before the flip reads its old owners: the cleanup waits for it, and it exports what the export after the growth exports', async () => {
    const s = await scenario('export-across', 2, { D1_QUERIES_PER_INVOCATION: '0', ALLOW_LOOPBACK_ENDPOINTS: 'true', EXPORT_SHARD_TASK_ROWS: '40' });
    await s.ingest('x', 0, 200, 1);
    const folder = `${inject('moto').folder}reshard-export/`;
    const dest = await call(s.e, 'POST', '/destinations', { token: s.org.token, body: motoDestinationBody(folder) });
    const audience = await call(s.e, 'POST', '/audiences', { token: s.org.token, body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' } });
    const flow = await call(s.e, 'POST', '/dataflows', {
      token: s.org.token,
      body: { name: 'f', destinationId: dest.body.id, audienceIds: [audience.body.id], mapping: { fields: [{ source: 'id' }, { source: 'attributes.version', target: 'version' }] } },
    });
    expect(flow.status, flow.text).toBe(201);
    const startRun = async () => (await call(s.e, 'POST', `/dataflows/${flow.body.id}/run`, { token: s.org.token })).body.id as string;
    const rowsOf = async (runId: string) => {
      const run = (await call(s.e, 'GET', `/runs/${runId}`, { token: s.org.token })).body;
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      const rows: string[] = [];
      for (const file of run.files as { key: string }[]) rows.push(...(await motoAdmin().get(file.key)).text.split(/\r?\n/).filter(Boolean).slice(1));
      return rows.sort();
    };
    // The run is planned on generation 1 (2 shards): its tasks wait in the queue.
    const before = await startRun();
    await s.deliver();
    const tasks = await listTasks(s.e.DB, before);
    expect(tasks.length).toBeGreaterThan(2);
    expect(new Set(tasks.map((t) => JSON.parse(t.unit).generation))).toEqual(new Set([1]));

    // The growth copies and flips at once (no budget), then waits: the run's tasks read s0 and s1 as they were.
    expect((await s.admin('PUT', { shards: 4 })).status).toBe(200);
    const queued = s.e.EXPORTS.sent.splice(0);
    s.pending.push(...queued.filter((m) => m.reshard !== undefined).map((body) => ({ body, attempts: 1 })));
    await s.deliver();
    const waiting = (await s.admin('GET')).body;
    expect(waiting.layout.generation).toBe(2);
    expect(waiting.resharding).toMatchObject({ state: 'cleanup', deleted: 0 });
    // The run's task messages go on; the cleanup looks again after them (FIFO), and cleans up once the run is over.
    s.pending.unshift(...queued.filter((m) => m.reshard === undefined).map((body) => ({ body, attempts: 1 })));
    while (await s.deliver());
    expect((await s.admin('GET')).body.resharding).toMatchObject({ state: 'idle' });
    await s.expectPlaced(waiting.layout.shards, ['s0', 's1', 's2', 's3']);

    const expected = [...s.latest].filter(([, version]) => version % 2 === 1).map(([id, version]) => `${id},${version}`).sort();
    expect(await rowsOf(before)).toEqual(expected);
    const after = await startRun();
    while (await s.deliver());
    expect(await rowsOf(after)).toEqual(expected);
  });

  it('a resharding whose message was lost is sent again by the cron, once, after 5 minutes without a step', async () => {
    const s = await scenario('lost', 2);
    await s.ingest('l', 0, 50, 1);
    expect((await s.admin('PUT', { shards: 4 })).status).toBe(200);
    const message = s.e.EXPORTS.sent.splice(0);
    expect(message).toEqual([{ runId: 'reshard:1', orgId: s.org.id, reshard: 1 }]);
    const startedAt = new Date((await s.admin('GET')).body.resharding.startedAt).getTime();
    // Lost. A tick 4 minutes later leaves it; one 6 minutes later sends it again, and the next tick does not.
    await tick(s.e, new Date(startedAt + 4 * 60_000));
    expect(s.e.EXPORTS.sent.filter((m) => m.reshard !== undefined)).toEqual([]);
    await tick(s.e, new Date(startedAt + 6 * 60_000));
    await tick(s.e, new Date(startedAt + 6 * 60_000 + 1000));
    expect(s.e.EXPORTS.sent.filter((m) => m.reshard !== undefined)).toEqual(message);
    while (await s.deliver());
    const done = (await s.admin('GET')).body;
    expect(done.resharding.state).toBe('idle');
    await s.expectPlaced(done.layout.shards, ['s0', 's1', 's2', 's3']);
  });
});
