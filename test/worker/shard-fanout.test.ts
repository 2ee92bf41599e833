/**
 * A sharded organization's export on workerd (docs/SCALE.md, "Fan-out exports"): real D1, the
 * ProfileShard Durable Objects of the SHARDS binding (profiles ingested through POST /v1/profiles, which
 * routes them to their shards), moto with auth enforced as the destination. A run of its audiences is
 * planned into one task per shard key range, mapped one message per task, and reduced through the
 * export service; its rows equal the same dataflow's over the same profiles in a single-database
 * organization (full with dedup, then incremental; rule and upload audiences).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { consumeBatch } from '../../src/worker/consumer.ts';
import type { Env, RunMessage } from '../../src/worker/env.ts';
import { abandonRun, executeRun } from '../../src/worker/execute.ts';
import { runTask } from '../../src/worker/fanout.ts';
import { invocationBudget } from '../../src/worker/budget.ts';
import { keyRanges, type ShardTaskUnit, withTaskFault } from '../../src/worker/shards/fanout.ts';
import { maxTasks } from '../../src/core/data/fanout.ts';
import {
  bucketOf,
  initialLayout,
  ownerOf,
  type ShardLayout,
  type ShardNamespace,
  type ShardStore,
  shardNamespace,
  wrapShardStore,
} from '../../src/worker/shards/types.ts';
import { setShardLayout } from '../../src/worker/store/shards.ts';
import { listTasks } from '../../src/worker/store/tasks.ts';
import { call, drainQueue, newOrg, type PendingMessages, platformOf, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');

/**
 * The host's real shards (the ProfileShard Durable Objects of the SHARDS binding), their RPCs counted;
 * `failNext`, when set, is what the next page read throws instead of reaching its shard (once).
 */
function countedShards(): ShardNamespace & { rpcs: number; failNext?: unknown } {
  const real = shardNamespace(env.SHARDS)!;
  const ns: ShardNamespace & { rpcs: number; failNext?: unknown } = {
    rpcs: 0,
    shard(orgId: string, name: string): ShardStore {
      const stub = real.shard(orgId, name);
      const rpc = <T>(call: () => Promise<T>) => {
        ns.rpcs++;
        return (async () => await call())();
      };
      return {
        ...wrapShardStore(
          () => stub,
          (_, call) => rpc(call),
        ),
        profiles: (...args) => {
          const failure = ns.failNext;
          if (failure === undefined) return rpc(() => stub.profiles(...args));
          ns.failNext = undefined;
          return Promise.reject(failure);
        },
      };
    },
  };
  return ns;
}

interface Person {
  id: string;
  tier: string;
  score: number;
  email: string;
  household: string;
}
/** 600 people: every 3rd silver, every 7th shares an email with the one before (dedup by identity), 40 households. */
const FIRST: Person[] = Array.from({ length: 600 }, (_, i) => ({
  id: `p${String(i).padStart(4, '0')}`,
  tier: i % 3 === 0 ? 'silver' : 'gold',
  score: i % 11,
  email: `u${i % 7 === 0 && i > 0 ? i - 1 : i}@example.com`,
  household: `h${i % 40}`,
}));
/** Some leave gold (exited), some are rescored (changed), some join gold, 30 are new (joined). */
const SECOND: Person[] = [
  ...FIRST.map((p, i) =>
    i % 10 === 1
      ? { ...p, tier: 'silver' }
      : i % 10 === 2
        ? { ...p, score: 100 + i }
        : i % 10 === 3
          ? { ...p, tier: 'gold' }
          : p,
  ),
  ...Array.from({ length: 30 }, (_, i) => ({
    id: `q${String(i).padStart(3, '0')}`,
    tier: 'gold',
    score: i,
    email: `q${i}@example.com`,
    household: `h${i}`,
  })),
];
const ndjson = (people: readonly Person[]) =>
  people
    .map((p) =>
      JSON.stringify({
        id: p.id,
        identities: { email: [p.email] },
        attributes: { tier: p.tier, score: p.score, household: p.household },
      }),
    )
    .join('\n');
/** An upload audience's members: every 5th person's email. */
const MEMBERS = `namespace,value\n${FIRST.filter((_, i) => i % 5 === 0)
  .map((p) => `email,${p.email}`)
  .join('\n')}\n`;

type Scenario = Awaited<ReturnType<typeof scenario>>;

/** Starts the sharded organization's household run and delivers only its message: the plan, its tasks and their units. */
async function planHousehold(s: Scenario) {
  const runId = (await s.api('sharded')('POST', `/dataflows/${s.flows.sharded.household}/run`)).body
    .id as string;
  await s.deliver(s.e.EXPORTS.sent.shift()!);
  const tasks = await listTasks(s.e.DB, runId);
  return { runId, tasks, units: tasks.map((t) => JSON.parse(t.unit) as ShardTaskUnit) };
}

/** Runs the planned household run to its end: succeeded over `tasks` tasks reading `profiles`, with the single-database run's rows. */
async function finishHousehold(s: Scenario, runId: string, tasks: number, profiles: number) {
  await s.drain();
  const detail = (await s.api('sharded')('GET', `/runs/${runId}`)).body;
  expect(detail.status, JSON.stringify(detail.error)).toBe('succeeded');
  expect(detail.fanout).toMatchObject({ tasks, rowsRead: profiles });
  expect(await s.rowsOf(detail)).toEqual(await s.rowsOf(await s.runOf('single', s.flows.single.household)));
}

async function scenario(name: string, people: readonly Person[], overrides: Partial<Env> = {}) {
  const shards = countedShards();
  const e = testEnv({
    ALLOW_LOOPBACK_ENDPOINTS: 'true',
    EXPORT_SHARD_TASK_ROWS: '70',
    EXPORT_PROFILE_PAGE: '25',
    ...overrides,
    SHARDS: shards,
  } as Partial<Env>);
  const folder = `${moto.folder}shard-fanout-${name}/`;
  const orgs = { sharded: await newOrg(e, 'Sharded'), single: await newOrg(e, 'Single') };
  const setLayout = (layout: ShardLayout) => setShardLayout(e.DB, orgs.sharded.id, layout, new Date());
  await setLayout(initialLayout(4));
  const api =
    (org: keyof typeof orgs) =>
    (method: string, path: string, body?: unknown, raw?: string, type = 'application/x-ndjson') =>
      call(e, method, path, {
        token: orgs[org].token,
        ...(raw !== undefined ? { raw, headers: { 'Content-Type': type } } : { body }),
      });
  // The same profiles into both: D1's profiles table, and the shards owning their buckets.
  const ingest = async (list: readonly Person[]) => {
    for (const org of ['single', 'sharded'] as const)
      expect((await api(org)('POST', '/profiles', undefined, ndjson(list))).status).toBe(200);
  };
  if (people.length > 0) await ingest(people);
  const manifestPuts: string[] = [];
  const counting: typeof fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    if (method === 'PUT' && url.includes('/sharded-') && /manifest-[^/?]*\.json/.test(url))
      manifestPuts.push(url);
    return fetch(input, init);
  };
  /**
   * Four dataflows per organization: rule + upload audiences deduplicated by email (incremental), the
   * rule one by household (full), by household and score (insert-only), and both audiences in diff mode.
   */
  const flowsOf = async (org: keyof typeof orgs) => {
    const call = api(org);
    const rule = await call('POST', '/audiences', {
      kind: 'rule',
      name: 'gold',
      rule: 'attributes.tier = "gold"',
    });
    const upload = await call('POST', '/audiences', { kind: 'upload', name: 'list' });
    expect(
      (await call('POST', `/audiences/${upload.body.id}/members`, undefined, MEMBERS, 'text/csv')).status,
    ).toBe(200);
    const flow = async (label: string, body: Record<string, unknown>) => {
      const dest = await call(
        'POST',
        '/destinations',
        motoDestinationBody(`${folder}${org}-${label}/`, { manifest: true }),
      );
      const created = await call('POST', '/dataflows', { name: label, destinationId: dest.body.id, ...body });
      expect(created.status, created.text).toBe(201);
      return created.body.id as string;
    };
    return {
      email: await flow('email', {
        audienceIds: [rule.body.id, upload.body.id],
        mapping: {
          fields: [
            { source: 'id' },
            { source: 'identities.email', target: 'email' },
            { source: 'attributes.score', target: 'score' },
          ],
          dedup: { identity: 'email' },
        },
        exportMode: 'incremental',
      }),
      household: await flow('household', {
        audienceIds: [rule.body.id],
        mapping: {
          fields: [
            { source: 'attributes.household', target: 'household' },
            { source: 'attributes.score', target: 'score' },
          ],
          dedup: { attributes: ['attributes.household'] },
        },
        exportMode: 'full',
      }),
      inserts: await flow('inserts', {
        audienceIds: [rule.body.id],
        mapping: {
          fields: [
            { source: 'id' },
            { source: 'attributes.household', target: 'household' },
            { source: 'attributes.score', target: 'score' },
          ],
          dedup: { attributes: ['attributes.household', 'attributes.score'] },
        },
        exportMode: 'insert-only',
      }),
      diff: await flow('diff', {
        audienceIds: [rule.body.id, upload.body.id],
        mapping: {
          fields: [
            { source: 'id' },
            { source: 'identities.email', target: 'email' },
            { source: 'attributes.score', target: 'score' },
          ],
        },
        exportMode: 'diff',
      }),
    };
  };
  const flows = { sharded: await flowsOf('sharded'), single: await flowsOf('single') };
  const pending: PendingMessages = [];
  let deliveries = 0;
  /** Delivers one message as an invocation would, with its own budget. */
  const deliver = async (body: RunMessage, attempts = 1) => {
    const budget = invocationBudget(e);
    const retry = () => pending.push({ body, attempts: attempts + 1 });
    await consumeBatch(
      {
        queue: 'edge-export-runs',
        messages: [{ id: `m${++deliveries}`, body, attempts, ack: () => {}, retry }],
      },
      budget.env,
      {
        executeRun: (env, run) =>
          executeRun(env, run, platformOf(env, { fetch: counting }), { pause: (owed) => budget.low(owed) }),
        // As the Worker's consumer runs a task (worker.ts): EDGE_EXPORT_TEST_TASK_FAULT may lose a page.
        runTask: (env, task) => runTask(withTaskFault(env, task), task, undefined),
        finishing: budget.finishing,
        abandonRun: (env, run) => abandonRun(env, run, platformOf(env, { fetch: counting })),
      },
    );
  };
  const drain = () => drainQueue(e.EXPORTS, pending, deliver);
  const s3 = motoAdmin();
  /** Runs a dataflow to its end; its run's detail. */
  const runOf = async (org: keyof typeof orgs, flowId: string) => {
    const id = (await api(org)('POST', `/dataflows/${flowId}/run`)).body.id as string;
    await drain();
    const detail = (await api(org)('GET', `/runs/${id}`)).body;
    expect(detail.status, JSON.stringify(detail.error)).toBe('succeeded');
    return detail as {
      id: string;
      rows: number;
      files: { key: string }[];
      fanout?: Record<string, number>;
      skipped: unknown;
    };
  };
  /** A run's data rows (every CSV file but the manifest), sorted. */
  const rowsOf = async (detail: { files: { key: string }[] }) => {
    const rows: string[] = [];
    for (const file of detail.files)
      if (!file.key.includes('manifest-'))
        rows.push(...(await s3.get(file.key)).text.split(/\r?\n/).filter(Boolean).slice(1));
    return rows.sort();
  };
  return {
    e,
    shards,
    orgs,
    api,
    ingest,
    setLayout,
    flows,
    manifestPuts,
    drain,
    deliver,
    runOf,
    rowsOf,
  };
}

describe('fan-out of a sharded organization', () => {
  it('exports the same rows as the single-database organization: full with dedup (identity, attribute), then incremental (joined, changed, exited), rule and upload audiences', async () => {
    const s = await scenario('equal', FIRST);
    const sharded1 = await s.runOf('sharded', s.flows.sharded.email);
    const single1 = await s.runOf('single', s.flows.single.email);
    const rows1 = await s.rowsOf(sharded1);
    expect(rows1).toEqual(await s.rowsOf(single1));
    expect(rows1.length).toBeGreaterThan(300);
    expect(sharded1.rows).toBe(single1.rows);
    expect(sharded1.skipped).toEqual(single1.skipped);
    // 600 profiles over 4 shards, 70 a task: at least 2 ranges a shard; every profile read once.
    const tasks = await listTasks(s.e.DB, sharded1.id);
    expect(tasks.length).toBeGreaterThanOrEqual(8);
    expect(sharded1.fanout).toMatchObject({
      tasks: tasks.length,
      done: tasks.length,
      attempts: tasks.length,
      rowsRead: FIRST.length,
    });
    // One RPC a page of 25, plus the empty page closing a range that ends on a full page.
    expect(sharded1.fanout!.requests).toBeGreaterThanOrEqual(Math.ceil(FIRST.length / 25));
    expect(single1.fanout).toBeUndefined();
    expect(s.manifestPuts).toHaveLength(1);

    const household1 = await s.runOf('sharded', s.flows.sharded.household);
    const singleHousehold1 = await s.runOf('single', s.flows.single.household);
    expect(await s.rowsOf(household1)).toEqual(await s.rowsOf(singleHousehold1));
    expect((await s.rowsOf(household1)).length).toBe(40);

    await s.ingest(SECOND);
    const sharded2 = await s.runOf('sharded', s.flows.sharded.email);
    const single2 = await s.runOf('single', s.flows.single.email);
    const rows2 = await s.rowsOf(sharded2);
    expect(rows2).toEqual(await s.rowsOf(single2));
    const status = (row: string) => row.split(',').at(-1);
    expect(new Set(rows2.map(status))).toEqual(new Set(['realized', 'exited']));
    expect(rows2.some((r) => r.startsWith('q000,'))).toBe(true);
    expect(rows2.some((r) => r.startsWith('p0002,'))).toBe(true);
    expect(sharded2.fanout).toMatchObject({ rowsRead: SECOND.length });
    expect(s.manifestPuts).toHaveLength(3);
  });

  it('plans one task per key range of each shard, keeping its buckets and the layout generation it was planned on; a shard without profiles makes no task', async () => {
    // No profile of shard s2's buckets: it makes no task.
    const layout = initialLayout(4);
    const people = FIRST.filter((p) => ownerOf(layout.shards, bucketOf(p.id)).name !== 's2');
    const s = await scenario('plan', people);
    // Only the run's message: it plans (split on each shard) and sends one message per task.
    const { runId, tasks, units } = await planHousehold(s);
    expect(new Set(units.map((u) => u.shard))).toEqual(new Set(['s0', 's1', 's3']));
    expect(s.e.EXPORTS.sent.map((m) => m.task)).toEqual(tasks.map((t) => t.seq));
    for (const unit of units) {
      const owner = layout.shards.find((o) => o.name === unit.shard)!;
      expect(unit).toMatchObject({
        kind: 'shard',
        buckets: { from: owner.from, to: owner.to },
        generation: 1,
        tasks: units.length,
      });
    }
    // Each shard's ranges follow one another, from the first id to the last, 70 profiles each but the last.
    for (const name of ['s0', 's1', 's3']) {
      const ids = people
        .filter((p) => ownerOf(layout.shards, bucketOf(p.id)).name === name)
        .map((p) => p.id)
        .sort();
      const ranges = units.filter((u) => u.shard === name).map((u) => u.range);
      const cut = ids.filter((_, i) => (i + 1) % 70 === 0);
      expect(ranges).toEqual(keyRanges(ids.length, cut, 70));
      expect(ranges[0]!.after).toBeNull();
      expect(ranges.at(-1)!.through).toBe(ids.length % 70 === 0 ? ids.at(-1) : null);
    }
    // The layout changes while the tasks run (generation 2, 2 shards): they read what they were planned on.
    await s.setLayout({ ...initialLayout(2), generation: 2 });
    await finishHousehold(s, runId, units.length, people.length);
  });

  it('a plan that would make more tasks than one reduce can open is made again with bigger tasks, and exports the same rows', async () => {
    // 600 profiles at 1 a task would be 600 tasks, more than maxTasks() (345): planned again at 2 a task.
    const s = await scenario('fit', FIRST, { EXPORT_SHARD_TASK_ROWS: '1' } as Partial<Env>);
    const { runId, units } = await planHousehold(s);
    expect(FIRST.length).toBeGreaterThan(maxTasks());
    expect(units.length).toBeLessThanOrEqual(maxTasks());
    expect(units.length).toBeGreaterThanOrEqual(FIRST.length / 2);
    await finishHousehold(s, runId, units.length, FIRST.length);
  });

  it('an organization with a layout but no profile has no task: the reduce runs at once', async () => {
    const s = await scenario('empty', []);
    const run = await s.runOf('sharded', s.flows.sharded.email);
    expect(await listTasks(s.e.DB, run.id)).toEqual([]);
    expect(run.rows).toBe(0);
    expect(run.fanout).toBeUndefined();
    expect(s.shards.rpcs).toBe(4);
  });

  it('retries a task failed mid-run (its second page lost, EDGE_EXPORT_TEST_TASK_FAULT) alone: the others keep attempt 1', async () => {
    const s = await scenario('retry', FIRST, { EDGE_EXPORT_TEST_TASK_FAULT: '3' });
    const run = await s.runOf('sharded', s.flows.sharded.email);
    const tasks = await listTasks(s.e.DB, run.id);
    expect(tasks.map((t) => t.attempt)).toEqual(tasks.map((t) => (t.seq === 3 ? 2 : 1)));
    expect(run.fanout).toMatchObject({
      tasks: tasks.length,
      done: tasks.length,
      attempts: tasks.length + 1,
      rowsRead: FIRST.length,
    });
    expect(await s.rowsOf(run)).toEqual(await s.rowsOf(await s.runOf('single', s.flows.single.email)));
    expect(s.manifestPuts).toHaveLength(1);
  });

  it('insert-only (dedup by two attributes) and diff give the single-database rows, full then after a second ingest', async () => {
    const s = await scenario('modes', FIRST);
    for (const mode of ['inserts', 'diff'] as const) {
      const sharded1 = await s.runOf('sharded', s.flows.sharded[mode]);
      const single1 = await s.runOf('single', s.flows.single[mode]);
      expect(sharded1.fanout).toMatchObject({ rowsRead: FIRST.length });
      const rows1 = await s.rowsOf(sharded1);
      expect(rows1, mode).toEqual(await s.rowsOf(single1));
      expect(rows1.length, mode).toBeGreaterThan(100);
      expect(sharded1.files.length, mode).toBe(single1.files.length);
    }
    await s.ingest(SECOND);
    for (const mode of ['inserts', 'diff'] as const) {
      const sharded2 = await s.runOf('sharded', s.flows.sharded[mode]);
      const single2 = await s.runOf('single', s.flows.single[mode]);
      const rows2 = await s.rowsOf(sharded2);
      expect(rows2, mode).toEqual(await s.rowsOf(single2));
      // Only what the second ingest changed: the new gold profiles and the rescored ones (and, in diff, the removed).
      expect(rows2.length, mode).toBeGreaterThan(30);
      expect(rows2.length, mode).toBeLessThan(FIRST.length / 2);
      expect(sharded2.files.length, mode).toBe(single2.files.length);
    }
  });

  it('a shard call Durable Objects mark transient (retryable) fails its task as NETWORK: retried alone; any other failure fails the run', async () => {
    const s = await scenario('transient', FIRST);
    // Durable Objects' infrastructure errors carry `retryable` (the object restarted, the connection dropped).
    s.shards.failNext = Object.assign(new Error('Network connection lost.'), { retryable: true });
    const run = await s.runOf('sharded', s.flows.sharded.household);
    const tasks = await listTasks(s.e.DB, run.id);
    expect(tasks.map((t) => t.attempt)).toEqual(tasks.map((t) => (t.seq === 0 ? 2 : 1)));
    expect(await s.rowsOf(run)).toEqual(await s.rowsOf(await s.runOf('single', s.flows.single.household)));
    // An error of the shard's own code (no `retryable`) is not retried: the run fails, naming the task.
    s.shards.failNext = new Error('SQLITE_CORRUPT: database disk image is malformed');
    const id = (await s.api('sharded')('POST', `/dataflows/${s.flows.sharded.household}/run`)).body
      .id as string;
    await s.drain();
    const failed = (await s.api('sharded')('GET', `/runs/${id}`)).body;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ task: 0 });
    expect(failed.error.message).toContain('SQLITE_CORRUPT');
  });
});
