/**
 * A sharded organization's dataset records on workerd (docs/SCALE.md, "Dataset records"): real D1, the
 * ProfileShard Durable Objects of the SHARDS binding, moto with auth enforced as the destination. Two
 * organizations are fed the same records through POST /v1/datasets/{id}/records — one keeps them in D1,
 * one in 4 shards (each record in the shard owning its bucket, computed here independently). The
 * sharded dataset export fans out one task per shard key range after the watermark; its files hold
 * exactly the single-database export's rows in the same order, full then incremental. Resharding moves
 * the records with the profiles (2 → 4 shards, and the single-database layout → 4).
 */
import { describe, expect, inject, it } from 'vitest';
import { invocationBudget } from '../../src/worker/budget.ts';
import { consumeBatch } from '../../src/worker/consumer.ts';
import type { Env, RunMessage } from '../../src/worker/env.ts';
import { abandonRun, executeRun } from '../../src/worker/execute.ts';
import { runTask } from '../../src/worker/fanout.ts';
import { consumeReshard } from '../../src/worker/reshard.ts';
import { initialLayout, type ShardOwner, type ShardRecord, shardNamespace } from '../../src/worker/shards/types.ts';
import { setShardLayout } from '../../src/worker/store/shards.ts';
import { listTasks } from '../../src/worker/store/tasks.ts';
import { fnvOwner } from '../support/fnv-bucket.ts';
import { call, drainQueue, newOrg, type PendingMessages, platformOf, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');
const ADMIN = 'test-admin-token-0123456789';

interface Item {
  id: string;
  at: string;
  sku: string;
  qty: number;
}
/** 500 records over 6 update times (many ties, broken by id in the export order). */
const FIRST: Item[] = Array.from({ length: 500 }, (_, i) => ({
  id: `r${String((i * 7919) % 1000).padStart(4, '0')}-${i}`,
  at: new Date(Date.UTC(2026, 10, 1, 0, i % 6)).toISOString(),
  sku: `sku-${i % 37}`,
  qty: i,
}));
/** Every 5th record updated later (new values), and 40 new records, some at the same later times. */
const SECOND: Item[] = [
  ...FIRST.filter((_, i) => i % 5 === 0).map((r, k) => ({ ...r, at: new Date(Date.UTC(2026, 10, 2, 0, k % 3)).toISOString(), qty: 10_000 + k })),
  ...Array.from({ length: 40 }, (_, i) => ({ id: `n${String(i).padStart(3, '0')}`, at: new Date(Date.UTC(2026, 10, 2, 0, i % 4)).toISOString(), sku: 'new', qty: -(i + 1) })),
];
const ndjson = (items: readonly Item[]) => items.map((r) => JSON.stringify({ id: r.id, updatedAt: r.at, values: { sku: r.sku, qty: r.qty } })).join('\n');
const schema = [
  { name: 'sku', type: 'string', nullable: false },
  { name: 'qty', type: 'integer' },
];

/** Every record a shard's Durable Object holds of the dataset, whatever its bucket. */
async function held(e: Env, orgId: string, shard: string, datasetId = 'orders'): Promise<ShardRecord[]> {
  return await shardNamespace(e.SHARDS)!.shard(orgId, shard).records(orgId, datasetId, { from: 0, to: 4096 }, { after: null, through: null }, 10_000);
}

async function d1Records(e: Env, orgId: string): Promise<number> {
  return (await e.DB.prepare('SELECT COUNT(*) AS n FROM dataset_records WHERE org_id = ?').bind(orgId).first<{ n: number }>())!.n;
}

/** An organization with the `orders` dataset exported incrementally to moto; its runs delivered one invocation a message. */
async function scenario(e: ReturnType<typeof testEnv>, label: string, org: { id: string; token: string }) {
  const api = (method: string, path: string, body?: unknown, raw?: string) =>
    call(e, method, path, { token: org.token, ...(raw !== undefined ? { raw, headers: { 'Content-Type': 'application/x-ndjson' } } : { body }) });
  expect((await api('POST', '/datasets', { id: 'orders', name: 'Orders', schema })).status).toBe(201);
  const dest = await api('POST', '/destinations', motoDestinationBody('', { folderPath: `${moto.folder}shard-datasets/${label}`, manifest: true }));
  const flow = await api('POST', '/dataflows', { name: label, destinationId: dest.body.id, datasetId: 'orders', exportMode: 'incremental' });
  expect(flow.status, flow.text).toBe(201);
  const pending: PendingMessages = [];
  let n = 0;
  /**
   * One message as an invocation delivers it, with its own budget: a resharding's step the env's
   * (a test may make it small, for many steps), an export's Cloudflare's 1,000 queries.
   */
  const deliver = async (body: RunMessage, attempts: number) => {
    const budget = invocationBudget(body.reshard !== undefined ? e : { ...e, D1_QUERIES_PER_INVOCATION: '1000' });
    await consumeBatch(
      { queue: 'edge-export-runs', messages: [{ id: `m${++n}`, body, attempts, ack: () => {}, retry: () => pending.push({ body, attempts: attempts + 1 }) }] },
      budget.env,
      {
        executeRun: (env, run) => executeRun(env, run, platformOf(env), { pause: (owed) => budget.low(owed) }),
        runTask: (env, task) => runTask(env, task, undefined),
        finishing: budget.finishing,
        abandonRun: (env, run) => abandonRun(env, run, platformOf(env)),
        reshard: (message, env) => consumeReshard(message, env, { shards: shardNamespace(env.SHARDS), pause: (owed) => budget.low(owed) }),
      },
    );
  };
  const drain = () => drainQueue(e.EXPORTS, pending, deliver);
  /** Delivers the next message alone; false when none is waiting. */
  const step = async () => {
    pending.push(...e.EXPORTS.sent.splice(0).map((body) => ({ body, attempts: 1 })));
    const next = pending.shift();
    if (next) await deliver(next.body, next.attempts);
    return next !== undefined;
  };
  const s3 = motoAdmin();
  /** Runs the dataflow to its end: its detail, and every data file's rows in file order (each file's order kept). */
  const run = async () => {
    const id = (await api('POST', `/dataflows/${flow.body.id}/run`)).body.id as string;
    await drain();
    const detail = (await api('GET', `/runs/${id}`)).body;
    expect(detail.status, JSON.stringify(detail.error)).toBe('succeeded');
    const data = (detail.files as { key: string }[]).filter((f) => !f.key.includes('manifest-'));
    const files = await Promise.all(data.map(async (f) => (await s3.get(f.key)).text.split(/\r?\n/).filter(Boolean)));
    return { id, detail, files };
  };
  const ingest = async (items: readonly Item[]) => {
    const r = await api('POST', '/datasets/orders/records', undefined, ndjson(items));
    expect(r.status, r.text).toBe(200);
  };
  return { api, run, ingest, step };
}

/** `items` ingested in order: the newest version of each id. */
function newest(...batches: (readonly Item[])[]): Map<string, Item> {
  const latest = new Map<string, Item>();
  for (const batch of batches) for (const r of batch) latest.set(r.id, r);
  return latest;
}

/** Every record in exactly the shard owning its bucket (computed here), at its newest version; D1 holds none. */
async function expectPlaced(e: Env, orgId: string, owners: readonly ShardOwner[], latest: Map<string, Item>) {
  for (const owner of owners) {
    const rows = await held(e, orgId, owner.name);
    const expected = [...latest.values()].filter((r) => fnvOwner(owners, r.id) === owner.name);
    expect(rows.map((r) => r.id).sort(), `shard ${owner.name}`).toEqual(expected.map((r) => r.id).sort());
    for (const row of rows) expect([row.updatedAt, JSON.parse(row.json).qty], row.id).toEqual([latest.get(row.id)!.at, latest.get(row.id)!.qty]);
  }
  expect(await d1Records(e, orgId)).toBe(0);
}

describe("a sharded organization's dataset records", () => {
  it('land in their bucket’s shard and export exactly the single-database rows and order, full then incremental, one task per shard key range', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', EXPORT_SHARD_TASK_ROWS: '60', EXPORT_PROFILE_PAGE: '25' });
    const orgs = { single: await newOrg(e, 'Single'), sharded: await newOrg(e, 'Sharded') };
    const layout = initialLayout(4);
    await setShardLayout(e.DB, orgs.sharded.id, layout, new Date());
    const single = await scenario(e, 'single', orgs.single);
    const sharded = await scenario(e, 'sharded', orgs.sharded);
    for (const s of [single, sharded]) await s.ingest(FIRST);
    await expectPlaced(e, orgs.sharded.id, layout.shards, newest(FIRST));
    expect(await d1Records(e, orgs.single.id)).toBe(FIRST.length);

    const full = { single: await single.run(), sharded: await sharded.run() };
    expect(full.sharded.files).toEqual(full.single.files);
    const rows = full.sharded.files.flatMap((f) => f.slice(1));
    expect(rows).toHaveLength(FIRST.length);
    // The export order is (updatedAt, id), across shards.
    const byKey = (a: Item, b: Item) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1);
    expect(rows).toEqual([...FIRST].sort(byKey).map((r) => `${r.sku},${r.qty}`));
    expect(full.sharded.detail.rows).toBe(full.single.detail.rows);
    // ~125 records a shard (counted here by bucket), 60 a task: ⌈count / 60⌉ key ranges each; every
    // record read once, one RPC a page of 25 (+ a closing page).
    const tasks = await listTasks(e.DB, full.sharded.id);
    const perShard = layout.shards.map((o) => FIRST.filter((r) => fnvOwner(layout.shards, r.id) === o.name).length);
    const expectedTasks = perShard.reduce((n, count) => n + Math.ceil(count / 60), 0);
    expect(expectedTasks).toBeGreaterThanOrEqual(8);
    expect(tasks).toHaveLength(expectedTasks);
    const units = tasks.map((t) => JSON.parse(t.unit));
    expect(new Set(units.map((u) => u.shard))).toEqual(new Set(['s0', 's1', 's2', 's3']));
    expect(units.every((u) => u.kind === 'shard' && u.datasetId === 'orders' && u.generation === 1)).toBe(true);
    expect(units.filter((u) => u.range.after === null)).toHaveLength(4);
    expect(full.sharded.detail.fanout).toMatchObject({ tasks: expectedTasks, done: expectedTasks, attempts: expectedTasks, rowsRead: FIRST.length });
    expect(full.sharded.detail.fanout.requests).toBeGreaterThanOrEqual(Math.ceil(FIRST.length / 25));
    expect(full.single.detail.fanout).toBeUndefined();

    for (const s of [single, sharded]) await s.ingest(SECOND);
    await expectPlaced(e, orgs.sharded.id, layout.shards, newest(FIRST, SECOND));
    const incremental = { single: await single.run(), sharded: await sharded.run() };
    expect(incremental.sharded.files).toEqual(incremental.single.files);
    expect(incremental.sharded.files.flatMap((f) => f.slice(1))).toEqual([...SECOND].sort(byKey).map((r) => `${r.sku},${r.qty}`));
    // Planned after the watermark: the tasks read only the records written since the last run.
    expect(incremental.sharded.detail.fanout).toMatchObject({ rowsRead: SECOND.length });
    const after = (await listTasks(e.DB, incremental.sharded.id)).map((t) => JSON.parse(t.unit).range.after);
    const watermark = [...FIRST].sort(byKey).at(-1)!;
    expect(after).toContainEqual({ updatedAt: watermark.at, id: watermark.id });

    // Nothing new: an empty incremental export on both.
    const none = { single: await single.run(), sharded: await sharded.run() };
    expect(none.sharded.files).toEqual(none.single.files);
    // No record after the watermark in any shard: no task, the reduce ran at once.
    expect(await listTasks(e.DB, none.sharded.id)).toEqual([]);
    expect(none.sharded.files.flatMap((f) => f.slice(1))).toEqual([]);
    expect((await e.DB.prepare('SELECT COUNT(*) AS n FROM export_spill').first<{ n: number }>())!.n).toBe(0);
  });

  it('refuses a batch with a record over the value limit (413) before any of it reaches a shard', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', D1_MAX_VALUE_BYTES: '2000' } as Partial<Env>);
    const org = await newOrg(e, 'Big');
    await setShardLayout(e.DB, org.id, initialLayout(2), new Date());
    const s = await scenario(e, 'big', org);
    const big = { id: 'big', at: FIRST[0]!.at, sku: 'x'.repeat(3000), qty: 1 };
    const r = await s.api('POST', '/datasets/orders/records', undefined, ndjson([FIRST[0]!, big]));
    expect(r.status, r.text).toBe(413);
    for (const shard of ['s0', 's1']) expect(await held(e, org.id, shard)).toEqual([]);
  });

  it('an organization whose only data is dataset records grows by resharding (its records are moved), not by a new layout', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', RESHARD_SETTLE_SECONDS: '0' });
    for (const from of [2, undefined]) {
      const created = await call(e, 'POST', '/admin/organizations', { token: ADMIN, body: { name: `records-only-${from}`, ...(from && { shards: from }) } });
      const org = { id: created.body.id as string, token: created.body.token as string };
      const s = await scenario(e, `records-only-${from ?? 'd1'}`, org);
      await s.ingest(FIRST.slice(0, 20));
      const grow = await call(e, 'PUT', `/admin/organizations/${org.id}/shards`, { token: ADMIN, body: { shards: 4 } });
      expect(grow.status, grow.text).toBe(200);
      expect(grow.body.resharding, String(from)).toMatchObject({ state: 'copying', shards: 4 });
      while (await s.step());
      const layout = (await call(e, 'GET', `/admin/organizations/${org.id}/shards`, { token: ADMIN })).body.layout;
      await expectPlaced(e, org.id, layout.shards, newest(FIRST.slice(0, 20)));
    }
  });

  for (const from of [2, undefined] as const) {
    it(`resharding ${from ? `${from} → 4 shards` : 'the single-database layout → 4 shards'} moves the records with the profiles, at their newest version, and the export after equals the one before`, async () => {
      // Pages of 10 and 15 queries an invocation: the copy takes many steps, with ingest between them.
      const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', RESHARD_PAGE: '10', RESHARD_SETTLE_SECONDS: '0', D1_QUERIES_PER_INVOCATION: '15' });
      const created = await call(e, 'POST', '/admin/organizations', { token: ADMIN, body: { name: `grow-${from}`, ...(from && { shards: from }) } });
      expect(created.status, created.text).toBe(201);
      const org = { id: created.body.id as string, token: created.body.token as string };
      const s = await scenario(e, `grow-${from ?? 'd1'}`, org);
      const items = FIRST.slice(0, 200);
      await s.ingest(items);
      // A profile too: a move copies its profiles, then its records.
      expect((await s.api('POST', '/profiles', undefined, JSON.stringify({ id: 'p1', attributes: { tier: 'gold' } }))).status).toBe(200);
      const before = await s.run();
      const grow = await call(e, 'PUT', `/admin/organizations/${org.id}/shards`, { token: ADMIN, body: { shards: 4 } });
      expect(grow.status, grow.text).toBe(200);
      // Deliver step by step; while copying, newer versions of some records and new ones are ingested (dual-written).
      const later: Item[] = [];
      let steps = 0;
      const states = new Set<string>();
      while (await s.step()) {
        steps++;
        const state = (await call(e, 'GET', `/admin/organizations/${org.id}/shards`, { token: ADMIN })).body.resharding.state;
        states.add(state);
        if (state === 'copying' || state === 'cleanup') {
          const batch = [
            ...items.slice(steps * 7, steps * 7 + 7).map((r) => ({ ...r, at: new Date(Date.UTC(2026, 10, 3, steps)).toISOString(), qty: 20_000 + steps })),
            { id: `g${steps}`, at: new Date(Date.UTC(2026, 10, 3, steps)).toISOString(), sku: 'grow', qty: steps },
          ];
          await s.ingest(batch);
          later.push(...batch);
        }
        expect(steps).toBeLessThan(500);
      }
      expect(states).toEqual(new Set(['copying', 'cleanup', 'idle']));
      expect(later.length).toBeGreaterThan(16);
      const layout = (await call(e, 'GET', `/admin/organizations/${org.id}/shards`, { token: ADMIN })).body.layout;
      expect(layout.shards).toHaveLength(4);
      await expectPlaced(e, org.id, layout.shards, newest(items, later));
      const after = await s.run();
      // Incremental after the growth: exactly what was written since the export before it, newest versions, by (updatedAt, id).
      const since = [...newest(later).values()].sort((a, b) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1));
      expect(before.files.flatMap((f) => f.slice(1))).toHaveLength(items.length);
      expect(after.files.flatMap((f) => f.slice(1))).toEqual(since.map((r) => `${r.sku},${r.qty}`));
      expect(after.detail.fanout).toMatchObject({ rowsRead: since.length });
    });
  }
});
