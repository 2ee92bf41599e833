/**
 * The main job end to end at size, the way users run it: profiles ingested through `POST
 * /v1/profiles` into D1, then a rule audience (gold, ~30 %) exported by the Worker — in workerd
 * started by Miniflare as `npm start` does, every V8 isolate capped at 128 MB (`--max-heap-size`: V8
 * aborts workerd past it) — to moto with auth enforced. Per profile count, against the same files:
 *
 * - ingest rate through the API (batches of 10,000, two in flight);
 * - full, email-dedup and incremental (a first run, then three with changes ingested between) exports
 *   in CSV+gzip and in Parquet, each checked against DuckDB's own computation over the profile files;
 * - per run: wall time, invocations (queue deliveries), the most D1 queries and the longest wall time
 *   of one invocation (the Worker logs both), workerd's CPU per invocation (the D1 simulator
 *   included), the largest V8 heap of any isolate (from `--trace-gc`);
 * - the CLI (`edge-export export`, a Node process) on the same profile file, rule and mapping, to the
 *   same moto, right after the Worker's run of the same case.
 *
 * Run: node bin/run-ts.js bench/audiences.ts [--profiles 100000,1000000,3000000] [--heap 128] [--repeat 2] [--write]
 *   --write puts the figures in docs/BENCHMARKS.md (section "audiences"). Profile files are kept in
 *   bench/.data (gitignored) and reused.
 *
 * Deduplication and partitioning together: `--exports dedup,partitioned` runs the dedup export and
 * the same export partitioned by `--partition` (default `country,city`: 100 partition folders) side
 * by side, the partitioned members checked per partition against DuckDB (`GROUP BY` the partition
 * columns over the same winners); --write then puts them in the section "audiences-partitioned".
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { cappedHarness } from './miniflare-v8.ts';
import { CHANGES, type Expected, type ProfileFiles, expected, exportedRows, profileFiles } from './audiences-data.ts';
import { cpuSeconds, descendantPid } from './proc.ts';
import { writeSection } from './report.ts';
import { client, difference, download, ingestNdjson, invocationLines, processOutput, settle, workerHeap } from './worker-api.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const counts = arg('--profiles', '100000,1000000,3000000').split(',').map(Number);
const heapCap = Number(arg('--heap', '128'));
/** Subsets, to look at one case: `--formats parquet`, `--exports full,dedup` (incremental runs need `incremental`), `--no-cli`. */
const formatsRun = arg('--formats', 'csv+gzip,parquet').split(',');
const exportsRun = arg('--exports', 'full,dedup,incremental').split(',');
const withCli = !argv.includes('--no-cli');
/** The partition columns of the `partitioned` export (dedup + partitionBy). */
const partitionColumns = arg('--partition', 'country,city').split(',');
const partitionedOnly = exportsRun.includes('partitioned');
/** Full and dedup exports (Worker and CLI) run this many times side by side; the fastest counts (the machine is shared). */
const repeat = Math.max(1, Number(arg('--repeat', '2')));
const ROOT = new URL('../', import.meta.url).pathname;
const DATA = join(ROOT, 'bench/.data');
const BUCKET = 'audiences';
const BATCH = 10_000;
const IN_FLIGHT = 2;

// Before Miniflare is loaded: every isolate of its workerd gets the cap, and prints its collections.
const { startLocalWorker, createBucket, createUser, s3Reader, startMoto, permissionPolicy } = await cappedHarness(heapCap);

/** workerd's output reaches this process through console.log (Miniflare pipes it): kept, not printed. */
const workerdLines: string[] = [];
const print = console.log.bind(console);
console.log = (...args: unknown[]) => {
  const line = args.map(String).join(' ');
  if (/ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)|"queue invocation"/.test(line)) workerdLines.push(line);
  else print(...args);
};

const MAPPING = {
  fields: [
    { source: 'id' },
    { source: 'identities.email', target: 'email' },
    { source: 'attributes.firstName' },
    { source: 'attributes.lastName' },
    { source: 'attributes.country' },
    { source: 'attributes.city' },
    { source: 'attributes.tier' },
    { source: 'attributes.score', type: 'integer' },
    { source: 'attributes.totalSpend', type: 'double' },
  ],
};
const RULE = 'attributes.tier = "gold"';
const FORMATS = {
  'csv+gzip': { fileType: 'csv', compression: 'gzip' },
  parquet: { fileType: 'parquet' },
} as const;
type Format = keyof typeof FORMATS;
const KINDS = ['full', 'dedup', 'incremental', 'partitioned'] as const;
type Kind = (typeof KINDS)[number];

interface RunFigures {
  profiles: number;
  format: Format;
  kind: Kind | `incremental +${number}` | 'cli full' | 'cli dedup';
  rows: number;
  seconds: number;
  invocations: number;
  maxQueries: number;
  maxInvocationMs: number;
  cpuPerInvocation: number;
  peakHeapMiB: number;
  liveHeapMiB: number;
  checked: string;
  /** Partition folders written (partitioned exports). */
  partitions?: number;
}
interface IngestFigures {
  profiles: number;
  what: string;
  count: number;
  seconds: number;
}

const results: RunFigures[] = [];
const ingests: IngestFigures[] = [];

async function benchAt(n: number, files: ProfileFiles, want: Expected, moto: Awaited<ReturnType<typeof startMoto>>, s3: S3Client, writer: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  const state = await mkdtemp(join(tmpdir(), 'bench-audiences-'));
  const worker = await startLocalWorker(ROOT, state, 0, {
    inMemory: true,
    // Deliveries as Cloudflare makes them: one message per invocation, no batching delay.
    queue: { maxBatchSize: 1, maxBatchTimeout: 0, maxRetries: 3 },
  });
  const pid = descendantPid((c) => c.startsWith('workerd'));
  try {
    const admin = client(worker.url, worker.adminToken);
    const org = await admin('POST', '/admin/organizations', { name: `Bench ${n}` });
    const api = client(worker.url, org.body.token);

    const base = await ingestNdjson(api, files.base, IN_FLIGHT, BATCH);
    // --trace-gc is in the same v8Flags as the cap: its lines prove the flags reached workerd.
    if (!workerdLines.some((l) => / ms: (Scavenge|Mark-Compact)/.test(l))) throw new Error('workerd printed no --trace-gc line: the V8 flags (and the heap cap) did not reach it');
    ingests.push({ profiles: n, what: 'all profiles', ...base });
    print(`${n}: ingested ${base.count} profiles in ${base.seconds.toFixed(1)} s (${Math.round(base.count / base.seconds)}/s)`);

    const audience = (await api('POST', '/audiences', { kind: 'rule', name: 'gold', rule: RULE })).body.id as string;
    const flows = new Map<string, string>();
    const destinations = new Map<Format, Record<string, unknown>>();
    for (const format of Object.keys(FORMATS) as Format[]) {
      for (const kind of KINDS) {
        const folder = `worker/${n}/${format}/${kind}/`;
        const destination = {
          name: `${format} ${kind}`,
          bucket: BUCKET,
          folderPath: folder,
          region: moto.region,
          endpoint: moto.endpoint,
          auth: { method: 'accessKey', ...writer },
          manifest: true,
          ...FORMATS[format],
        };
        destinations.set(format, destination);
        const created = await api('POST', '/destinations', destination);
        if (created.status !== 201) throw new Error(created.text);
        const flow = await api('POST', '/dataflows', {
          name: `${format} ${kind}`,
          destinationId: created.body.id,
          audienceIds: [audience],
          exportMode: kind === 'incremental' ? 'incremental' : 'full',
          mapping: kind === 'dedup' || kind === 'partitioned' ? { ...MAPPING, dedup: { identity: 'email' } } : MAPPING,
          ...(kind === 'partitioned' && { partitionBy: { columns: partitionColumns, maxPartitions: 1000 } }),
        });
        if (flow.status !== 201) throw new Error(flow.text);
        flows.set(`${format} ${kind}`, flow.body.id);
      }
    }

    const runWorker = async (format: Format, kind: Kind, label: RunFigures['kind'], version: number) => {
      const lineFrom = workerdLines.length;
      const cpu0 = cpuSeconds(pid);
      const t0 = performance.now();
      const queued = await api('POST', `/dataflows/${flows.get(`${format} ${kind}`)}/run`);
      if (queued.status !== 202) throw new Error(queued.text);
      const run = await settle(api, queued.body.id);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = cpuSeconds(pid) - cpu0;
      if (run.status !== 'succeeded') throw new Error(`${n} ${format} ${label}: ${JSON.stringify(run.error)}`);
      const invocations = invocationLines(workerdLines, lineFrom, run.id);
      const heap = workerHeap(workerdLines, lineFrom);
      const keys = (run.files as { key: string }[]).map((f) => f.key).filter((k) => !k.includes('/manifest-'));
      const folder = `worker/${n}/${format}/${kind}/`;
      const partitioned = kind === 'partitioned';
      const paths = await download(s3, BUCKET, keys, join(state, 'files', run.id), partitioned ? folder : undefined);
      // Partitioned: DuckDB reads the partition columns back from the folder names (Hive partitioning).
      const rows = await exportedRows(paths, format === 'parquet' ? 'parquet' : 'csv', partitioned);
      let checked: string;
      let partitions: number | undefined;
      if (partitioned) {
        const key = (r: Record<string, string | null>) => partitionColumns.map((c) => r[c]).join('|');
        checked = difference(await want.winnersBy(partitionColumns, version), rows.map((r) => `${key(r)}|${r.email}|${r.id}`));
        // Per partition: the row count DuckDB's GROUP BY gives over the same winners.
        const counts = new Map<string, number>();
        for (const r of rows) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
        const groups = await want.winnerCounts(partitionColumns, version);
        const off = [...new Set([...groups.keys(), ...counts.keys()])].filter((g) => groups.get(g) !== counts.get(g));
        if (off.length > 0) checked += `${checked ? '; ' : ''}${off.length} partitions with other counts (${off.slice(0, 3).map((g) => `${g}: ${counts.get(g) ?? 0} not ${groups.get(g) ?? 0}`).join(', ')})`;
        partitions = counts.size;
        if (checked === '') checked = `exact, ${partitions} partitions`;
      } else if (kind === 'full') checked = difference(await want.members(version), rows.map((r) => `${r.id}|${r.email}|${r.score}`));
      else if (kind === 'dedup') checked = difference(await want.winners(version), rows.map((r) => `${r.email}|${r.id}`));
      else if (label === 'incremental')
        checked = difference(new Set([...(await want.members(version))].map((m) => `${m.split('|')[0]}|realized`)), rows.map((r) => `${r.id}|${r.segmentMembership_status}`));
      else checked = difference(await want.delta(version), rows.map((r) => `${r.id}|${r.segmentMembership_status}`));
      const figures: RunFigures = {
        profiles: n,
        format,
        kind: label,
        rows: rows.length,
        seconds,
        invocations: invocations.length,
        maxQueries: Math.max(0, ...invocations.map((i) => i.d1Queries)),
        maxInvocationMs: Math.max(0, ...invocations.map((i) => i.ms)),
        cpuPerInvocation: cpu / Math.max(1, invocations.length),
        peakHeapMiB: heap.peak,
        liveHeapMiB: heap.live,
        checked: checked === '' ? 'exact' : checked,
        ...(partitions !== undefined && { partitions }),
      };
      print(`${n} ${format} ${label}: ${line(figures)}`);
      return figures;
    };

    const runCli = async (format: Format, kind: 'full' | 'dedup') => {
      const config = join(state, `cli-${format}-${kind}.json`);
      await writeFile(
        config,
        JSON.stringify({
          destination: { id: 'cli', ...destinations.get(format), folderPath: `cli/${n}/${format}/${kind}/` },
          source: { path: files.base },
          audience: { id: 'gold', name: 'gold', rule: RULE },
          mapping: kind === 'dedup' ? { ...MAPPING, dedup: { identity: 'email' } } : MAPPING,
        }),
      );
      const t0 = performance.now();
      const { code, out, err } = await processOutput(process.execPath, [join(ROOT, 'bin/edge-export.js'), 'export', '--config', config, '--no-progress']);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) throw new Error(`CLI ${format} ${kind}: exit ${code}\n${err}\n${out}`);
      const summary = JSON.parse(out) as { rows: number };
      const expectedRows = kind === 'full' ? (await want.members(0)).size : (await want.winners(0)).size;
      const figures: RunFigures = {
        profiles: n,
        format,
        kind: `cli ${kind}`,
        rows: summary.rows,
        seconds,
        invocations: 0,
        maxQueries: 0,
        maxInvocationMs: 0,
        cpuPerInvocation: 0,
        peakHeapMiB: 0,
        liveHeapMiB: 0,
        checked: summary.rows === expectedRows ? 'row count' : `${summary.rows} rows, expected ${expectedRows}`,
      };
      print(`${n} ${format} cli ${kind}: ${line(figures)}`);
      return figures;
    };
    const fastest = (runs: RunFigures[]) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

    const formats = (Object.keys(FORMATS) as Format[]).filter((f) => formatsRun.includes(f));
    for (const format of formats) {
      for (const kind of ['full', 'dedup'] as const) {
        // With `partitioned`, the dedup export runs beside it instead (below).
        if (!exportsRun.includes(kind) || (kind === 'dedup' && partitionedOnly)) continue;
        const worker: RunFigures[] = [];
        const cli: RunFigures[] = [];
        for (let i = 0; i < repeat; i++) {
          worker.push(await runWorker(format, kind, kind, 0));
          if (withCli) cli.push(await runCli(format, kind));
        }
        results.push(fastest(worker), ...(cli.length > 0 ? [fastest(cli)] : []));
      }
      if (exportsRun.includes('partitioned')) {
        // The dedup export and the same export partitioned, alternating (the machine is shared).
        const plain: RunFigures[] = [];
        const parted: RunFigures[] = [];
        for (let i = 0; i < repeat; i++) {
          plain.push(await runWorker(format, 'dedup', 'dedup', 0));
          parted.push(await runWorker(format, 'partitioned', 'partitioned', 0));
        }
        results.push(fastest(plain), fastest(parted));
      }
      if (exportsRun.includes('incremental')) results.push(await runWorker(format, 'incremental', 'incremental', 0));
    }
    for (let k = 1; k <= CHANGES && exportsRun.includes('incremental'); k++) {
      const changed = await ingestNdjson(api, files.changes[k - 1]!, IN_FLIGHT, BATCH);
      ingests.push({ profiles: n, what: `change ${k}`, ...changed });
      for (const format of formats) results.push(await runWorker(format, 'incremental', `incremental +${k}`, k));
    }
  } catch (error) {
    const alive = pid !== undefined && cpuSeconds(pid) > 0;
    print(`workerd ${alive ? 'still runs' : 'exited'}; its last lines:\n${workerdLines.slice(-12).join('\n')}`);
    throw error;
  } finally {
    await worker.stop();
    await rm(state, { recursive: true, force: true });
  }
}

const line = (r: RunFigures) =>
  `${r.rows} rows in ${r.seconds.toFixed(1)} s (${Math.round(r.rows / r.seconds)}/s), ${r.invocations} invocations, ≤${r.maxQueries} queries and ≤${(r.maxInvocationMs / 1000).toFixed(1)} s each, CPU ${r.cpuPerInvocation.toFixed(1)} s/invocation, heap ≤${r.peakHeapMiB.toFixed(0)} MiB at a collection, ≤${r.liveHeapMiB.toFixed(0)} MiB live, ${r.checked}`;

const moto = await startMoto();
let failed: unknown;
try {
  await createBucket(moto, BUCKET);
  const user = await createUser(moto, 'bench-writer', permissionPolicy({ bucket: BUCKET, folderPath: '' }));
  const writer = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
  await moto.enableAuth();
  const s3 = s3Reader(moto);
  for (const n of counts) {
    const files = await profileFiles(DATA, n);
    const want = await expected(files);
    try {
      await benchAt(n, files, want, moto, s3, writer);
    } finally {
      want.close();
    }
  }
  s3.destroy();
} catch (error) {
  failed = error;
} finally {
  await moto.stop();
}

const report = partitionedOnly ? partitionedReport() : reportOf();
print(report);
if (argv.includes('--write')) writeSection(join(ROOT, 'docs/BENCHMARKS.md'), report, partitionedOnly ? 'audiences-partitioned' : 'audiences');
if (failed) {
  print(failed);
  process.exitCode = 1;
}

function reportOf(): string {
  const fmt = (x: number, d = 1) => x.toFixed(d);
  const out = [
    '## The main job at size: ingest and audience exports through the Worker (bench/audiences.ts)',
    '',
    `\`node bin/run-ts.js bench/audiences.ts --profiles ${counts.join(',')} --heap ${heapCap} --repeat ${repeat} --write\` — ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)} at the end. Full and dedup exports, Worker and CLI, ran ${repeat}× side by side (alternating); the table shows the fastest of each.`,
    `workerd via Miniflare (as \`npm start\`), every isolate capped at ${heapCap > 0 ? `${heapCap} MB (\`--max-heap-size\`)` : 'V8’s default heap'}; D1 in memory; moto with auth enforced. Production budgets: 1,000 D1 queries and 20 s per invocation, 2,000,000-byte values.`,
    'CPU per invocation is the workerd process (the Worker and the D1 simulator\'s SQLite). Heap: of the isolate that collected most during the run (the Worker), its largest heap at a collection — V8 lets garbage build up towards the cap before a full collection — and its largest live heap after a full collection (– when V8 ran none during the run).',
    '',
    '| profiles | ingest | profiles/s |',
    '|---:|---|---:|',
    ...ingests.map((i) => `| ${i.profiles.toLocaleString('en')} | ${i.what} (${i.count.toLocaleString('en')}) in ${fmt(i.seconds)} s | ${Math.round(i.count / i.seconds).toLocaleString('en')} |`),
    '',
    '| profiles | format | export | rows | s | rows/s | invocations | D1 queries (max/invocation) | s (max/invocation) | CPU s/invocation | Worker heap MiB (at a collection / live after) | content |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.profiles.toLocaleString('en')} | ${r.format} | ${r.kind} | ${r.rows.toLocaleString('en')} | ${fmt(r.seconds)} | ${Math.round(r.rows / r.seconds).toLocaleString('en')} | ${r.invocations || ''} | ${r.maxQueries || ''} | ${r.maxInvocationMs ? fmt(r.maxInvocationMs / 1000) : ''} | ${r.invocations ? fmt(r.cpuPerInvocation) : ''} | ${r.peakHeapMiB ? `${fmt(r.peakHeapMiB, 0)} / ${r.liveHeapMiB ? fmt(r.liveHeapMiB, 0) : '–'}` : ''} | ${r.checked} |`,
    ),
    '',
    '"content": *exact* — the members in the files (id, email, score; for dedup email and id; for incremental runs id and status) are exactly those DuckDB computes from the same profile files; *row count* — the CLI\'s summary has DuckDB\'s number of rows.',
    '',
    '### Targets (side by side in this run)',
    '',
    ...verdicts(),
  ];
  return out.join('\n');
}

function verdicts(): string[] {
  const out: string[] = [];
  const find = (n: number, format: Format, kind: RunFigures['kind']) => results.find((r) => r.profiles === n && r.format === format && r.kind === kind);
  for (const n of counts) {
    const base = ingests.find((i) => i.profiles === n && i.what === 'all profiles');
    if (base) {
      const rate = base.count / base.seconds;
      out.push(`- ${n.toLocaleString('en')} profiles: ingest ${Math.round(rate).toLocaleString('en')}/s (target ≥ 40,000/s): ${rate >= 40_000 ? 'met' : 'NOT met'}`);
    }
    for (const format of Object.keys(FORMATS) as Format[]) {
      const full = find(n, format, 'full');
      const cli = find(n, format, 'cli full');
      const dedup = find(n, format, 'dedup');
      if (full && cli) {
        const ratio = full.seconds / cli.seconds;
        out.push(`- ${n.toLocaleString('en')} ${format}: Worker ${fmt(full.seconds)} s / CLI ${fmt(cli.seconds)} s = ${fmt(ratio, 2)}× (target ≤ 1.5× at 1M)${n === 1_000_000 ? (ratio <= 1.5 ? ': met' : ': NOT met') : ''}`);
      }
      if (full && dedup) {
        const ratio = dedup.seconds / full.seconds;
        out.push(`- ${n.toLocaleString('en')} ${format}: dedup ${fmt(dedup.seconds)} s / plain ${fmt(full.seconds)} s = ${fmt(ratio, 2)}× (target ≤ 1.3×): ${ratio <= 1.3 ? 'met' : 'NOT met'}`);
      }
    }
  }
  const wrong = results.filter((r) => r.checked !== 'exact' && r.checked !== 'row count');
  out.push(wrong.length === 0 ? `- Every export held exactly the expected members (${results.length} runs checked).` : `- ${wrong.length} runs did NOT hold the expected members.`);
  return out;
  function fmt(x: number, d = 1) {
    return x.toFixed(d);
  }
}

/** The section of a `--exports …,partitioned` run: each partitioned export beside the same dedup export, and their ratios. */
function partitionedReport(): string {
  const fmt = (x: number, d = 1) => x.toFixed(d);
  const heap = (r: RunFigures) => `${fmt(r.peakHeapMiB, 0)} / ${r.liveHeapMiB ? fmt(r.liveHeapMiB, 0) : '–'}`;
  const find = (n: number, format: Format, kind: RunFigures['kind']) => results.find((r) => r.profiles === n && r.format === format && r.kind === kind);
  const ratios: string[] = [];
  for (const n of counts) {
    for (const format of Object.keys(FORMATS) as Format[]) {
      const plain = find(n, format, 'dedup');
      const parted = find(n, format, 'partitioned');
      if (!plain || !parted) continue;
      ratios.push(
        `| ${n.toLocaleString('en')} | ${format} | ${fmt(parted.seconds / plain.seconds, 2)}× | ${fmt(parted.peakHeapMiB / plain.peakHeapMiB, 2)}× | ${plain.liveHeapMiB && parted.liveHeapMiB ? `${fmt(parted.liveHeapMiB / plain.liveHeapMiB, 2)}×` : '–'} | ${fmt((parted.cpuPerInvocation * parted.invocations) / (plain.cpuPerInvocation * plain.invocations), 2)}× | ${parted.invocations} / ${plain.invocations} | ${parted.maxQueries} / ${plain.maxQueries} |`,
      );
    }
  }
  const wrong = results.filter((r) => r.checked !== 'exact' && !r.checked.startsWith('exact,'));
  return [
    '## Deduplication and partitioning together through the Worker (bench/audiences.ts)',
    '',
    `\`node bin/run-ts.js bench/audiences.ts --profiles ${counts.join(',')} --exports ${exportsRun.join(',')} --partition ${partitionColumns.join(',')} --heap ${heapCap} --repeat ${repeat}${withCli ? '' : ' --no-cli'} --write\` — ${cpus().length} cores (${cpus()[0]?.model.trim()}), shared with other engineers: load (uptime, 1/5/15 min) ${loadavg().map((l) => l.toFixed(2)).join(', ')} at the end. The dedup export (email) and the same export partitioned by ${partitionColumns.map((c) => `\`${c}\``).join(' and ')} ran ${repeat}× alternating; the table shows the fastest of each.`,
    `workerd via Miniflare (as \`npm start\`), every isolate capped at ${heapCap > 0 ? `${heapCap} MB (\`--max-heap-size\`)` : 'V8’s default heap'}; D1 in memory; moto with auth enforced; the audience is gold (~30 %), 15 % of emails shared by two profiles. Production budgets: 1,000 D1 queries and 20 s per invocation, 2,000,000-byte values.`,
    '',
    '| profiles | format | export | rows | partitions | s | rows/s | invocations | D1 queries (max/invocation) | s (max/invocation) | CPU s/invocation | Worker heap MiB (at a collection / live after) | content |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.profiles.toLocaleString('en')} | ${r.format} | ${r.kind === 'partitioned' ? `dedup + partitionBy ${partitionColumns.join(', ')}` : r.kind} | ${r.rows.toLocaleString('en')} | ${r.partitions ?? ''} | ${fmt(r.seconds)} | ${Math.round(r.rows / r.seconds).toLocaleString('en')} | ${r.invocations || ''} | ${r.maxQueries || ''} | ${r.maxInvocationMs ? fmt(r.maxInvocationMs / 1000) : ''} | ${r.invocations ? fmt(r.cpuPerInvocation) : ''} | ${r.peakHeapMiB ? heap(r) : ''} | ${r.checked} |`,
    ),
    '',
    '| profiles | format | partitioned / dedup: wall time | heap at a collection | live heap | CPU (whole run) | invocations (partitioned / dedup) | D1 queries max/invocation (partitioned / dedup) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...ratios,
    '',
    `"content": *exact* — the members in the files (email and id) are exactly the winners DuckDB computes from the same profile files (latest update per email, then smallest id, among gold profiles); for the partitioned export DuckDB reads the partition columns back from the folder names (Hive partitioning), each member must sit in its own partition, and each partition's row count must equal DuckDB's \`GROUP BY ${partitionColumns.join(', ')}\` count.`,
    wrong.length === 0 ? `Every export held exactly the expected members (${results.length} runs checked).` : `${wrong.length} runs did NOT hold the expected members.`,
  ].join('\n');
}
