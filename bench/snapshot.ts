/**
 * Snapshot sources at size (issue 21): a profile snapshot as Parquet in moto, read where it is by
 * the CLI and by the Worker, against DuckDB's answer over the same files.
 *
 * - DuckDB writes N profiles as several Parquet files with row groups of ~100k rows
 *   (bench/snapshot-data.ts: the columns the audience uses, and wide text columns it does not), kept
 *   in bench/.data and reused; they are uploaded to moto with auth enforced, readable by a
 *   least-privilege reader (s3:ListBucket, s3:GetObject).
 * - Sources read moto through a counting proxy (test/harness/counting-proxy.ts); destinations write to moto
 *   directly: the proxy's counts are the snapshot reads (bytes fetched against the files' size: the
 *   column projection).
 * - The audience (gold with a score ≥ 500, ~15 %) is exported plain and deduplicated by email:
 *   (a) by the CLI (`edge-export export`, `source.path: s3://…/`, a Node process: wall time, peak
 *   RSS, CPU); (b) by the Worker in workerd started by Miniflare as `npm start` does, every isolate
 *   capped at `--heap` MB, through `POST /v1/sources` and an audience with `sourceId`, fanned out over
 *   the queue: tasks per run (D1 `run_tasks`), queue invocations, per invocation the D1 queries and
 *   wall time the Worker logs and workerd's CPU between consecutive invocation lines (Miniflare
 *   delivers one batch at a time), the Worker isolate's heap from `--trace-gc`.
 * - Every export's files are read back with DuckDB and their members compared with DuckDB's
 *   `read_parquet` over the snapshot with the same filter (and the same dedup: latest updatedAt,
 *   then smallest id).
 *
 * Run: npm run bench -- snapshot [--rows 200000] [--files N] [--row-group 100000]
 *        [--rows-per-task 2×row-group] [--heap 128] [--paths reader,cli,worker] [--exports full,dedup]
 *        [--repeat 1] [--write]
 *   --files defaults to one file per million rows (at least 2); --row-group is DuckDB's
 *   ROW_GROUP_SIZE (smaller ones give small snapshots several row groups per file); --write puts
 *   the figures in docs/BENCHMARKS.md (section "snapshot").
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { compileRule } from '../src/core/rules/index.ts';
import { planSnapshot, projection, readUnit, s3ObjectStore, snapshotProfiles } from '../src/core/snapshot/index.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import { hostRegistry } from '../src/service/export-service.ts';
import { exportedRows } from './audiences-data.ts';
import { cappedHarness } from './miniflare-v8.ts';
import { cpuSeconds, descendantPid } from './proc.ts';
import { type CountingProxy, startCountingProxy } from '../test/harness/counting-proxy.ts';
import { writeSection } from './report.ts';
import { MAPPING, PROJECTED, RULE, type SnapshotExpected, type SnapshotFiles, snapshotExpected, snapshotFiles } from './snapshot-data.ts';
import { type Api, captureWorkerd, client, csvDestination, dataflowsByKind, difference, download, measuredRun, processOutput } from './worker-api.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const rows = Number(arg('--rows', '200000'));
const fileCount = Number(arg('--files', String(Math.max(2, Math.ceil(rows / 1_000_000)))));
const rowGroup = Number(arg('--row-group', '100000'));
const rowsPerTask = Number(arg('--rows-per-task', String(2 * rowGroup)));
const heapCap = Number(arg('--heap', '128'));
const paths = arg('--paths', 'reader,cli,worker').split(',');
const exportsRun = arg('--exports', 'full,dedup').split(',') as Kind[];
const repeat = Math.max(1, Number(arg('--repeat', '1')));
for (const [name, n] of Object.entries({ '--rows': rows, '--files': fileCount, '--row-group': rowGroup, '--rows-per-task': rowsPerTask }))
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got ${arg(name, '')}`);
const ROOT = new URL('../', import.meta.url).pathname;
const DATA = join(ROOT, 'bench/.data');
const SOURCE_BUCKET = 'snapshots';
const PREFIX = `profiles-${rows}-${rowGroup}/`;
const EXPORT_BUCKET = 'exports';

// Before Miniflare is loaded: every isolate of its workerd gets the cap, and prints its collections.
const { startLocalWorker, createBucket, createUser, s3Reader, startMoto, permissionPolicy } = await cappedHarness(heapCap);
type Moto = Awaited<ReturnType<typeof startMoto>>;
type S3 = ReturnType<typeof s3Reader>;

/** workerd's output (Miniflare pipes it to console.log): GC and invocation lines kept, the rest printed. */
const captured = captureWorkerd();
const { lines: workerdLines, print } = captured;

type Kind = 'full' | 'dedup';

/** What the sources fetched through the proxy since it was last emptied: GETs (ranged or not, listings included) and their body bytes. */
function fetchedSince(proxy: CountingProxy): { bytes: number; gets: number; ranged: number } {
  const gets = proxy.seen.filter((r) => r.method === 'GET');
  return { bytes: gets.reduce((sum, r) => sum + r.bytes, 0), gets: gets.length, ranged: gets.filter((r) => r.range).length };
}
interface Figures {
  path: 'DuckDB (local files)' | 'reader' | 'CLI' | 'Worker';
  kind: Kind;
  /** Members exported (or selected, for DuckDB). */
  members: number;
  seconds: number;
  /** Bytes and requests the reads fetched through the proxy (CLI, Worker). */
  fetched?: { bytes: number; gets: number; ranged: number };
  /** Worker: tasks of the run (run_tasks rows) and claims of them (attempts). */
  tasks?: number;
  claims?: number;
  invocations?: number;
  /** Of them, the invocations that ran a task (the map step); the others planned or reduced. */
  taskInvocations?: number;
  maxCpu?: number;
  meanCpu?: number;
  maxQueries?: number;
  maxInvocationMs?: number;
  peakHeapMiB?: number;
  liveHeapMiB?: number;
  /** reader: the plan's units (the Worker's tasks), and the bytes readUnit itself counted. */
  units?: number;
  /** CPU seconds moto spent during the run (it reads a whole object for every ranged GET). */
  motoCpu?: number;
  /** CLI: the process's peak RSS and CPU (user + system), from /usr/bin/time. */
  rssMiB?: number;
  cpu?: number;
  checked: string;
}
const results: Figures[] = [];

const line = (f: Figures) =>
  [
    `${f.path} ${f.kind}: ${f.members} members in ${f.seconds.toFixed(1)} s (${Math.round(rows / f.seconds)} snapshot rows/s)`,
    f.fetched && `fetched ${mib(f.fetched.bytes)} MiB in ${f.fetched.gets} GETs (${f.fetched.ranged} ranged)`,
    f.units !== undefined && `${f.units} units`,
    f.tasks !== undefined && `${f.tasks} tasks (${f.claims} claims), ${f.invocations} invocations (${f.taskInvocations} ran a task)`,
    f.maxCpu !== undefined && `CPU ≤${f.maxCpu.toFixed(2)} s/invocation (mean ${f.meanCpu?.toFixed(2)})`,
    f.maxQueries !== undefined && `≤${f.maxQueries} D1 queries and ≤${((f.maxInvocationMs ?? 0) / 1000).toFixed(1)} s per invocation`,
    f.peakHeapMiB !== undefined && `heap ≤${f.peakHeapMiB.toFixed(0)} MiB at a collection, ≤${f.liveHeapMiB?.toFixed(0)} MiB live`,
    f.motoCpu !== undefined && `moto CPU ${f.motoCpu.toFixed(1)} s`,
    f.rssMiB !== undefined && `peak RSS ${f.rssMiB} MiB, CPU ${f.cpu?.toFixed(1)} s`,
    f.checked,
  ]
    .filter(Boolean)
    .join(', ');
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** The members of exported files (downloaded to `dir`) against DuckDB's answer: '' when equal. */
async function check(s3: S3, keys: string[], dir: string, kind: Kind, want: SnapshotExpected): Promise<{ members: number; checked: string }> {
  const files = await download(s3, EXPORT_BUCKET, keys, dir);
  const got = await exportedRows(files, 'csv');
  const checked =
    kind === 'full'
      ? difference(want.members, got.map((r) => `${r.id}|${r.email}|${r.country}|${r.score}`))
      : difference(want.winners, got.map((r) => `${r.email}|${r.id}`));
  return { members: got.length, checked: checked === '' ? 'exact' : checked };
}

const mappingOf = (kind: Kind) => (kind === 'dedup' ? { ...MAPPING, dedup: { identity: 'email' } } : MAPPING);

/**
 * The core reader alone, in this process (no export): planSnapshot, projection and readUnit over
 * every unit in turn through the proxy, the rows turned into profiles and the rule evaluated. Its
 * members must be DuckDB's; its bytes are what any host fetches for the same plan and projection.
 */
async function runReader(ctx: Context): Promise<Figures> {
  const platform = nodePlatform();
  const location = {
    type: 's3' as const,
    bucket: SOURCE_BUCKET,
    prefix: PREFIX,
    region: ctx.moto.region,
    endpoint: ctx.proxy.endpoint,
    auth: { method: 'accessKey', ...ctx.reader },
  };
  ctx.proxy.seen.length = 0;
  const t0 = performance.now();
  const store = s3ObjectStore(location, { platform, registry: hostRegistry(platform) });
  const source = { format: 'parquet' as const, prefix: PREFIX, rowsPerTask };
  const plan = await planSnapshot(store, source);
  const columns = projection(plan.schema, {}, { rules: [RULE], mappings: [mappingOf('dedup')] });
  const inAudience = compileRule(RULE);
  const now = new Date();
  const stats = { bytesFetched: 0, requests: 0, rows: 0 };
  const found: string[] = [];
  for (const unit of plan.units) {
    const reader = snapshotProfiles(readUnit(store, plan, unit, columns, stats), {}).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      for (const p of next.value) {
        if (inAudience(p, now)) found.push(`${p.id}|${p.identities.email?.[0]}|${p.attributes.country}|${p.attributes.score}`);
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const fetched = fetchedSince(ctx.proxy);
  if (stats.rows !== rows) throw new Error(`reader: ${stats.rows} rows read, the snapshot has ${rows}`);
  const checked = difference(ctx.want.members, found);
  print(`reader: projected columns ${columns.join(', ')}; readUnit counted ${mib(stats.bytesFetched)} MiB in ${stats.requests} reads`);
  return {
    path: 'reader',
    kind: 'full',
    members: found.length,
    seconds,
    fetched,
    units: plan.units.length,
    checked: checked === '' ? 'exact' : checked,
  };
}

/** The CLI's export of the audience from `s3://snapshots/profiles-N/` through the proxy. */
async function runCli(ctx: Context, kind: Kind): Promise<Figures> {
  const folder = `cli/${rows}/${kind}/`;
  const config = join(ctx.state, `cli-${kind}.json`);
  await writeFile(
    config,
    JSON.stringify({
      destination: { id: 'cli', ...csvDestination(ctx.moto, ctx.writer, EXPORT_BUCKET, folder) },
      source: {
        path: `s3://${SOURCE_BUCKET}/${PREFIX}`,
        format: 'parquet',
        s3: { region: ctx.moto.region, endpoint: ctx.proxy.endpoint, auth: { method: 'accessKey', ...ctx.reader } },
      },
      audience: { id: 'snap', name: 'snap', rule: RULE },
      mapping: mappingOf(kind),
    }),
  );
  ctx.proxy.seen.length = 0;
  const t0 = performance.now();
  // GNU time prints the child's peak RSS (KiB) and CPU on the last line of stderr.
  const cli = [process.execPath, join(ROOT, 'bin/edge-export.js'), 'export', '--config', config, '--no-progress'];
  const { code, out, err } = await processOutput('/usr/bin/time', ['-f', 'TIME %M %U %S', ...cli]);
  const seconds = (performance.now() - t0) / 1000;
  const fetched = fetchedSince(ctx.proxy);
  if (code !== 0) throw new Error(`CLI ${kind}: exit ${code}\n${err}\n${out}`);
  const [rss, user, system] = (/TIME (\d+) ([\d.]+) ([\d.]+)/.exec(err) ?? []).slice(1).map(Number);
  const summary = JSON.parse(out) as { files: { key: string }[] };
  const keys = summary.files.map((f) => f.key).filter((k) => !k.includes('/manifest-'));
  const { members, checked } = await check(ctx.s3, keys, join(ctx.state, 'files', `cli-${kind}`), kind, ctx.want);
  return {
    path: 'CLI',
    kind,
    members,
    seconds,
    fetched,
    rssMiB: Math.round((rss ?? 0) / 1024),
    cpu: (user ?? 0) + (system ?? 0),
    checked,
  };
}

interface Context {
  /** moto's Python process (its CPU is counted per run). */
  motoPid: number | undefined;
  moto: Moto;
  proxy: CountingProxy;
  s3: S3;
  state: string;
  reader: { accessKeyId: string; secretAccessKey: string };
  writer: { accessKeyId: string; secretAccessKey: string };
  want: SnapshotExpected;
}

/** The Worker in workerd: a source, the audience on it, a dataflow per kind; runs them and measures. */
async function workerBench(ctx: Context): Promise<void> {
  const worker = await startLocalWorker(ROOT, ctx.state, 0, {
    inMemory: true,
    // Deliveries as Cloudflare makes them: one message per invocation, no batching delay.
    queue: { maxBatchSize: 1, maxBatchTimeout: 0, maxRetries: 3 },
  });
  captured.pid.value = descendantPid((c) => c.startsWith('workerd'));
  try {
    const admin = client(worker.url, worker.adminToken);
    const org = await admin('POST', '/admin/organizations', { name: 'Snapshot bench' });
    const api = client(worker.url, org.body.token);
    const source = await api('POST', '/sources', {
      name: 'bench snapshot',
      format: 'parquet',
      rowsPerTask,
      location: {
        type: 's3',
        bucket: SOURCE_BUCKET,
        prefix: PREFIX,
        region: ctx.moto.region,
        endpoint: ctx.proxy.endpoint,
        auth: { method: 'accessKey', ...ctx.reader },
      },
    });
    if (source.status !== 201) throw new Error(`POST /v1/sources: ${source.status} ${source.text.slice(0, 500)}`);
    const audience = await api('POST', '/audiences', { kind: 'rule', name: 'snap', rule: RULE, sourceId: source.body.id });
    if (audience.status !== 201) throw new Error(`POST /v1/audiences: ${audience.status} ${audience.text.slice(0, 500)}`);
    const flows = await dataflowsByKind(
      api,
      audience.body.id,
      exportsRun,
      (kind) => csvDestination(ctx.moto, ctx.writer, EXPORT_BUCKET, `worker/${rows}/${kind}/`),
      mappingOf,
      'snapshot',
    );
    const db = await worker.miniflare.getD1Database('DB');
    for (let i = 0; i < repeat; i++) {
      for (const kind of exportsRun) {
        await withMotoCpu(ctx, () => runWorker(ctx, api, db, flows.get(kind)!, kind, () => worker.tick()));
      }
    }
  } catch (error) {
    print(`workerd's last lines:\n${workerdLines.slice(-12).join('\n')}`);
    throw error;
  } finally {
    await worker.stop();
  }
}

type D1 = Awaited<ReturnType<Awaited<ReturnType<typeof startLocalWorker>>['miniflare']['getD1Database']>>;

async function runWorker(ctx: Context, api: Api, db: D1, flowId: string, kind: Kind, tick: () => Promise<void>): Promise<Figures> {
  ctx.proxy.seen.length = 0;
  const m = await measuredRun(api, db, flowId, tick, captured);
  const fetched = fetchedSince(ctx.proxy);
  const keys = (m.run.files as { key: string }[]).map((f) => f.key).filter((k) => !k.includes('/manifest-'));
  const { members, checked } = await check(ctx.s3, keys, join(ctx.state, 'files', m.run.id), kind, ctx.want);
  return {
    path: 'Worker',
    kind,
    members,
    seconds: m.seconds,
    fetched,
    tasks: m.tasks,
    claims: m.claims,
    invocations: m.invocations.length,
    taskInvocations: m.taskInvocations,
    maxCpu: Math.max(0, ...m.perInvocationCpu),
    meanCpu: m.cpu / Math.max(1, m.invocations.length),
    maxQueries: m.maxQueries,
    maxInvocationMs: m.maxInvocationMs,
    peakHeapMiB: m.heap.peak,
    liveHeapMiB: m.heap.live,
    checked,
  };
}

/** Runs one measured export and adds moto's CPU during it (downloading the exported files included). */
async function withMotoCpu(ctx: Context, measure: () => Promise<Figures>): Promise<Figures> {
  const cpu0 = cpuSeconds(ctx.motoPid);
  const figures = { ...(await measure()), motoCpu: cpuSeconds(ctx.motoPid) - cpu0 };
  results.push(figures);
  print(line(figures));
  return figures;
}

/** Uploads the snapshot's files under PREFIX with the admin's credentials (auth enforced). */
async function upload(s3: S3, files: SnapshotFiles): Promise<number> {
  const t0 = performance.now();
  for (const name of files.names) {
    await new Upload({
      client: s3,
      params: { Bucket: SOURCE_BUCKET, Key: `${PREFIX}${name}`, Body: createReadStream(join(files.dir, name)) },
      partSize: 16 * 1024 * 1024,
      queueSize: 2,
    }).done();
  }
  return (performance.now() - t0) / 1000;
}

/**
 * Before the exports: the reader's credentials through the proxy fetch each file's last 8 bytes
 * (the footer length and `PAR1`), and the proxy must have counted exactly those bytes.
 */
async function proxyCheck(proxy: CountingProxy, moto: Moto, reader: { accessKeyId: string; secretAccessKey: string }, files: SnapshotFiles): Promise<void> {
  const s3 = new S3Client({ endpoint: proxy.endpoint, region: moto.region, forcePathStyle: true, credentials: reader });
  try {
    for (const name of files.names) {
      const got = await s3.send(new GetObjectCommand({ Bucket: SOURCE_BUCKET, Key: `${PREFIX}${name}`, Range: 'bytes=-8' }));
      const tail = await got.Body!.transformToByteArray();
      if (new TextDecoder().decode(tail.subarray(4)) !== 'PAR1') throw new Error(`${name}: no Parquet footer through the proxy`);
    }
  } finally {
    s3.destroy();
  }
  const counts = fetchedSince(proxy);
  if (counts.bytes !== 8 * files.names.length || counts.ranged !== files.names.length)
    throw new Error(`counting proxy: ${JSON.stringify(counts)} for ${files.names.length} reads of 8 bytes`);
  proxy.seen.length = 0;
}

const loadAtStart = loadavg();
const startedAt = new Date();
const t0 = performance.now();
const files = await snapshotFiles(DATA, rows, fileCount, rowGroup);
print(`snapshot: ${files.names.length} files, ${mib(files.bytes)} MiB, ${rows} rows (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
const reference = performance.now();
const want = await snapshotExpected(files);
const duckSeconds = (performance.now() - reference) / 1000;
print(`DuckDB: ${want.members.size} members, ${want.winners.size} dedup winners, row groups per file ${want.rowGroups.join(', ')} (${duckSeconds.toFixed(1)} s, both queries)`);

const moto = await startMoto();
let proxy: CountingProxy | undefined;
let state: string | undefined;
let failed: unknown;
try {
  await createBucket(moto, SOURCE_BUCKET);
  await createBucket(moto, EXPORT_BUCKET);
  const readUser = await createUser(moto, 'snapshot-reader', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${SOURCE_BUCKET}` },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${SOURCE_BUCKET}/*` },
    ],
  });
  const writeUser = await createUser(moto, 'export-writer', permissionPolicy({ bucket: EXPORT_BUCKET, folderPath: '' }));
  await moto.enableAuth();
  const s3 = s3Reader(moto);
  print(`uploaded to moto in ${(await upload(s3, files)).toFixed(1)} s`);
  proxy = await startCountingProxy(moto.endpoint);
  await proxyCheck(proxy, moto, readUser, files);
  state = await mkdtemp(join(tmpdir(), 'bench-snapshot-'));
  const ctx: Context = {
    motoPid: descendantPid((c) => c.startsWith('python')),
    moto,
    proxy,
    s3,
    state,
    reader: { accessKeyId: readUser.accessKeyId, secretAccessKey: readUser.secretAccessKey },
    writer: { accessKeyId: writeUser.accessKeyId, secretAccessKey: writeUser.secretAccessKey },
    want,
  };
  if (paths.includes('reader')) {
    await withMotoCpu(ctx, () => runReader(ctx));
  }
  if (paths.includes('cli')) {
    for (let i = 0; i < repeat; i++) {
      for (const kind of exportsRun) {
        await withMotoCpu(ctx, () => runCli(ctx, kind));
      }
    }
  }
  if (paths.includes('worker')) await workerBench(ctx);
  s3.destroy();
} catch (error) {
  failed = error;
} finally {
  await proxy?.stop();
  await moto.stop();
  if (state) await rm(state, { recursive: true, force: true });
}

const report = reportOf();
print(report);
if (argv.includes('--write') && !failed) writeSection(join(ROOT, 'docs/BENCHMARKS.md'), report, 'snapshot');
if (failed) {
  print(failed);
  process.exitCode = 1;
}

/** The fastest run of each path and kind (the machine is shared). */
function fastest(): Figures[] {
  const best = new Map<string, Figures>();
  for (const r of results) {
    const key = `${r.path} ${r.kind}`;
    const seen = best.get(key);
    if (!seen || r.seconds < seen.seconds) best.set(key, r);
  }
  return [...best.values()];
}

function reportOf(): string {
  const fmt = (x: number | undefined, d = 1) => (x === undefined ? '' : x.toFixed(d));
  const n = (x: number | undefined) => (x === undefined ? '' : x.toLocaleString('en'));
  const duck: Figures[] = exportsRun.map((kind) => ({
    path: 'DuckDB (local files)',
    kind,
    members: kind === 'full' ? want.members.size : want.winners.size,
    seconds: duckSeconds,
    checked: 'the reference',
  }));
  const rowsOut = [...duck, ...fastest()];
  const command = `npm run bench -- snapshot ${argv.join(' ')}`.trim();
  return [
    '## Snapshot sources: an audience exported from a Parquet snapshot in S3 (bench/snapshot.ts)',
    '',
    `\`${command}\` — ${startedAt.toISOString()}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, shared with other engineers: load (1/5/15 min) ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} at the start, ${loadavg().map((l) => l.toFixed(2)).join(', ')} at the end.`,
    '',
    `Snapshot: ${rows.toLocaleString('en')} profiles written by DuckDB as ${files.names.length} Parquet files (row groups per file: ${want.rowGroups.join(', ')}; snappy), ${mib(files.bytes)} MiB in moto with auth enforced. 10 columns: the ${PROJECTED.length} an export of the audience needs (${PROJECTED.map((c) => `\`${c}\``).join(', ')}) and 4 it does not (\`lastSeen\`, wide text \`bio\`, \`address\`, \`notes\`). Audience: \`${RULE}\`; mapping id, email, country, score, CSV; dedup by email (latest \`updatedAt\`, then smallest id). Sources read through a counting proxy in front of moto (response bytes of every GET: footers, column chunks, listings); destinations write to moto directly.`,
    `Worker: workerd via Miniflare (as \`npm start\`), every isolate capped at ${heapCap > 0 ? `${heapCap} MB (\`--max-heap-size\`)` : 'V8’s default heap'}, D1 in memory, one queue consumer (Miniflare's broker delivers one batch at a time: it cannot run 2 consumers concurrently), \`rowsPerTask\` ${rowsPerTask.toLocaleString('en')}. CPU per invocation: workerd's CPU (the Worker and the D1 simulator) between consecutive invocation log lines. DuckDB: \`read_parquet\` over the local files, both queries (members and dedup winners) together. moto CPU: its Python process during the run — moto reads an object whole for every ranged GET, then slices it — the bench's download of the exported files included.`,
    '',
    '| path | export | members | s | snapshot rows/s | fetched MiB / file MiB | GETs (ranged) | tasks (claims) | invocations (of them tasks) | CPU s/invocation max (mean) | D1 queries max/invocation | s max/invocation | heap MiB (at a collection / live) | CLI peak RSS MiB, CPU s | moto CPU s | content |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rowsOut.map(
      (r) =>
        `| ${r.path} | ${r.kind} | ${n(r.members)} | ${fmt(r.seconds)} | ${n(Math.round(rows / r.seconds))} | ${r.fetched ? `${mib(r.fetched.bytes)} / ${mib(files.bytes)} (${((100 * r.fetched.bytes) / files.bytes).toFixed(1)} %)` : ''} | ${r.fetched ? `${r.fetched.gets} (${r.fetched.ranged})` : ''} | ${r.tasks === undefined ? (r.units === undefined ? '' : `${r.units} units`) : `${r.tasks} (${r.claims})`} | ${r.invocations === undefined ? '' : `${n(r.invocations)} (${n(r.taskInvocations)})`} | ${r.maxCpu === undefined ? '' : `${fmt(r.maxCpu, 2)} (${fmt(r.meanCpu, 2)})`} | ${n(r.maxQueries)} | ${r.maxInvocationMs === undefined ? '' : fmt(r.maxInvocationMs / 1000)} | ${r.peakHeapMiB === undefined ? '' : `${fmt(r.peakHeapMiB, 0)} / ${r.liveHeapMiB ? fmt(r.liveHeapMiB, 0) : '–'}`} | ${r.rssMiB === undefined ? '' : `${r.rssMiB}, ${fmt(r.cpu)}`} | ${fmt(r.motoCpu)} | ${r.checked} |`,
    ),
    '',
    `${paths.includes('reader') ? '"reader": the core reader alone in the bench\'s Node process, no export — `planSnapshot`, `projection` and `readUnit` over every unit in turn, rows turned into profiles and the rule evaluated (the work every host\'s map tasks do first). ' : ''}"content": *exact* — the members (id, email, country, score; for dedup email and id), read back from the exported CSV files with DuckDB${paths.includes('reader') ? ' (for the reader: as evaluated)' : ''}, are exactly those of DuckDB's \`read_parquet\` over the same files with the same filter (and dedup).`,
    failed ? `\nThe run stopped with an error: ${String(failed).split('\n')[0]}` : '',
  ].join('\n');
}
