/**
 * Sharded profiles at size (issue 17): N profiles ingested through `POST /v1/profiles` into an
 * organization of S shards (Durable Objects with SQLite storage), then a rule audience (~15 %)
 * exported plain and deduplicated by email, fanned out over the queue per shard key range — by the
 * Worker in workerd started by Miniflare as `npm start` does, every isolate capped at `--heap` MB —
 * to moto with auth enforced, against DuckDB's answer over the same profiles.
 *
 * - Profiles: bench/sharded-data.ts (NDJSON, and DuckDB's Parquet copy of it for the reference).
 * - Ingest: batches of 10,000 lines, `--in-flight` of them in parallel; wall time, profiles/s and
 *   workerd's CPU; the shards' SQLite files (Miniflare persists the Durable Objects under the state
 *   folder) give the bytes a profile takes in a shard.
 * - Exports: with 1 and 2 concurrent consumers (bench/queue-router.ts: Miniflare delivers one batch at
 *   a time per queue, so 2 consumers are 2 queues whose brokers deliver concurrently); per run the
 *   wall time, tasks (D1 `run_tasks`) and claims, invocations (the Worker's "queue invocation" lines),
 *   per invocation the queries the Worker logs (D1 queries and shard calls: one budget), the shard
 *   calls (Durable Object RPCs: a task's `read.requests`, the plan's one `split` a shard) and — with one consumer,
 *   when invocations follow each other — workerd's CPU between consecutive invocation lines (the
 *   Worker, the shards and the D1 simulator: one process), the Worker isolate's heap from `--trace-gc`.
 * - Every export's files are read back with DuckDB and their members compared with DuckDB's SQL over
 *   the Parquet copy (dedup: latest updatedAt, then smallest id).
 * - `--shards 0` is the single-database layout (profiles in D1, the export in one run): the baseline.
 *
 * Run: npm run bench -- sharded [--profiles 200000] [--shards 8] [--consumers 1,2]
 *        [--exports full,dedup | none] [--in-flight 4] [--heap 128] [--task-rows N] [--restart-each] [--write [--section sharded] [--title …]]
 *   --shards takes a list (`1,8`: each count on a fresh Worker, to compare ingest); --task-rows sets
 *   the Worker's EXPORT_SHARD_TASK_ROWS; --write puts the figures in docs/BENCHMARKS.md (section
 *   `--section`, default "sharded"; another section gets a third-level heading, `--title`).
 *   --restart-each runs every export on a fresh Worker after its own ingest: at 5M profiles the second
 *   run on one Miniflare stalled twice (its tasks' messages never delivered, workerd idle), as the
 *   snapshot bench's 10M run once did (docs/BENCHMARKS.md, "Snapshot sources", findings).
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SHARD_BUCKETS, type ShardProfile, type ShardStore } from '../src/worker/shards/types.ts';
import { exportedRows } from './audiences-data.ts';
import { cappedHarness } from './miniflare-v8.ts';
import { cpuSeconds, descendantPid } from './proc.ts';
import { ROUTER, routedQueues } from './queue-router.ts';
import { writeSection } from './report.ts';
import { MAPPING, RULE, type ShardedExpected, type ShardedFiles, shardedExpected, shardedFiles } from './sharded-data.ts';
import { type Api, captureWorkerd, client, csvDestination, dataflowsByKind, difference, download, ingestNdjson, type MeasuredRun, measuredRun } from './worker-api.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const list = (name: string, fallback: string) => arg(name, fallback).split(',').map(Number);
const profiles = Number(arg('--profiles', '200000'));
const shardCounts = list('--shards', '8');
const consumerCounts = list('--consumers', '1,2');
const exportsRun = (arg('--exports', 'full,dedup') === 'none' ? [] : arg('--exports', 'full,dedup').split(',')) as Kind[];
const inFlight = Number(arg('--in-flight', '4'));
const heapCap = Number(arg('--heap', '128'));
const taskRows = arg('--task-rows', '');
const section = arg('--section', 'sharded');
const restartEach = argv.includes('--restart-each');
const title = arg('--title', 'Sharded profiles: ingest and fan-out exports over Durable Object shards');
for (const [name, n] of Object.entries({ '--profiles': profiles, '--in-flight': inFlight }))
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got ${arg(name, '')}`);
if (shardCounts.some((s) => !Number.isInteger(s) || s < 0 || s > 256)) throw new Error(`--shards: expected integers from 0 to 256, got ${arg('--shards', '')}`);
if (consumerCounts.some((c) => c !== 1 && c !== 2)) throw new Error(`--consumers: expected 1 and/or 2, got ${arg('--consumers', '')}`);
if (exportsRun.some((k) => k !== 'full' && k !== 'dedup')) throw new Error(`--exports: expected full and/or dedup, or none`);
const ROOT = new URL('../', import.meta.url).pathname;
const DATA = join(ROOT, 'bench/.data');
const BUCKET = 'exports';
const BATCH = 10_000;

// Before Miniflare is loaded: every isolate of its workerd gets the cap, and prints its collections.
const { startLocalWorker, createBucket, createUser, s3Reader, startMoto, permissionPolicy } = await cappedHarness(heapCap);
type Moto = Awaited<ReturnType<typeof startMoto>>;
type S3 = ReturnType<typeof s3Reader>;
type LocalWorker = Awaited<ReturnType<typeof startLocalWorker>>;

/** workerd's output (Miniflare pipes it to console.log): GC and invocation lines kept, the rest printed. */
const captured = captureWorkerd();
const { lines: workerdLines, print } = captured;

type Kind = 'full' | 'dedup';

interface IngestFigures {
  shards: number;
  profiles: number;
  seconds: number;
  /** workerd's CPU seconds during the ingest (the Worker, the shards, D1: one process). */
  cpu: number;
  /** Bytes of the shards' SQLite files (or of D1's, for the single-database layout) per profile. */
  bytesPerProfile: number | undefined;
  load: number;
}
interface ExportFigures {
  shards: number;
  consumers: number;
  kind: Kind;
  members: number;
  seconds: number;
  tasks: number;
  claims: number;
  invocations: number;
  taskInvocations: number;
  /** One consumer: the largest and mean workerd CPU of an invocation; two: only the mean (invocations overlap). */
  maxCpu: number | undefined;
  meanCpu: number;
  /** workerd's CPU over the run's wall time: 1.0 is one core busy all along. */
  cpuShare: number;
  maxQueries: number;
  /** Shard calls (Durable Object RPCs) of the invocation that made most: the plan's `split`s or a task's pages. */
  maxShardCalls: number | undefined;
  /** Shard calls of the whole run (the runs API's `fanout.requests`). */
  shardCalls: number | undefined;
  maxInvocationMs: number;
  /** Most invocations of the run in flight at once. */
  maxInFlight: number;
  /** Invocations by step: the plan (the run's first), the tasks (map), the rest (reduce, perhaps continued): wall ms and, with one consumer, CPU s. */
  phases: Record<'plan' | 'map' | 'reduce', { invocations: number; ms: number; maxMs: number; maxQueries: number; cpu: number | undefined; maxCpu: number | undefined }>;
  /** Most bytes the organization's spilled runs held in D1 (`export_spill`) at one time, sampled every second. */
  peakSpillBytes: number;
  peakHeapMiB: number;
  liveHeapMiB: number;
  checked: string;
  load: number;
}
/** One shard alone: its Durable Object called straight from the bench (no Worker), batch by batch. */
interface ShardCapacity {
  /** Per upsert of a 10,000-profile batch (new ids): wall ms and workerd CPU s, medians of 5. */
  writeMs: number;
  writeCpu: number;
  /** Per page of 5,000 profiles read by id: wall ms and workerd CPU s, medians of 5. */
  readMs: number;
  readCpu: number;
}
const ingests: IngestFigures[] = [];
const capacities = new Map<number, ShardCapacity>();
const exports: ExportFigures[] = [];

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Bytes of the SQLite files under `dir` (recursively): the shards' (or D1's) storage. */
function sqliteBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sqliteBytes(path);
    else if (/\.sqlite(-wal)?$/.test(entry.name)) total += statSync(path).size;
  }
  return total;
}


interface Context {
  moto: Moto;
  s3: S3;
  writer: { accessKeyId: string; secretAccessKey: string };
  files: ShardedFiles;
  want: ShardedExpected;
}

/** One shard count on a fresh Worker: the organization, the ingest, then every export with 1 and 2 consumers. */
async function benchShards(ctx: Context, shards: number, consumersRun: readonly number[], kindsRun: readonly Kind[]): Promise<void> {
  const state = await mkdtemp(join(tmpdir(), 'bench-sharded-'));
  const persist = join(state, 'persist');
  const worker: LocalWorker = await startLocalWorker(ROOT, state, 0, {
    inMemory: true,
    // Deliveries as Cloudflare makes them: one message per invocation, no batching delay.
    queue: { maxBatchSize: 1, maxBatchTimeout: 0, maxRetries: 3 },
    ...(taskRows && { bindings: { EXPORT_SHARD_TASK_ROWS: taskRows } }),
    // D1 and the shards on disk (their SQLite files are measured), two queues behind a router.
    configure: (options) => routedQueues({ ...options, d1Persist: join(persist, 'd1'), durableObjectsPersist: join(persist, 'do') }),
  });
  captured.pid.value = descendantPid((c) => c.startsWith('workerd'));
  try {
    const admin = client(worker.url, worker.adminToken);
    const org = await admin('POST', '/admin/organizations', { name: `Sharded bench ${shards}`, ...(shards > 0 && { shards }) });
    if (org.status !== 201) throw new Error(`POST /v1/admin/organizations: ${org.status} ${org.text.slice(0, 500)}`);
    if (shards > 0) {
      const layout = await admin('GET', `/admin/organizations/${org.body.id}/shards`);
      const owners = layout.body?.layout?.shards ?? layout.body?.shards;
      if (layout.status !== 200 || !Array.isArray(owners) || owners.length !== shards)
        throw new Error(`GET /v1/admin/organizations/{id}/shards: ${layout.status} ${layout.text.slice(0, 500)} (expected ${shards} shards)`);
    }
    const api = client(worker.url, org.body.token);

    const load = loadavg()[0]!;
    const cpu0 = cpuSeconds(captured.pid.value);
    const { count: stored, seconds } = await ingestNdjson(api, ctx.files.ndjson, inFlight, BATCH);
    const cpu = cpuSeconds(captured.pid.value) - cpu0;
    if (stored !== ctx.want.profiles) throw new Error(`ingest: ${stored} profiles posted, DuckDB counts ${ctx.want.profiles}`);
    const storage = join(persist, shards > 0 ? 'do' : 'd1');
    const bytes = sqliteBytes(storage);
    const figures: IngestFigures = { shards, profiles: stored, seconds, cpu, bytesPerProfile: bytes > 0 ? bytes / stored : undefined, load };
    ingests.push(figures);
    print(
      `${shards} shards: ingested ${stored} profiles in ${seconds.toFixed(1)} s (${Math.round(stored / seconds)}/s, ${inFlight} batches in flight), workerd CPU ${cpu.toFixed(1)} s; storage ${mib(bytes)} MiB (${figures.bytesPerProfile?.toFixed(0)} bytes/profile)`,
    );
    if (shards > 0) {
      const capacity = await shardCapacity(worker, ctx.files.ndjson);
      capacities.set(shards, capacity);
      print(
        `one shard alone: upsert of 10,000 profiles ${capacity.writeMs.toFixed(0)} ms (workerd CPU ${capacity.writeCpu.toFixed(2)} s), page of 5,000 read ${capacity.readMs.toFixed(0)} ms (CPU ${capacity.readCpu.toFixed(2)} s)`,
      );
    }
    if (kindsRun.length === 0) return;

    const audience = await api('POST', '/audiences', { kind: 'rule', name: 'gold ≥ 500', rule: RULE });
    if (audience.status !== 201) throw new Error(`POST /v1/audiences: ${audience.status} ${audience.text.slice(0, 500)}`);
    const flows = await dataflowsByKind(
      api,
      audience.body.id,
      kindsRun,
      (kind) => csvDestination(ctx.moto, ctx.writer, BUCKET, `sharded/${shards}/${kind}/`),
      (kind) => (kind === 'dedup' ? { ...MAPPING, dedup: { identity: 'email' } } : MAPPING),
      'sharded',
    );
    const db = await worker.miniflare.getD1Database('DB');
    const router = await worker.miniflare.getWorker(ROUTER);
    for (const consumers of consumersRun) {
      const set = await router.fetch(`http://router/consumers?n=${consumers}`, { method: 'POST' });
      if (set.status !== 200) throw new Error(`router: ${set.status} ${await set.text()}`);
      for (const kind of kindsRun) {
        const f = await runExport(ctx, api, db, org.body.id, flows.get(kind)!, kind, shards, consumers, () => worker.tick());
        exports.push(f);
        print(line(f));
      }
    }
  } catch (error) {
    print(`workerd's last lines:\n${workerdLines.slice(-12).join('\n')}`);
    throw error;
  } finally {
    await worker.stop();
    await rm(state, { recursive: true, force: true });
  }
}

/**
 * One shard's own cost, without the Worker: 5 batches of 10,000 new profiles (the file's first lines
 * under other ids, in an organization of their own) upserted into one ProfileShard through Miniflare's
 * binding proxy, then 5 pages of 5,000 read back by id; the median wall time and workerd CPU of each
 * call (the proxy's decoding in workerd included: an upper bound of the object's own work).
 */
async function shardCapacity(worker: LocalWorker, ndjson: string): Promise<ShardCapacity> {
  const ns = await worker.miniflare.getDurableObjectNamespace('SHARDS', 'edge-export');
  const shard = ns.get(ns.idFromName('bench-capacity/s0')) as unknown as ShardStore;
  const lines: string[] = [];
  for await (const l of createInterface(createReadStream(ndjson))) {
    lines.push(l);
    if (lines.length === BATCH) break;
  }
  const timed = async (call: () => Promise<unknown>) => {
    const cpu0 = cpuSeconds(captured.pid.value);
    const t0 = performance.now();
    await call();
    return { ms: performance.now() - t0, cpu: cpuSeconds(captured.pid.value) - cpu0 };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const writes: { ms: number; cpu: number }[] = [];
  for (let b = 0; b < 5; b++) {
    const batch = lines.map((l) => {
      const p = JSON.parse(l) as { id: string; identities: unknown; attributes: unknown; updatedAt: string };
      return { id: `c${b}-${p.id}`, json: JSON.stringify({ identities: p.identities, attributes: p.attributes }), updatedAt: p.updatedAt };
    });
    writes.push(await timed(() => shard.upsertProfiles('bench-capacity', batch)));
  }
  const reads: { ms: number; cpu: number }[] = [];
  let after: string | null = null;
  for (let k = 0; k < 5; k++) {
    let page: ShardProfile[] = [];
    reads.push(
      await timed(async () => {
        page = await shard.profiles('bench-capacity', { from: 0, to: SHARD_BUCKETS }, { after, through: null }, 5000);
      }),
    );
    if (page.length !== 5000) throw new Error(`shard capacity: a page of ${page.length} profiles, 5,000 expected`);
    after = page.at(-1)!.id;
  }
  return {
    writeMs: median(writes.map((w) => w.ms)),
    writeCpu: median(writes.map((w) => w.cpu)),
    readMs: median(reads.map((r) => r.ms)),
    readCpu: median(reads.map((r) => r.cpu)),
  };
}

type D1 = Awaited<ReturnType<LocalWorker['miniflare']['getD1Database']>>;

/** The most bytes the organization's spilled runs hold in D1 at one time until `until` settles, sampled every second. */
async function peakSpill(db: D1, orgId: string, until: Promise<unknown>): Promise<number> {
  let done = false;
  const settled = until.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  let peak = 0;
  while (!done) {
    const row = await db
      .prepare('SELECT coalesce(sum(length(CAST(data AS BLOB))), 0) AS bytes FROM export_spill WHERE org_id = ?')
      .bind(orgId)
      .first<{ bytes: number }>();
    peak = Math.max(peak, row?.bytes ?? 0);
    await Promise.race([settled, new Promise((r) => setTimeout(r, 1000))]);
  }
  return peak;
}

async function runExport(ctx: Context, api: Api, db: D1, orgId: string, flowId: string, kind: Kind, shards: number, consumers: number, tick: () => Promise<void>): Promise<ExportFigures> {
  const load = loadavg()[0]!;
  const measuring = measuredRun(api, db, flowId, tick, captured);
  const [m, peakSpillBytes] = await Promise.all([measuring, peakSpill(db, orgId, measuring)]);
  // Shard calls: a map task's are its result's `read.requests` (one task an invocation); the plan's, one `split` a shard.
  const taskCalls = await db
    .prepare("SELECT max(json_extract(result, '$.read.requests')) AS calls FROM run_tasks WHERE run_id = ?")
    .bind(m.run.id)
    .first<{ calls: number | null }>();
  const keys = (m.run.files as { key: string }[]).map((f) => f.key).filter((k) => !k.includes('/manifest-'));
  const files = await download(ctx.s3, BUCKET, keys, await mkdtemp(join(tmpdir(), 'bench-sharded-files-')));
  const got = await exportedRows(files, 'csv');
  await Promise.all(files.map((f) => rm(f, { force: true })));
  const checked =
    kind === 'full'
      ? difference(ctx.want.members, got.map((r) => `${r.id}|${r.email}|${r.country}|${r.score}`))
      : difference(ctx.want.winners, got.map((r) => `${r.email}|${r.id}`));
  return {
    shards,
    consumers,
    kind,
    members: got.length,
    seconds: m.seconds,
    tasks: m.tasks,
    claims: m.claims,
    invocations: m.invocations.length,
    taskInvocations: m.taskInvocations,
    // Two consumers: invocations overlap, so the CPU between two lines is not one invocation's.
    maxCpu: consumers === 1 && m.perInvocationCpu.length > 0 ? Math.max(...m.perInvocationCpu) : undefined,
    meanCpu: m.cpu / Math.max(1, m.invocations.length),
    cpuShare: m.cpu / m.seconds,
    maxQueries: m.maxQueries,
    maxShardCalls: shards > 0 ? Math.max(shards, taskCalls?.calls ?? 0) : undefined,
    shardCalls: m.run.fanout?.requests,
    maxInvocationMs: m.maxInvocationMs,
    maxInFlight: m.maxInFlight,
    phases: phasesOf(m, consumers),
    peakSpillBytes,
    peakHeapMiB: m.heap.peak,
    liveHeapMiB: m.heap.live,
    checked: checked === '' ? 'exact' : checked,
    load,
  };
}

/** The run's invocations by step: the first is the plan, a task's names `run#seq`, the others reduce. */
function phasesOf(m: MeasuredRun, consumers: number): ExportFigures['phases'] {
  const step = (i: number): 'plan' | 'map' | 'reduce' => (m.invocations[i]!.runs.every((r) => r.includes('#')) ? 'map' : i === 0 ? 'plan' : 'reduce');
  const phases = {} as ExportFigures['phases'];
  for (const name of ['plan', 'map', 'reduce'] as const) {
    const mine = m.invocations.map((inv, i) => ({ inv, i })).filter(({ i }) => step(i) === name);
    const cpus = mine.map(({ i }) => m.perInvocationCpu[i] ?? 0);
    const exact = consumers === 1 && m.perInvocationCpu.length === m.invocations.length;
    phases[name] = {
      invocations: mine.length,
      ms: mine.reduce((sum, { inv }) => sum + inv.ms, 0),
      maxMs: Math.max(0, ...mine.map(({ inv }) => inv.ms)),
      maxQueries: Math.max(0, ...mine.map(({ inv }) => inv.d1Queries)),
      cpu: exact ? cpus.reduce((a, b) => a + b, 0) : undefined,
      maxCpu: exact ? Math.max(0, ...cpus) : undefined,
    };
  }
  return phases;
}

const line = (f: ExportFigures) =>
  [
    `${f.shards} shards, ${f.consumers} consumer${f.consumers > 1 ? 's' : ''}, ${f.kind}: ${f.members} members in ${f.seconds.toFixed(1)} s (${Math.round(profiles / f.seconds)} profiles/s)`,
    `${f.tasks} tasks (${f.claims} claims), ${f.invocations} invocations (${f.taskInvocations} ran a task, ≤${f.maxInFlight} in flight)`,
    `CPU ${f.maxCpu === undefined ? '' : `≤${f.maxCpu.toFixed(2)} s/invocation, `}mean ${f.meanCpu.toFixed(2)}, workerd busy ${(100 * f.cpuShare).toFixed(0)} % of the wall time`,
    `≤${f.maxQueries} D1 queries + shard calls${f.maxShardCalls === undefined ? '' : ` (shard calls ≤${f.maxShardCalls}, ${f.shardCalls} in all)`} and ≤${(f.maxInvocationMs / 1000).toFixed(1)} s per invocation`,
    `spilled runs ≤${mib(f.peakSpillBytes)} MiB in D1, heap ≤${f.peakHeapMiB.toFixed(0)} MiB at a collection, ≤${f.liveHeapMiB.toFixed(0)} MiB live`,
    f.checked,
  ].join(', ');

const loadAtStart = loadavg();
const startedAt = new Date();
const t0 = performance.now();
const files = await shardedFiles(DATA, profiles);
print(`profiles: ${files.profiles} in ${mib(files.ndjsonBytes)} MiB of NDJSON (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
const reference = performance.now();
const want = await shardedExpected(files);
const duckSeconds = (performance.now() - reference) / 1000;
print(`DuckDB: ${want.members.size} members, ${want.winners.size} dedup winners of ${want.profiles} profiles (${duckSeconds.toFixed(1)} s, both queries)`);

const moto = await startMoto();
let failed: unknown;
try {
  await createBucket(moto, BUCKET);
  const writeUser = await createUser(moto, 'export-writer', permissionPolicy({ bucket: BUCKET, folderPath: '' }));
  await moto.enableAuth();
  const s3 = s3Reader(moto);
  const ctx: Context = { moto, s3, writer: { accessKeyId: writeUser.accessKeyId, secretAccessKey: writeUser.secretAccessKey }, files, want };
  for (const shards of shardCounts) {
    // --restart-each: every export on a Worker of its own (its own ingest), not one after another on one.
    if (!restartEach) await benchShards(ctx, shards, consumerCounts, exportsRun);
    else for (const consumers of consumerCounts) for (const kind of exportsRun) await benchShards(ctx, shards, [consumers], [kind]);
  }
  s3.destroy();
} catch (error) {
  failed = error;
} finally {
  await moto.stop();
}

const report = reportOf();
print(report);
if (argv.includes('--write') && !failed) writeSection(join(ROOT, 'docs/BENCHMARKS.md'), report, section);
if (failed) {
  print(failed);
  process.exitCode = 1;
}

/**
 * Every export's largest invocation against the budgets docs/LIMITS.md documents: CPU (30 s by
 * default; wrangler.toml sets 60 s), the 1,000 queries D1 allows (shard calls count in the same
 * budget), the 10,000 subrequests (a shard call is one), 128 MB of heap, and exact members.
 */
function budgets(): string[] {
  const most = (f: (r: ExportFigures) => number | undefined) => Math.max(0, ...exports.map((r) => f(r) ?? 0));
  const cpu = most((r) => r.maxCpu);
  const queries = most((r) => r.maxQueries);
  const calls = most((r) => r.maxShardCalls);
  const heap = most((r) => r.peakHeapMiB);
  const wall = most((r) => r.maxInvocationMs) / 1000;
  const exact = exports.filter((r) => r.checked === 'exact').length;
  const verdict = (ok: boolean) => (ok ? 'within' : '**OVER**');
  return [
    'Budgets (docs/LIMITS.md), the largest invocation of any export above:',
    '',
    `- CPU: ${cpu.toFixed(2)} s (one consumer; workerd's, the shards and D1 included) — ${verdict(cpu <= 30)} the 30 s default (\`wrangler.toml\`: 60 s)`,
    `- D1 queries + shard calls: ${queries} — ${verdict(queries <= 1000)} the 1,000 an invocation may make`,
    `- shard calls (Durable Object RPCs, subrequests): ${calls} — ${verdict(calls <= 10_000)} the 10,000 subrequests`,
    `- Worker heap: ${heap.toFixed(0)} MiB at a collection — ${verdict(heap < 128)} the 128 MB cap (V8 aborts workerd past it: none did)`,
    `- wall time: ${wall.toFixed(1)} s — ${verdict(wall <= 900)} a queue consumer's 15 min`,
    `- members: ${exact} of ${exports.length} exports exactly DuckDB's`,
  ];
}

function reportOf(): string {
  const fmt = (x: number | undefined, d = 1) => (x === undefined ? '–' : x.toFixed(d));
  const n = (x: number | undefined) => (x === undefined ? '–' : x.toLocaleString('en'));
  const command = `npm run bench -- sharded ${argv.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`.trim();
  const layout = (shards: number) => (shards === 0 ? 'D1 (no shards)' : String(shards));
  return [
    `${section === 'sharded' ? '##' : '###'} ${title} (bench/sharded.ts)`,
    '',
    `\`${command}\` — ${startedAt.toISOString()}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; load (1/5/15 min) ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at the start, ${loadavg().map((l) => l.toFixed(2)).join(', ')} at the end.`,
    '',
    `Profiles: ${profiles.toLocaleString('en')} (bench/sharded-data.ts: ${mib(files.ndjsonBytes)} MiB of NDJSON, ~30 % gold, scores 0–999, 15 % of the emails shared by two profiles). Audience \`${RULE}\`; mapping id, email, country, score, CSV; dedup by email (latest \`updatedAt\`, then smallest id). Reference: DuckDB's SQL over its Parquet copy of the NDJSON, ${duckSeconds.toFixed(1)} s for both answers.`,
    `Worker: workerd via Miniflare (as \`npm start\`), every isolate capped at ${heapCap > 0 ? `${heapCap} MB (\`--max-heap-size\`)` : 'V8’s default heap'}; D1 and the shards' SQLite persisted to a temporary folder; moto with auth enforced. Consumers: bench/queue-router.ts (tasks alternate between 2 queues whose brokers deliver concurrently; one workerd process, one thread). CPU per invocation: workerd's CPU (the Worker, the shards and the D1 simulator) between consecutive invocation log lines, measurable only when invocations follow each other (1 consumer). "workerd busy": its CPU over the run's wall time (1 core = 100 %).`,
    '',
    '| shards | profiles | ingest s | profiles/s | batches of 10,000 in flight | workerd CPU s | bytes/profile stored | load at start |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...ingests.map(
      (i) =>
        `| ${layout(i.shards)} | ${n(i.profiles)} | ${fmt(i.seconds)} | ${n(Math.round(i.profiles / i.seconds))} | ${inFlight} | ${fmt(i.cpu)} | ${i.bytesPerProfile === undefined ? '–' : Math.round(i.bytesPerProfile)} | ${fmt(i.load, 2)} |`,
    ),
    '',
    ...(capacities.size === 0
      ? []
      : [
          'One shard alone — its Durable Object called from the bench through Miniflare\'s binding proxy, no Worker: median of 5 calls, workerd CPU per call (the proxy\'s decoding included, so an upper bound of the object\'s own work):',
          '',
          '| shards in the layout | upsert of 10,000 new profiles: ms (CPU s) | profiles/s one shard takes (by CPU) | page of 5,000 read by id: ms (CPU s) | profiles/s one shard serves (by CPU) |',
          '|---|---:|---:|---:|---:|',
          ...[...capacities].map(
            ([shards, c]) =>
              `| ${shards} | ${fmt(c.writeMs, 0)} (${fmt(c.writeCpu, 2)}) | ${n(Math.round(BATCH / Math.max(0.01, c.writeCpu)))} | ${fmt(c.readMs, 0)} (${fmt(c.readCpu, 2)}) | ${n(Math.round(5000 / Math.max(0.01, c.readCpu)))} |`,
          ),
          '',
        ]),
    ...(exports.length === 0
      ? []
      : [
          '| shards | consumers | export | members | s | profiles/s | members/s | tasks (claims) | invocations (of them tasks) | most in flight | CPU s/invocation max (mean) | workerd busy | D1 queries + shard calls, max/invocation | shard calls max/invocation (run) | s max/invocation | spilled runs in D1, MiB at most | heap MiB (at a collection / live) | content |',
          '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
          ...exports.map(
            (r) =>
              `| ${layout(r.shards)} | ${r.consumers} | ${r.kind} | ${n(r.members)} | ${fmt(r.seconds)} | ${n(Math.round(profiles / r.seconds))} | ${n(Math.round(r.members / r.seconds))} | ${r.tasks} (${r.claims}) | ${r.invocations} (${r.taskInvocations}) | ${r.maxInFlight} | ${r.maxCpu === undefined ? '–' : fmt(r.maxCpu, 2)} (${fmt(r.meanCpu, 2)}) | ${(100 * r.cpuShare).toFixed(0)} % | ${r.maxQueries} | ${r.maxShardCalls === undefined ? '–' : `${n(r.maxShardCalls)} (${n(r.shardCalls)})`} | ${fmt(r.maxInvocationMs / 1000)} | ${mib(r.peakSpillBytes)} | ${fmt(r.peakHeapMiB, 0)} / ${r.liveHeapMiB ? fmt(r.liveHeapMiB, 0) : '–'} | ${r.checked} |`,
          ),
          '',
          'By step (wall time from the Worker\'s invocation lines; CPU — workerd\'s between consecutive lines — only with one consumer):',
          '',
          '| shards | consumers | export | plan: ms (CPU s), queries | map: tasks, wall ms mean / max | map: CPU s mean / max | map: queries max | reduce: invocations, wall ms (CPU s) | reduce: queries max |',
          '|---|---:|---|---:|---:|---:|---:|---:|---:|',
          ...exports.map((r) => {
            const { plan, map, reduce } = r.phases;
            const per = (x: number | undefined, k: number) => (x === undefined ? '–' : fmt(x / Math.max(1, k), 2));
            return `| ${layout(r.shards)} | ${r.consumers} | ${r.kind} | ${n(plan.ms)} (${fmt(plan.cpu, 2)}), ${plan.maxQueries} | ${map.invocations}, ${n(Math.round(map.ms / Math.max(1, map.invocations)))} / ${n(map.maxMs)} | ${per(map.cpu, map.invocations)} / ${fmt(map.maxCpu, 2)} | ${map.maxQueries} | ${reduce.invocations}, ${n(reduce.ms)} (${fmt(reduce.cpu, 2)}) | ${reduce.maxQueries} |`;
          }),
          '',
          ...budgets(),
          '',
          `"content": *exact* — the members (id, email, country, score; for dedup email and id), read back from the exported CSV files with DuckDB, are exactly DuckDB's answer over the same profiles (${n(want.members.size)} members, ${n(want.winners.size)} dedup winners).`,
        ]),
    failed ? `\nThe run stopped with an error: ${String(failed).split('\n')[0]}` : '',
  ].join('\n');
}
