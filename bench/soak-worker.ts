
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import * as openpgp from 'openpgp';
import { startLocalWorker } from '../scripts/local-worker.ts';
import { startMotoWithWriter } from '../test/harness/moto.ts';
import { type Census, census, censusGrowth, freePort, type Inspector, openInspector } from './inspector.ts';
import { cpuSeconds, descendantPid, memoryMiB } from './proc.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) =>
  argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback;
const MINUTES = arg('--minutes', 20);
const DATAFLOWS = arg('--dataflows', 20);
const PROFILES = arg('--profiles', 3000);
const AUDIENCES = arg('--audiences', 6);
const STEP_MS = arg('--step-hours', 3) * 3_600_000;
const BATCH = arg('--batch', 1);
const PRUNE = argv.includes('--prune');
const GC = argv.includes('--gc');
/** Heap snapshots of the Worker isolate after a GC, one minute in and at the end, compared by kind. */
const SNAPSHOTS = argv.includes('--snapshots');
const INSPECT = argv.includes('--inspect') || GC || SNAPSHOTS;
if (SNAPSHOTS && !GC) throw new Error('--snapshots needs --gc (snapshots are compared after a full GC)');
const STEP_DEADLINE_MS = 10 * 60_000;
const BUCKET = 'soak';
const ROOT = resolve(new URL('..', import.meta.url).pathname);
const MiB = 2 ** 20;

interface Sample {
  step: number;
  wallS: number;
  runs: number;
  workerdRssMiB: number;
  workerdHwmMiB: number;
  /** Anonymous (heap) part of the RSS: V8 heaps, malloc, in-memory SQLite. */
  workerdAnonMiB: number;
  workerdCpuS: number;
  motoRssMiB: number;
  nodeRssMiB: number;
  d1Runs: number;
  d1RunBytes: number;
  stepS: number;
  /** V8 heap used (no forced GC) per isolate group, with --inspect. */
  heapMiB?: Record<string, number>;
}

/** The first descendant of this process whose command name starts with `comm`. */
function descendant(comm: string): number {
  const pid = descendantPid((name) => name.startsWith(comm));
  if (pid === undefined) throw new Error(`${comm} process not found`);
  return pid;
}

// ---- the tenant ----
/** Deterministic profiles, so two runs export the same rows. */
function profilesNdjson(count: number): string {
  let seed = 42;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const countries = ['FR', 'DE', 'ES', 'IT', 'GB', 'US', 'CA', 'JP', 'BR'];
  const names = ['Ada', 'Grace', 'Linus', 'Ken', 'Barbara', 'Edsger', 'Margaret', 'Alan'];
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    lines.push(
      JSON.stringify({
        id: `p${String(i).padStart(6, '0')}`,
        identities: { email: [`user${i}@example.com`] },
        attributes: {
          firstName: names[i % names.length],
          country: countries[Math.floor(rnd() * countries.length)],
          totalSpend: Math.round(rnd() * 300_000) / 100,
          orders: Math.floor(rnd() * 40),
          vip: rnd() < 0.2,
          lastPurchase: new Date(Date.UTC(2026, 0, 1) + Math.floor(rnd() * 300) * 86_400_000).toISOString(),
        },
        updatedAt: '2026-01-01T00:00:00.000Z',
      }),
    );
  }
  return lines.join('\n');
}

const RULES = [
  'country in ["FR", "DE", "ES", "IT", "GB"]',
  'vip = true or totalSpend > 1500',
  'country in ["US", "CA"]',
  'orders > 20',
  'totalSpend > 2000',
  'vip = true',
];
const MAPPING = {
  fields: [
    { source: 'identities.email', target: 'email', mandatory: true },
    { source: 'attributes.firstName', target: 'first.name' },
    { source: 'attributes.country' },
    { source: 'attributes.totalSpend', type: 'double' },
    { source: 'attributes.orders', type: 'integer' },
    { source: 'attributes.lastPurchase', type: 'timestamp' },
    { source: 'segmentMembership.status' },
  ],
  dedup: { identity: 'email' },
};

async function call(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  type = 'application/json',
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': type }) },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  // biome-ignore lint/suspicious/noExplicitAny: API answers are read by field
  return (text ? JSON.parse(text) : undefined) as any;
}

/** Org, profiles, audiences, five destinations (CSV+gzip+manifest, CSV+gzip, JSON, Parquet, CSV+gzip+PGP), dataflows. */
async function createTenant(
  url: string,
  admin: string,
  s3: { endpoint: string; key: object },
  today: string,
) {
  const { token } = await call(url, admin, 'POST', '/v1/admin/organizations', { name: 'Soak' });
  await call(url, token, 'POST', '/v1/profiles', profilesNdjson(PROFILES), 'application/x-ndjson');
  const create = async (path: string, body: object) =>
    (await call(url, token, 'POST', path, body)).id as string;
  const audiences: string[] = [];
  for (let i = 0; i < AUDIENCES; i++)
    audiences.push(
      await create('/v1/audiences', { kind: 'rule', name: `aud ${i}`, rule: RULES[i % RULES.length] }),
    );
  const pgp = await openpgp.generateKey({ type: 'ecc', userIDs: [{ name: 'soak' }], format: 'armored' });
  const variants = [
    { name: 'csv-gzip', fileType: 'csv', compression: 'gzip', manifest: true },
    { name: 'csv-gzip-2', fileType: 'csv', compression: 'gzip' },
    { name: 'json', fileType: 'json' },
    { name: 'parquet', fileType: 'parquet', formatOptions: { codec: 'snappy' } },
    { name: 'csv-pgp', fileType: 'csv', compression: 'gzip', pgpPublicKey: pgp.publicKey },
  ];
  const destinations: string[] = [];
  for (const v of variants)
    destinations.push(
      await create('/v1/destinations', {
        ...{ ...v, bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true },
        auth: { method: 'accessKey', ...s3.key },
        folderPath: `soak/${v.name}/%YYYY%/%MM%/%DD%/%SEGMENT_ID%`,
      }),
    );
  for (let i = 0; i < DATAFLOWS; i++)
    await create('/v1/dataflows', {
      name: `flow ${i}`,
      destinationId: destinations[i % destinations.length],
      audienceIds: [audiences[i % AUDIENCES], audiences[(i + 1) % AUDIENCES]],
      mapping: MAPPING,
      naming: { audienceName: true, dateTime: 'datetime', customText: `df${i}` },
      schedule: { frequency: 'hourly', everyHours: 3, startDate: today },
    });
  return { variants: variants.map((v) => v.name) };
}

// ---- D1 ----
type D1 = Awaited<ReturnType<Awaited<ReturnType<typeof startLocalWorker>>['miniflare']['getD1Database']>>;

/** Polls D1 until every run of this tick's slot has finished; returns their statuses. */
async function waitForStep(db: D1, createdAt: string, expected: number): Promise<Record<string, number>> {
  const deadline = Date.now() + STEP_DEADLINE_MS;
  for (;;) {
    const rows = (
      await db
        .prepare('SELECT status, COUNT(*) AS n FROM runs WHERE created_at = ? GROUP BY status')
        .bind(createdAt)
        .all<{ status: string; n: number }>()
    ).results;
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    const done = (by.succeeded ?? 0) + (by.failed ?? 0);
    if (done >= expected && !by.queued && !by.running) return by;
    if (Date.now() > deadline)
      throw new Error(
        `step at ${createdAt}: runs not finished after ${STEP_DEADLINE_MS} ms: ${JSON.stringify(by)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function listAll(s3: S3Client): Promise<Set<string>> {
  const keys = new Set<string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.add(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

// ---- growth ----
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
function growth(samples: Sample[], pick: (s: Sample) => number) {
  const q = Math.max(1, Math.floor(samples.length / 4));
  const ys = samples.map(pick);
  return {
    firstQuarterMiB: +mean(ys.slice(0, q)).toFixed(1),
    lastQuarterMiB: +mean(ys.slice(-q)).toFixed(1),
    minMiB: +Math.min(...ys).toFixed(1),
    maxMiB: +Math.max(...ys).toFixed(1),
    slopeMiBPerHour: +slope(
      samples.map((s) => s.wallS / 3600),
      ys,
    ).toFixed(2),
    slopeMiBPer1000Runs: +slope(
      samples.map((s) => s.runs / 1000),
      ys,
    ).toFixed(2),
  };
}

// ---- main ----
const startedAt = new Date();
const loadStart = loadavg();
const state = await mkdtemp(join(tmpdir(), 'soak-worker-'));
const { moto, reader, writer } = await startMotoWithWriter(BUCKET, 'soak-writer');
const motoPid = descendant('python');
let worker: Awaited<ReturnType<typeof startLocalWorker>> | undefined;
let inspector: Inspector | undefined;
try {
  const inspectorPort = INSPECT ? await freePort() : undefined;
  worker = await startLocalWorker(ROOT, state, 0, {
    inMemory: true,
    queue: { maxBatchSize: BATCH, maxBatchTimeout: 1 },
    ...(inspectorPort !== undefined && { inspectorPort }),
  });
  if (inspectorPort !== undefined) inspector = await openInspector(inspectorPort);
  const pid = descendant('workerd');
  const db = await worker.miniflare.getD1Database('DB');
  const today = startedAt.toISOString().slice(0, 10);
  const s3 = { endpoint: moto.endpoint, key: writer };
  const tenant = await createTenant(worker.url, worker.adminToken, s3, today);
  const scheduled = await worker.miniflare.getWorker();
  // First tick: the first 3-hour boundary after the dataflows were created, plus a minute.
  let now = Math.ceil(Date.now() / STEP_MS) * STEP_MS + 60_000;
  const samples: Sample[] = [];
  const statuses: Record<string, number> = {};
  const expectedKeys = new Set<string>();
  let totalRuns = 0;
  let gcAnswered = Number.POSITIVE_INFINITY;
  let rows = 0;
  let bytes = 0;
  const t0 = performance.now();
  const cpu0 = cpuSeconds(pid);
  let early: { runs: number; census: Census } | undefined;
  const pokeWorker = async () => (await fetch(`${worker!.url}/v1/runs`)).text();
  for (let step = 1; performance.now() - t0 < MINUTES * 60_000; step++) {
    const stepStart = performance.now();
    const at = new Date(now);
    await scheduled.scheduled({ scheduledTime: at, cron: '0 */3 * * *' });
    const by = await waitForStep(db, at.toISOString(), DATAFLOWS);
    const stepS = (performance.now() - stepStart) / 1000;
    for (const [k, n] of Object.entries(by)) statuses[k] = (statuses[k] ?? 0) + n;
    type Done = {
      id: string;
      status: string;
      rows_exported: number;
      bytes: number;
      files: string;
      error: string;
    };
    const sql = 'SELECT id, status, rows_exported, bytes, files, error FROM runs WHERE created_at = ?';
    const done = (await db.prepare(sql).bind(at.toISOString()).all<Done>()).results;
    for (const r of done) {
      if (r.status === 'failed') console.error(`run ${r.id} failed: ${r.error}`);
      if (r.status !== 'succeeded') continue;
      rows += r.rows_exported;
      bytes += r.bytes;
      for (const f of JSON.parse(r.files) as { key: string }[]) expectedKeys.add(f.key);
    }
    totalRuns += done.length;
    if (PRUNE) await db.prepare("DELETE FROM runs WHERE status IN ('succeeded', 'failed')").run();
    const d1 = (await db
      .prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(files) + LENGTH(COALESCE(rows_skipped, ""))), 0) AS b FROM runs',
      )
      .first<{ n: number; b: number }>())!;
    if (GC && inspector) {
      // The GC runs when each isolate next handles an event: an unauthenticated API call (Worker), a query (D1).
      const collected = inspector.collect(2_000);
      await (await fetch(`${worker.url}/v1/runs`)).text();
      await db.prepare('SELECT 1').first();
      gcAnswered = Math.min(gcAnswered, await collected);
    }
    samples.push({
      step,
      wallS: (performance.now() - t0) / 1000,
      runs: totalRuns,
      workerdRssMiB: memoryMiB(pid, 'VmRSS'),
      workerdHwmMiB: memoryMiB(pid, 'VmHWM'),
      workerdAnonMiB: memoryMiB(pid, 'RssAnon'),
      workerdCpuS: cpuSeconds(pid) - cpu0,
      motoRssMiB: memoryMiB(motoPid, 'VmRSS'),
      nodeRssMiB: process.memoryUsage().rss / MiB,
      d1Runs: d1.n,
      d1RunBytes: d1.b,
      stepS,
      ...(inspector && { heapMiB: await inspector.heaps() }),
    });
    if (SNAPSHOTS && inspector && !early && performance.now() - t0 >= 60_000) {
      early = { runs: totalRuns, census: census(await inspector.snapshot('worker', pokeWorker)) };
    }
    if (step % 10 === 1) console.error(`progress ${JSON.stringify(samples.at(-1))}`);
    now += STEP_MS;
  }
  if (early && inspector) {
    const collected = inspector.collect(2_000);
    await pokeWorker();
    await collected;
    const heapGrowth = censusGrowth(early.census, census(await inspector.snapshot('worker', pokeWorker)), 15);
    console.log(`heap growth of the Worker isolate by kind over runs ${early.runs}–${totalRuns}, after GC (bytes, objects):`);
    for (const g of heapGrowth) console.log(`  ${g.bytes} B  ${g.objects}  ${g.kind}`);
  }
  // ---- audit ----
  const listed = await listAll(reader);
  const missing = [...expectedKeys].filter((k) => !listed.has(k));
  const uploads = await reader.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  const leftover = (await db
    .prepare("SELECT COUNT(*) AS n FROM runs WHERE status IN ('queued', 'running')")
    .first<{ n: number }>())!.n;
  const last = samples.at(-1)!;
  const summary = {
    started: startedAt.toISOString(),
    minutes: MINUTES,
    wallS: Math.round(last.wallS),
    steps: samples.length,
    simulatedDays: +((samples.length * STEP_MS) / 86_400_000).toFixed(1),
    dataflows: DATAFLOWS,
    audiencesPerDataflow: 2,
    profiles: PROFILES,
    destinations: tenant.variants,
    queueBatch: BATCH,
    prune: PRUNE,
    ...(GC && { gcIsolatesAnsweredMin: gcAnswered }),
    runs: totalRuns,
    statuses,
    exports: totalRuns * 2,
    rows,
    bytesMiB: +(bytes / MiB).toFixed(1),
    objectsExpected: expectedKeys.size,
    objectsListed: listed.size,
    objectsMissing: missing.length,
    objectsUnexpected: [...listed].filter((k) => !expectedKeys.has(k)).length,
    runsExpected: samples.length * DATAFLOWS,
    openMultipartUploads: (uploads.Uploads ?? []).length,
    runsNotFinished: leftover,
    meanStepS: +mean(samples.map((s) => s.stepS)).toFixed(2),
    runsPerSecond: +(totalRuns / last.wallS).toFixed(2),
    workerdCpuS: +last.workerdCpuS.toFixed(1),
    workerdRss: growth(samples, (s) => s.workerdRssMiB),
    workerdAnon: growth(samples, (s) => s.workerdAnonMiB),
    workerdHwmMiB: +last.workerdHwmMiB.toFixed(1),
    motoRss: growth(samples, (s) => s.motoRssMiB),
    nodeRss: growth(samples, (s) => s.nodeRssMiB),
    ...(inspector && {
      heap: Object.fromEntries(
        Object.keys(samples[0]!.heapMiB!).map((g) => [g, growth(samples, (s) => s.heapMiB![g]!)]),
      ),
    }),
    d1RunsEnd: last.d1Runs,
    d1RunJsonKiBEnd: +(last.d1RunBytes / 1024).toFixed(1),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    load: { start: loadStart.map((l) => +l.toFixed(2)), end: loadavg().map((l) => +l.toFixed(2)) },
  };
  console.log(`SOAK-WORKER ${JSON.stringify(summary)}`);
  const groups = Object.keys(samples[0]!.heapMiB ?? {});
  const columns: [string, (s: Sample) => unknown][] = [
    ['step', (s) => s.step],
    ['wallS', (s) => s.wallS.toFixed(0)],
    ['runs', (s) => s.runs],
    ...(
      ['workerdRssMiB', 'workerdHwmMiB', 'workerdAnonMiB', 'workerdCpuS', 'motoRssMiB', 'nodeRssMiB'] as const
    ).map((k) => [k, (s: Sample) => s[k].toFixed(1)] as [string, (s: Sample) => unknown]),
    ['d1Runs', (s) => s.d1Runs],
    ['d1RunKiB', (s) => (s.d1RunBytes / 1024).toFixed(1)],
    ['stepS', (s) => s.stepS.toFixed(2)],
    ...groups.map(
      (g) => [`heap:${g}`, (s: Sample) => s.heapMiB![g]!.toFixed(1)] as [string, (s: Sample) => unknown],
    ),
  ];
  console.log(columns.map(([name]) => name).join(' '));
  for (const s of samples) console.log(columns.map(([, cell]) => cell(s)).join(' '));
  if (summary.runsExpected !== totalRuns || summary.objectsUnexpected > 0) process.exitCode = 1;
  if (missing.length > 0 || summary.openMultipartUploads > 0 || (statuses.failed ?? 0) > 0 || leftover > 0)
    process.exitCode = 1;
} finally {
  inspector?.close();
  await worker?.stop();
  reader.destroy();
  await moto.stop();
  await rm(state, { recursive: true, force: true });
}
