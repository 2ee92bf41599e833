/**
 * The fan-out run engine on workerd (real D1, moto with auth enforced as the destination): a run of a
 * dataflow whose audience reads a snapshot source is planned into tasks, mapped one message per task,
 * and reduced through the export service. The snapshot here is NDJSON files in an in-memory
 * ObjectStore read through the SnapshotAccess contract (the Parquet reader plugs in the same way).
 * Its exported rows are compared with the same run over the same profiles pushed into D1.
 */
import { describe, expect, inject, it } from 'vitest';
import { rowToProfile } from '../../src/core/data/profile-rows.ts';
import type { Profile } from '../../src/core/data/model.ts';
import type { Row } from '../../src/core/types.ts';
import { ExportError } from '../../src/core/errors.ts';
import { memoryObjectStore } from '../../src/core/snapshot/memory-store.ts';
import type { ObjectStore, ReadStats, SnapshotPlan, SnapshotUnit } from '../../src/core/snapshot/types.ts';
import { consumeBatch } from '../../src/worker/consumer.ts';
import type { Env, RunMessage } from '../../src/worker/env.ts';
import { abandonRun, executeRun } from '../../src/worker/execute.ts';
import { runTask, type SnapshotAccess, type SnapshotReading } from '../../src/worker/fanout.ts';
import { tick } from '../../src/worker/scheduler.ts';
import { invocationBudget } from '../../src/worker/budget.ts';
import { getRun, LEASE_SECONDS } from '../../src/worker/store/runs.ts';
import { claimTask, listTasks } from '../../src/worker/store/tasks.ts';
import { call, drainQueue, newOrg, type PendingMessages, platformOf, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');

/** The test snapshot's objects (key → NDJSON text) as a store; the map may change between runs. */
const storeOf = (objects: ReadonlyMap<string, string>) => memoryObjectStore(Object.fromEntries(objects), 'memory://snapshots');

/** An NDJSON snapshot under a prefix: one unit per file, rows read whole and turned into profiles. */
function ndjsonReading(store: ObjectStore, prefix: string, hooks: { read?: (key: string) => void } = {}): SnapshotReading {
  /** A unit's file, read whole (counted in `stats`), as its lines' objects. */
  const lines = async (plan: SnapshotPlan, unit: SnapshotUnit, stats: ReadStats): Promise<Row[]> => {
    const file = plan.files[unit.file]!;
    hooks.read?.(file.key);
    const data = await store.read(file.key, 0, file.size);
    stats.requests++;
    stats.bytesFetched += data.byteLength;
    const rows = new TextDecoder().decode(data).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);
    stats.rows += rows.length;
    return rows;
  };
  return {
    plan: async (): Promise<SnapshotPlan> => {
      const files = [];
      for await (const info of store.list(prefix)) files.push({ key: info.key, size: info.size, ...(info.etag && { etag: info.etag }) });
      if (files.length === 0) throw new ExportError('SOURCE_NOT_FOUND', `No file under ${prefix}`);
      return { format: 'ndjson', files, schema: [], units: files.map((_, file) => ({ file })), bytes: files.reduce((n, f) => n + f.size, 0) };
    },
    profiles: (plan: SnapshotPlan, unit: SnapshotUnit, stats: ReadStats) =>
      new ReadableStream<readonly Profile[]>({
        async start(controller) {
          controller.enqueue((await lines(plan, unit, stats)).map((row, i) => rowToProfile(row, i)));
          controller.close();
        },
      }),
    // A dataset's rows: each line's object, the id in `customer_id`, the update time in `changed_at`.
    records: {
      idColumn: 'customer_id',
      updatedAtColumn: 'changed_at',
      rows: (plan, unit, columns, stats) =>
        new ReadableStream<Row[]>({
          async start(controller) {
            const project = (row: Row) => Object.fromEntries(columns.filter((c) => c in row).map((c) => [c, row[c]]));
            controller.enqueue((await lines(plan, unit, stats)).map(project));
            controller.close();
          },
        }),
    },
  };
}

interface Person {
  id: string;
  tier: string;
  score: number;
}
const ndjson = (people: readonly Person[]) => people.map((p) => JSON.stringify({ id: p.id, tier: p.tier, score: p.score })).join('\n');
const d1Ndjson = (people: readonly Person[]) =>
  people.map((p) => JSON.stringify({ id: p.id, attributes: { tier: p.tier, score: p.score } })).join('\n');

/** Snapshot 1: 160 profiles over 4 files; snapshot 2: some leave, some change, some join. */
const FIRST: Person[] = Array.from({ length: 160 }, (_, i) => ({ id: `p${String(i).padStart(4, '0')}`, tier: i % 3 === 0 ? 'silver' : 'gold', score: i % 9 }));
const SECOND: Person[] = [
  ...FIRST.map((p, i) => (i % 10 === 1 ? { ...p, tier: 'silver' } : i % 10 === 2 ? { ...p, score: 100 + i } : i % 10 === 3 ? { ...p, tier: 'gold' } : p)),
  ...Array.from({ length: 12 }, (_, i) => ({ id: `q${i}`, tier: 'gold', score: i })),
];
const FILES = 4;
const filesOf = (people: readonly Person[], prefix: string) =>
  new Map(Array.from({ length: FILES }, (_, f) => [`${prefix}part-${f}.ndjson`, ndjson(people.filter((_, i) => i % FILES === f))]));

/** Counts reads of spilled rows (one query per row): in a fanned-out reduce, the tasks' sorted runs. */
function countingRunReads(db: Env['DB']): Env['DB'] & { reads: number } {
  const counted = {
    reads: 0,
    prepare: (query: string) => {
      const statement = db.prepare(query);
      if (!query.startsWith('SELECT data FROM export_spill')) return statement;
      const wrap = (st: ReturnType<Env['DB']['prepare']>): ReturnType<Env['DB']['prepare']> => ({
        bind: (...values: unknown[]) => wrap(st.bind(...values)),
        first: <T>() => {
          counted.reads++;
          return st.first<T>();
        },
        all: <T>() => st.all<T>(),
        run: () => st.run(),
      });
      return wrap(statement);
    },
    batch: (statements: Parameters<Env['DB']['batch']>[0]) => db.batch(statements),
  };
  return counted;
}

async function scenario(name: string, overrides: Partial<Env> = {}) {
  const base = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', ...overrides });
  const db = countingRunReads(base.DB);
  const e = { ...base, DB: db };
  const org = await newOrg(e);
  const api = (method: string, path: string, body?: unknown, raw?: string) =>
    call(e, method, path, { token: org.token, ...(raw ? { raw, headers: { 'Content-Type': 'application/x-ndjson' } } : { body }) });
  const folder = `${moto.folder}fanout-${name}/`;
  const objects = new Map<string, string>();
  const reads: string[] = [];
  const access: SnapshotAccess = async (_env, _org, sourceId) => {
    expect(sourceId).toBe(`src_${name}`);
    return ndjsonReading(storeOf(objects), 'snap/', { read: (key) => reads.push(key) });
  };
  await e.DB.prepare("INSERT INTO sources (id, org_id, name, config, created_at, updated_at) VALUES (?, ?, 'snap', '{}', ?, ?)")
    .bind(`src_${name}`, org.id, new Date().toISOString(), new Date().toISOString())
    .run();
  const flowOf = async (label: string, snapshot: boolean) => {
    const dest = await api('POST', '/destinations', motoDestinationBody(`${folder}${label}/`, { manifest: true }));
    const audience = await api('POST', '/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
    if (snapshot) await e.DB.prepare("UPDATE audiences SET source_id = ? WHERE id = ?").bind(`src_${name}`, audience.body.id).run();
    const flow = await api('POST', '/dataflows', {
      name: label,
      destinationId: dest.body.id,
      audienceIds: [audience.body.id],
      mapping: { fields: [{ source: 'id' }, { source: 'attributes.score', target: 'score' }] },
      exportMode: 'incremental',
      alertWebhook: 'https://hooks.example.com/fanout',
      alertEvents: ['run.started', 'run.succeeded', 'run.failed'],
    });
    expect(flow.status, flow.text).toBe(201);
    return flow.body.id as string;
  };
  const snapFlow = await flowOf('snapshot', true);
  const d1Flow = await flowOf('d1', false);
  // Every PUT of the snapshot dataflow's manifest, as the destination received it.
  const manifestPuts: string[] = [];
  let refusePut: ((url: string) => boolean) | undefined;
  /** PUTs of the snapshot dataflow's data files. */
  const dataPuts: string[] = [];
  const counting: typeof fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    if (method === 'PUT' && url.includes('/snapshot/') && url.endsWith('.csv')) dataPuts.push(url);
    if (method === 'PUT' && refusePut?.(url)) {
      return Promise.resolve(new Response('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', { status: 403 }));
    }
    if (method === 'PUT' && url.includes('/snapshot/') && /manifest-[^/?]*\.json/.test(url)) manifestPuts.push(url);
    return fetch(input, init);
  };
  let failTask: ((task: number, attempt: number) => boolean) | undefined;
  /** Pauses the export every `n` checks (decided keys): the reduce continues in another invocation. */
  let pauseEvery = 0;
  let checks = 0;
  /** The most D1 queries one delivery (one invocation, with its own budget) made. */
  let mostQueries = 0;
  /** Delivers one message as an invocation would, with its budget (a retried one is sent again with one more attempt). */
  let deliveries = 0;
  const deliver = async (body: RunMessage, attempts = 1) => {
    deliveries++;
    const budget = invocationBudget(e);
    const retry = () => pending.push({ body, attempts: attempts + 1 });
    await consumeBatch({ queue: 'edge-export-runs', messages: [{ id: `m${deliveries}`, body, attempts, ack: () => {}, retry }] }, budget.env, {
      executeRun: (env, run) =>
        executeRun(env, run, platformOf(env, { fetch: counting }), {
          snapshots: access,
          pause: (owed) => budget.low(owed) || (pauseEvery > 0 && ++checks % pauseEvery === 0),
        }),
      runTask: async (env, task) => {
        if (failTask?.(task.seq, task.attempt)) throw new ExportError('NETWORK', `simulated: the range request of task ${task.seq} was dropped`);
        return runTask(env, task, access);
      },
      finishing: budget.finishing,
      abandonRun: (env, run) => abandonRun(env, run, platformOf(env, { fetch: counting })),
    });
    mostQueries = Math.max(mostQueries, budget.queries);
  };
  const pending: PendingMessages = [];
  /** Delivers every message sent, as the queue would, until none is left. */
  const drain = () => drainQueue(e.EXPORTS, pending, deliver);
  const startRun = async (flowId: string) => (await api('POST', `/dataflows/${flowId}/run`)).body.id as string;
  const s3 = motoAdmin();
  /** The data rows a run exported (every CSV file but the manifest), sorted. */
  const exported = async (label: string, runId: string) => {
    const run = (await api('GET', `/runs/${runId}`)).body;
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const rows: string[] = [];
    for (const file of run.files as { key: string }[]) {
      if (!file.key.startsWith(`${folder}${label}/`) || file.key.includes('manifest-')) continue;
      rows.push(...(await s3.get(file.key)).text.split(/\r?\n/).filter(Boolean).slice(1));
    }
    return rows.sort();
  };
  /** The alerts written for a run, by event. */
  const alerts = async (runId: string) =>
    (await e.DB.prepare('SELECT event FROM alerts WHERE run_id = ? ORDER BY id').bind(runId).all<{ event: string }>()).results.map((r) => r.event);
  return {
    alerts,
    e,
    org,
    api,
    objects,
    reads,
    snapFlow,
    d1Flow,
    manifestPuts,
    drain,
    deliver,
    startRun,
    exported,
    s3,
    folder,
    setFail: (f: typeof failTask) => (failTask = f),
    setPauseEvery: (n: number) => (pauseEvery = n),
    setRefusePut: (f: typeof refusePut) => (refusePut = f),
    runReads: () => db.reads,
    dataPuts,
    mostQueries: () => mostQueries,
  };
}

describe('fan-out of a snapshot run', () => {
  it('maps one task per file, reduces through the export service, and exports what the D1 path exports (full, then incremental)', async () => {
    const s = await scenario('equal');
    for (const [key, text] of filesOf(FIRST, 'snap/')) s.objects.set(key, text);
    expect((await s.api('POST', '/profiles', undefined, d1Ndjson(FIRST))).status).toBe(200);

    const run1 = await s.startRun(s.snapFlow);
    await s.drain();
    const tasks = await listTasks(s.e.DB, run1);
    expect(tasks.map((t) => [t.seq, t.status, t.attempt])).toEqual([
      [0, 'done', 1],
      [1, 'done', 1],
      [2, 'done', 1],
      [3, 'done', 1],
    ]);
    expect(s.manifestPuts).toHaveLength(1);
    // Announced once, though claimed twice (plan, then reduce).
    expect(await s.alerts(run1)).toEqual(['run.started', 'run.succeeded']);
    const d1Run1 = await s.startRun(s.d1Flow);
    await s.drain();
    const snap1 = await s.exported('snapshot', run1);
    expect(snap1).toEqual(await s.exported('d1', d1Run1));
    expect(snap1).toHaveLength(FIRST.filter((p) => p.tier === 'gold').length);
    // Every spilled run of the fan-out is gone once the run succeeded.
    expect((await s.e.DB.prepare('SELECT COUNT(*) AS n FROM export_spill WHERE run_id = ?').bind(run1).first<{ n: number }>())!.n).toBe(0);

    // Snapshot 2 replaces snapshot 1; the same profiles are upserted into D1.
    s.objects.clear();
    for (const [key, text] of filesOf(SECOND, 'snap/')) s.objects.set(key, text);
    expect((await s.api('POST', '/profiles', undefined, d1Ndjson(SECOND))).status).toBe(200);
    const run2 = await s.startRun(s.snapFlow);
    await s.drain();
    const d1Run2 = await s.startRun(s.d1Flow);
    await s.drain();
    const snap2 = await s.exported('snapshot', run2);
    expect(snap2).toEqual(await s.exported('d1', d1Run2));
    // joined (q*, silver→gold), changed (scores), exited (gold→silver) are all there.
    const status = (row: string) => row.split(',').at(-1);
    expect(new Set(snap2.map(status))).toEqual(new Set(['realized', 'exited']));
    expect(snap2.some((r) => r.startsWith('q0,'))).toBe(true);
    const detail = (await s.api('GET', `/runs/${run2}`)).body;
    const d1Detail = (await s.api('GET', `/runs/${d1Run2}`)).body;
    expect(detail.rows).toBe(d1Detail.rows);
    expect(detail.skipped).toEqual(d1Detail.skipped);
    expect(s.manifestPuts).toHaveLength(2);
  });

  it('retries a failed task alone (the others keep attempt 1) and a task whose consumer died is re-sent by the cron', async () => {
    const s = await scenario('retry');
    for (const [key, text] of filesOf(FIRST, 'snap/')) s.objects.set(key, text);
    expect((await s.api('POST', '/profiles', undefined, d1Ndjson(FIRST))).status).toBe(200);
    // Task 2's first attempt loses a read (a retryable network error): only it is redone.
    s.setFail((task, attempt) => task === 2 && attempt === 1);
    const run1 = await s.startRun(s.snapFlow);
    await s.drain();
    expect((await listTasks(s.e.DB, run1)).map((t) => t.attempt)).toEqual([1, 1, 2, 1]);
    const bytes = [...s.objects.values()].reduce((n, text) => n + new TextEncoder().encode(text).byteLength, 0);
    expect((await s.api('GET', `/runs/${run1}`)).body.fanout).toEqual({ tasks: 4, done: 4, attempts: 5, bytesFetched: bytes, requests: 4, rowsRead: FIRST.length });
    expect(s.reads.filter((k) => k === 'snap/part-2.ndjson')).toHaveLength(1);
    expect(s.reads).toHaveLength(FILES);
    const d1Run = await s.startRun(s.d1Flow);
    await s.drain();
    expect(await s.exported('snapshot', run1)).toEqual(await s.exported('d1', d1Run));
    expect(s.manifestPuts).toHaveLength(1);

    // Run 2: its planning message is delivered, then task 1's consumer dies after claiming it.
    s.setFail(undefined);
    const run2 = await s.startRun(s.snapFlow);
    // Deliver only the run's message: it plans the run and sends one message per task.
    expect(s.e.EXPORTS.sent).toEqual([{ runId: run2, orgId: s.org.id }]);
    await s.deliver(s.e.EXPORTS.sent.shift()!);
    expect((await getRun(s.e.DB, s.org.id, run2))!).toMatchObject({ status: 'running', lease_until: null });
    const taskMessages = s.e.EXPORTS.sent.splice(0);
    expect(taskMessages.map((m) => m.task)).toEqual([0, 1, 2, 3]);
    const died = new Date();
    expect(await claimTask(s.e.DB, s.org.id, run2, 1, died)).toMatchObject({ attempt: 1, status: 'running' });
    // The others are delivered; task 1's message finds it held and does nothing.
    s.e.EXPORTS.sent.push(...taskMessages);
    await s.drain();
    expect((await listTasks(s.e.DB, run2)).map((t) => [t.status, t.attempt])).toEqual([
      ['done', 1],
      ['running', 1],
      ['done', 1],
      ['done', 1],
    ]);
    // After its lease, the cron sends task 1 again: attempt 2 redoes it alone, and it completes the run.
    const report = await tick(s.e, new Date(died.getTime() + (LEASE_SECONDS + 1) * 1000));
    expect(report.resent).toBe(1);
    expect(s.e.EXPORTS.sent).toEqual([{ runId: run2, orgId: s.org.id, task: 1 }]);
    await s.drain();
    expect((await listTasks(s.e.DB, run2)).map((t) => [t.status, t.attempt])).toEqual([
      ['done', 1],
      ['done', 2],
      ['done', 1],
      ['done', 1],
    ]);
    expect((await getRun(s.e.DB, s.org.id, run2))!.status).toBe('succeeded');
    expect(s.manifestPuts).toHaveLength(2);
  });

  it('reduces over several invocations (paused, continued from its checkpoint) with rows of a lowered value limit, each run read about once, within the D1 budget', async () => {
    const s = await scenario('continue', { D1_MAX_VALUE_BYTES: '600' });
    for (const [key, text] of filesOf(FIRST, 'snap/')) s.objects.set(key, text);
    expect((await s.api('POST', '/profiles', undefined, d1Ndjson(FIRST))).status).toBe(200);
    const run1 = await s.startRun(s.snapFlow);
    await s.drain();
    // The tasks' runs (written in rows of at most 90% of the lowered value limit) are gone with the run.
    const rows = await s.e.DB.prepare('SELECT COUNT(*) AS n FROM export_spill WHERE run_id = ?').bind(run1).first<{ n: number }>();
    expect(rows!.n).toBe(0);
    const d1Run1 = await s.startRun(s.d1Flow);
    await s.drain();
    // Compared now: a later run in the same second writes files of the same names.
    expect(await s.exported('snapshot', run1)).toEqual(await s.exported('d1', d1Run1));
    for (const [key, text] of filesOf(SECOND, 'snap/')) s.objects.set(key, text);
    expect((await s.api('POST', '/profiles', undefined, d1Ndjson(SECOND))).status).toBe(200);
    s.setPauseEvery(25);
    const run2 = await s.startRun(s.snapFlow);
    const readsBefore = s.runReads();
    await s.drain();
    s.setPauseEvery(0);
    // Every continued invocation seeks each run to the row holding its first undecided key: each row
    // is read once, plus per invocation and run the row it resumes in, one read ahead and the end.
    const results = (await listTasks(s.e.DB, run2)).map((t) => JSON.parse(t.result!) as { audiences: Record<string, { rows: string[] }> });
    const rowsWritten = results.reduce((n, r) => n + Object.values(r.audiences).reduce((m, a) => m + a.rows.length, 0), 0);
    const invocations = (await s.api('GET', `/runs/${run2}`)).body.attempts as number;
    expect(rowsWritten).toBeGreaterThan(4 * 3);
    expect(s.runReads() - readsBefore).toBeLessThanOrEqual(rowsWritten + invocations * 4 * 3);
    const d1Run2 = await s.startRun(s.d1Flow);
    await s.drain();
    const detail = (await s.api('GET', `/runs/${run2}`)).body;
    // Planned once, then the reduce continued over several invocations.
    expect(detail.attempts).toBeGreaterThan(3);
    expect(await s.exported('snapshot', run2)).toEqual(await s.exported('d1', d1Run2));
    expect(s.manifestPuts).toHaveLength(2);
    expect(s.mostQueries()).toBeLessThan(1000);
  });

  it('a reduce failing after earlier invocations published files takes them back and drops every task\'s spill', async () => {
    const s = await scenario('abandon');
    for (const [key, text] of filesOf(FIRST, 'snap/')) s.objects.set(key, text);
    // The reduce pauses every 20 keys: each invocation publishes a file; the third file is refused (403).
    s.setPauseEvery(20);
    s.setRefusePut((url) => /\/snapshot\/.*_3\.csv/.test(url));
    const run = await s.startRun(s.snapFlow);
    await s.drain();
    const failed = (await s.api('GET', `/runs/${run}`)).body;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'S3_ACCESS_DENIED' });
    // Two invocations had published a file each before the third was refused.
    expect(s.dataPuts.map((url) => url.match(/_\d+_\d+(_\d)?\.csv$/)![1] ?? '')).toEqual(['', '_2', '_3']);
    expect(await s.s3.list(`${s.folder}snapshot/`)).toEqual([]);
    expect((await s.e.DB.prepare('SELECT COUNT(*) AS n FROM export_spill WHERE run_id = ?').bind(run).first<{ n: number }>())!.n).toBe(0);
    expect(s.manifestPuts).toHaveLength(0);
  });

  it('a task failing for good fails the run: nothing published, every spill dropped', async () => {
    const s = await scenario('fail');
    for (const [key, text] of filesOf(FIRST, 'snap/')) s.objects.set(key, text);
    s.setFail((task) => task === 3);
    const run = await s.startRun(s.snapFlow);
    await s.drain();
    const failed = (await s.api('GET', `/runs/${run}`)).body;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'NETWORK', task: 3 });
    expect(await s.alerts(run)).toEqual(['run.started', 'run.failed']);
    const tasks = await listTasks(s.e.DB, run);
    expect(tasks[3]).toMatchObject({ status: 'failed', attempt: 3 });
    expect((await s.e.DB.prepare('SELECT COUNT(*) AS n FROM export_spill WHERE run_id = ?').bind(run).first<{ n: number }>())!.n).toBe(0);
    expect(await s.s3.list(`${s.folder}snapshot/`)).toEqual([]);
    expect(s.manifestPuts).toHaveLength(0);
  });
});

/** A dataset's records: some updated together (one update time for many ids), ids in no file order. */
interface Item {
  id: string;
  at: string;
  tier: string;
  score: number;
}
const ITEMS: Item[] = Array.from({ length: 90 }, (_, i) => ({
  id: `c${String((i * 37) % 90).padStart(3, '0')}`,
  at: new Date(Date.UTC(2026, 11, 1, 0, i % 7)).toISOString(),
  tier: i % 2 ? 'gold' : 'silver',
  score: i,
}));
/** The second snapshot: every fifth record updated later, some kept, ten new. */
const ITEMS_2: Item[] = [
  ...ITEMS.map((r, i) => (i % 5 === 0 ? { ...r, at: new Date(Date.UTC(2026, 11, 2, 0, i % 3)).toISOString(), score: 1000 + i } : r)),
  ...Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, at: new Date(Date.UTC(2026, 11, 2, 0, i % 4)).toISOString(), tier: 'gold', score: -i })),
];
const itemFiles = (items: readonly Item[]) =>
  new Map(
    Array.from({ length: 3 }, (_, f) => [
      `ds/part-${f}.ndjson`,
      // The snapshot's column names; `notes` is not a dataset column (projected out).
      items.filter((_, i) => i % 3 === f).map((r) => JSON.stringify({ customer_id: r.id, changed_at: r.at, tier: r.tier, score: r.score, notes: 'x' })).join('\n'),
    ]),
  );
const itemRecords = (items: readonly Item[]) => items.map((r) => JSON.stringify({ id: r.id, updatedAt: r.at, values: { tier: r.tier, score: r.score } })).join('\n');

describe('fan-out of a snapshot dataset', () => {
  it('exports a dataset read from a snapshot source as the D1 path exports the same records (full, then incremental), each task sorting past its budget', async () => {
    // A sort budget of ~10 records: every task spills several sorted runs and merges them into its one run.
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true', EXPORT_SORT_BUDGET: '2000' });
    const org = await newOrg(e);
    const api = (method: string, path: string, body?: unknown, raw?: string) =>
      call(e, method, path, { token: org.token, ...(raw ? { raw, headers: { 'Content-Type': 'application/x-ndjson' } } : { body }) });
    const objects = new Map<string, string>();
    const access: SnapshotAccess = async (_env, _org, sourceId) => {
      expect(sourceId).toBe('src_ds');
      return ndjsonReading(storeOf(objects), 'ds/');
    };
    const now = new Date().toISOString();
    await e.DB.prepare("INSERT INTO sources (id, org_id, name, config, created_at, updated_at) VALUES ('src_ds', ?, 'lake', '{}', ?, ?)").bind(org.id, now, now).run();
    const schema = [
      { name: 'tier', type: 'string' },
      { name: 'score', type: 'integer' },
    ];
    const unknown = await api('POST', '/datasets', { id: 'ds_x', name: 'x', schema, sourceId: 'src_nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.issues).toEqual([expect.objectContaining({ path: 'sourceId', message: 'no such source in this organization, received "src_nope"' })]);
    expect((await api('POST', '/datasets', { id: 'ds_snap', name: 'snap', schema, sourceId: 'src_ds' })).status).toBe(201);
    expect((await api('GET', '/datasets/ds_snap')).body).toMatchObject({ id: 'ds_snap', sourceId: 'src_ds' });
    expect((await api('POST', '/datasets', { id: 'ds_d1', name: 'd1', schema })).body.sourceId).toBeUndefined();
    // A snapshot dataset's records are the snapshot's rows: none are pushed to it.
    const pushed = await api('POST', '/datasets/ds_snap/records', undefined, itemRecords(ITEMS));
    expect(pushed.status).toBe(409);
    expect(pushed.body.error.message).toBe(`Dataset "ds_snap" reads snapshot source src_ds: its records are the snapshot's rows; write them there`);
    const inUse = await api('DELETE', '/sources/src_ds');
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.message).toBe('The source is read by dataset(s) snap (ds_snap); change or delete them first');
    expect(inUse.body.error.details).toEqual({ audienceIds: [], datasetIds: ['ds_snap'] });

    const folder = `${moto.folder}fanout-dataset/`;
    const flowOf = async (datasetId: string) => {
      const dest = await api('POST', '/destinations', motoDestinationBody('', { folderPath: `${folder}${datasetId}`, manifest: true }));
      const flow = await api('POST', '/dataflows', { name: datasetId, destinationId: dest.body.id, datasetId, exportMode: 'incremental' });
      expect(flow.status, flow.text).toBe(201);
      return flow.body.id as string;
    };
    const snapFlow = await flowOf('ds_snap');
    const d1Flow = await flowOf('ds_d1');
    const drain = async () => {
      for (let body = e.EXPORTS.sent.shift(); body; body = e.EXPORTS.sent.shift()) {
        await consumeBatch({ queue: 'edge-export-runs', messages: [{ id: 'm', body, attempts: 1, ack: () => {}, retry: () => {} }] }, e, {
          executeRun: (env, run) => executeRun(env, run, platformOf(env), { snapshots: access }),
          runTask: (env, task) => runTask(env, task, access),
        });
      }
    };
    const s3 = motoAdmin();
    const exported = async (runId: string) => {
      const run = (await api('GET', `/runs/${runId}`)).body;
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      const data = (run.files as { key: string }[]).filter((f) => !f.key.includes('manifest-'));
      expect(data.length).toBeGreaterThan(0);
      const rows: string[] = [];
      for (const file of data) rows.push(...(await s3.get(file.key)).text.split(/\r?\n/).filter(Boolean).slice(1));
      return { rows, run };
    };
    const both = async () => {
      const snapRun = (await api('POST', `/dataflows/${snapFlow}/run`)).body.id as string;
      await drain();
      const d1Run = (await api('POST', `/dataflows/${d1Flow}/run`)).body.id as string;
      await drain();
      const snap = await exported(snapRun);
      const d1 = await exported(d1Run);
      // Same rows in the same order ((updatedAt, id), as D1 reads records).
      expect(snap.rows).toEqual(d1.rows);
      expect(snap.run.fanout).toMatchObject({ tasks: 3, done: 3 });
      expect(snap.run.files.some((f: { key: string }) => f.key.includes(`ds_snap/exportTime=`))).toBe(true);
      return { snap, d1, tasks: await listTasks(e.DB, snapRun) };
    };

    for (const [key, text] of itemFiles(ITEMS)) objects.set(key, text);
    expect((await api('POST', '/datasets/ds_d1/records', undefined, itemRecords(ITEMS))).status).toBe(200);
    const full = await both();
    expect(full.snap.rows).toHaveLength(ITEMS.length);
    const byTime = (items: readonly Item[]) => [...items].sort((a, b) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1)).map((r) => `${r.tier},${r.score}`);
    expect(full.snap.rows).toEqual(byTime(ITEMS));
    // Each task's run is sorted alone; the reduce merged them (every task kept its file's records).
    expect(full.tasks.map((t) => JSON.parse(t.result!).dataset.records)).toEqual([30, 30, 30]);
    // Past its budget, each task spilled sorted runs and merged them into its one run.
    for (const t of full.tasks) expect(JSON.parse(t.result!).dataset.spilled).toBeGreaterThan(1);

    for (const [key, text] of itemFiles(ITEMS_2)) objects.set(key, text);
    expect((await api('POST', '/datasets/ds_d1/records', undefined, itemRecords(ITEMS_2))).status).toBe(200);
    const incremental = await both();
    const changed = ITEMS_2.filter((_, i) => i >= ITEMS.length || i % 5 === 0);
    expect(incremental.snap.rows).toEqual(byTime(changed));
    // Nothing was spilled for good: the tasks' runs went with the run.
    expect((await e.DB.prepare('SELECT COUNT(*) AS n FROM export_spill').first<{ n: number }>())!.n).toBe(0);
  });
});
