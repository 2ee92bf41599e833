/** The "From real input files" section of docs/BENCHMARKS.md, from one run of bench/from-files.ts. */
import type { ProfileSummary } from './cpu-profile.ts';
import type { InputFormat, OutputFormat } from './from-files-engine.ts';

export interface Measured {
  input: InputFormat;
  output: OutputFormat;
  /** `ours` runs gzip at the run's level, `ours-default-level` at the plugin's default. */
  engine: 'duckdb' | 'ours' | 'baseline' | 'ours-default-level';
  /** Medians over the run's repeats; `load` is the 1-minute load average when the case started. */
  figures: { wallSeconds: number; cpuSeconds: number; peakRssMiB: number; bytes: number; load: number };
}

export interface FromFilesRun {
  command: string;
  startedAt: string;
  machine: string;
  uptimeAtStart: string;
  uptimeAtEnd: string;
  rows: number;
  level: number;
  repeat: number;
  /** `edge-export --version` run the same way: start-up alone. */
  startup?: { wallSeconds: number; cpuSeconds: number; peakRssMiB: number };
  results: Measured[];
  /** NDJSON → CSV+gzip ending in S3 (moto): ours and the baseline. */
  s3: Measured[];
  profiles: { input: InputFormat; output: OutputFormat; thread: string; wallSeconds: number; cpuSeconds: number; summary: ProfileSummary }[];
}

const LABEL: Record<OutputFormat, string> = {
  csv: 'CSV',
  'csv-gzip': 'CSV+gzip',
  'json-gzip': 'NDJSON+gzip',
  'parquet-snappy': 'Parquet snappy',
  'parquet-zstd': 'Parquet zstd',
};
const INPUT: Record<InputFormat, string> = { ndjson: 'NDJSON', csv: 'CSV', parquet: 'Parquet' };
const job = (m: { input: InputFormat; output: OutputFormat }) => `${INPUT[m.input]} → ${LABEL[m.output]}`;
const x = (n: number) => `${n.toFixed(2)}×`;
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function find(run: FromFilesRun, input: InputFormat, output: OutputFormat, engine: Measured['engine']) {
  return run.results.find((m) => m.input === input && m.output === output && m.engine === engine)?.figures;
}

/** The jobs measured, in run order. */
function jobs(run: FromFilesRun): { input: InputFormat; output: OutputFormat }[] {
  const seen = new Map<string, { input: InputFormat; output: OutputFormat }>();
  for (const m of run.results) seen.set(`${m.input}/${m.output}`, { input: m.input, output: m.output });
  return [...seen.values()];
}

function sideBySide(run: FromFilesRun): string[] {
  const lines = [
    `| job (gzip level ${run.level} for all) | ours ÷ DuckDB wall | ours ÷ DuckDB CPU | ours ÷ baseline wall | output MB ours / DuckDB / baseline | peak RSS MiB ours / DuckDB / baseline |`,
    '|---|---:|---:|---:|---|---|',
  ];
  for (const j of jobs(run)) {
    const [ours, duck, base] = (['ours', 'duckdb', 'baseline'] as const).map((e) => find(run, j.input, j.output, e));
    if (!ours || !duck || !base) continue;
    lines.push(
      `| ${job(j)} | ${x(ours.wallSeconds / duck.wallSeconds)} | ${x(ours.cpuSeconds / duck.cpuSeconds)} | ${x(ours.wallSeconds / base.wallSeconds)} | ${mb(ours.bytes)} / ${mb(duck.bytes)} / ${mb(base.bytes)} | ${ours.peakRssMiB} / ${duck.peakRssMiB} / ${base.peakRssMiB} |`,
    );
  }
  return lines;
}

function defaultLevel(run: FromFilesRun): string[] {
  const lines = [
    `| job | ours at its default level: wall s | ÷ DuckDB wall | ÷ DuckDB CPU | ÷ baseline (level ${run.level}) wall | output MB ours (default) / ours (level ${run.level}) / DuckDB |`,
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const j of jobs(run)) {
    const [mine, ours, duck, base] = (['ours-default-level', 'ours', 'duckdb', 'baseline'] as const).map((e) => find(run, j.input, j.output, e));
    if (!mine || !ours || !duck || !base) continue;
    lines.push(
      `| ${job(j)} | ${mine.wallSeconds.toFixed(2)} | ${x(mine.wallSeconds / duck.wallSeconds)} | ${x(mine.cpuSeconds / duck.cpuSeconds)} | ${x(mine.wallSeconds / base.wallSeconds)} | ${mb(mine.bytes)} / ${mb(ours.bytes)} / ${mb(duck.bytes)} |`,
    );
  }
  return lines.length > 2 ? lines : [];
}

const ENGINE: Record<Measured['engine'], string> = {
  ours: 'ours',
  'ours-default-level': 'ours, default gzip level',
  duckdb: 'DuckDB',
  baseline: 'baseline',
};

function figures(list: readonly Measured[], sink: string): string[] {
  return list.map(
    (m) =>
      `| ${job(m)} | ${sink} | ${ENGINE[m.engine]} | ${m.figures.wallSeconds.toFixed(2)} | ${m.figures.cpuSeconds.toFixed(2)} | ${m.figures.peakRssMiB} | ${m.figures.bytes.toLocaleString('en')} | ${m.figures.load.toFixed(2)} |`,
  );
}

/** The issue's targets at this row count, from NDJSON and from Parquet input, and by how much each is met or missed. */
function targets(run: FromFilesRun): string[] {
  const out: string[] = [];
  const rows = run.rows.toLocaleString('en');
  const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  for (const input of ['ndjson', 'parquet'] as const) {
    const gz = [find(run, input, 'csv-gzip', 'ours'), find(run, input, 'csv-gzip', 'duckdb')] as const;
    if (gz[0] && gz[1]) {
      const r = gz[0].wallSeconds / gz[1].wallSeconds;
      out.push(
        `${INPUT[input]} → CSV+gzip at equal level ≤ 0.70× DuckDB's wall time: ${verdict(r <= 0.7)} at ${rows} rows — ${x(r)}${r > 0.7 ? `, ${x(r / 0.7)} the target (ours needs ${((1 - 0.7 / r) * 100).toFixed(0)}% less wall time)` : ''}`,
      );
    }
    const pq = [find(run, input, 'parquet-snappy', 'ours'), find(run, input, 'parquet-snappy', 'duckdb')] as const;
    if (pq[0] && pq[1]) {
      const r = pq[0].wallSeconds / pq[1].wallSeconds;
      out.push(
        `${INPUT[input]} → Parquet snappy ≤ 1.50× DuckDB's wall time: ${verdict(r <= 1.5)} at ${rows} rows — ${x(r)}${r > 1.5 ? `, ${x(r / 1.5)} the target (ours needs ${((1 - 1.5 / r) * 100).toFixed(0)}% less wall time)` : ''}`,
      );
    }
    const pairs = run.results
      .filter((m) => m.input === input && m.engine === 'ours')
      .map((m) => ({ m, base: find(run, input, m.output, 'baseline') }))
      .filter((p) => p.base !== undefined);
    if (pairs.length > 0) {
      const slow = pairs.filter((p) => p.m.figures.wallSeconds / p.base!.wallSeconds > 0.5);
      out.push(
        `${INPUT[input]} input, every output ≥ 2× faster than the plain JS baseline (ours ÷ baseline wall ≤ 0.50×): ${verdict(slow.length === 0)} at ${rows} rows — ${pairs.map((p) => `${LABEL[p.m.output]} ${x(p.m.figures.wallSeconds / p.base!.wallSeconds)}`).join(', ')}`,
      );
      const fat = pairs.filter((p) => p.m.figures.peakRssMiB > p.base!.peakRssMiB);
      out.push(
        `${INPUT[input]} input, peak RSS ≤ the baseline's: ${verdict(fat.length === 0)} at ${rows} rows — ${pairs.map((p) => `${LABEL[p.m.output]} ${p.m.figures.peakRssMiB} / ${p.base!.peakRssMiB} MiB`).join(', ')}`,
      );
    }
  }
  out.push(
    "Peak RSS growth ≤ 1.15× from 1M to 10M rows: not measured by one run (one row count per run; compare this section's peak RSS with the other row count's)",
  );
  return out.map((line) => `- ${line}`);
}

function profileTables(run: FromFilesRun): string[] {
  const out: string[] = [];
  for (const p of run.profiles) {
    const { summary: s } = p;
    const share = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1)}%`;
    out.push(
      `#### ${job(p)}${p.output.endsWith('gzip') ? ` (gzip level ${run.level})` : ''}, ${p.thread}; profiled run: ${p.wallSeconds.toFixed(2)} s wall, ${p.cpuSeconds.toFixed(2)} s CPU (all threads)`,
      '',
      `Profile of ${p.thread.startsWith('tsx') ? '' : 'the '}${p.thread}: ${(s.totalMs / 1000).toFixed(2)} s, of which ${(s.idleMs / 1000).toFixed(2)} s idle (waiting on I/O, the thread pool or the other threads).`,
      '',
      '| module (self time) | ms | share | | function (self time) | ms | share |',
      '|---|---:|---:|---|---|---:|---:|',
    );
    for (let i = 0; i < Math.max(s.modules.length, s.functions.length); i++) {
      const m = s.modules[i];
      const f = s.functions[i];
      out.push(
        `| ${m ? `\`${m.name}\`` : ''} | ${m ? m.ms.toFixed(0) : ''} | ${m ? share(m.ms) : ''} | | ${f ? `\`${f.name}\`` : ''} | ${f ? f.ms.toFixed(0) : ''} | ${f ? share(f.ms) : ''} |`,
      );
    }
    out.push('');
  }
  return out;
}

export function fromFilesSection(run: FromFilesRun): string {
  const rows = run.rows.toLocaleString('en');
  const s3 = run.s3.length === 2 ? run.s3 : [];
  const [s3Ours, s3Base] = [s3.find((m) => m.engine === 'ours'), s3.find((m) => m.engine === 'baseline')];
  return [
    `## From real input files at ${rows} rows (bench/from-files.ts)`,
    '',
    `Generated by \`bench/from-files.ts\` (issue 18; do not edit the figures by hand, re-run the command). One input file per format, ${rows} rows × the bench's 10 mixed`,
    'columns (`bench/rows.ts`), written once by DuckDB under `bench/.data` (NDJSON, CSV with a header, Parquet snappy); the same file',
    'for every engine. Each engine runs in its own child process, one after the other, on the same job:',
    '',
    '- **ours**: the CLI as a user runs it — `node bin/edge-export.js export --config <file>` with `source.path` the input file,',
    '  the top-level `schema` (the bench columns, so every input gives the same typed output), `format/csv` | `format/json` |',
    '  `format/parquet` (snappy, zstd level 3), `compression/gzip` with `level`, and `sink/local` (or `sink/s3` with access-key auth),',
    '  at its default `--threads` (one worker thread per core but one: 1 on 2 cores). CSV and NDJSON outputs are parsed and encoded',
    '  by the worker while the main thread compresses and writes (src/hosts/parallel); Parquet output runs on the main thread only.',
    '- **DuckDB**: `COPY (SELECT * FROM read_json|read_csv|read_parquet(file)) TO file (FORMAT …, COMPRESSION …)` through',
    "  `@duckdb/node-api`, its default threads. Its gzip level is fixed (zlib's default, 6); Parquet zstd at its default level 3.",
    '- **baseline**: plain JavaScript — `readline` + `JSON.parse` (NDJSON), papaparse streaming with `dynamicTyping` (CSV),',
    '  hyparquet row group by row group (Parquet) → `Papa.unparse` per 10,000 rows (CSV) or `JSON.stringify` per row (NDJSON)',
    "  → `node:zlib` gzip → file (or `@aws-sdk/lib-storage` Upload); Parquet with hyparquet-writer's `parquetWriteRows`",
    '  (snappy, or zstd level 3 from `@bokuweb/zstd-wasm`).',
    '',
    `Wall time is the child process's, start to exit (Node start-up and module loading included${run.startup ? `: \`edge-export --version\` alone takes ${run.startup.wallSeconds.toFixed(2)} s wall, ${run.startup.cpuSeconds.toFixed(2)} s CPU, ${run.startup.peakRssMiB} MiB peak RSS` : ''});`,
    'CPU time is user + system of every thread, and peak RSS is the maximum resident set, both from `/usr/bin/time`.',
    `gzip runs at level ${run.level} for ours and the baseline (DuckDB's is 6); ours at its own default level is shown separately.`,
    '',
    `- Command: \`${run.command}\``,
    `- Date: ${run.startedAt}; ${run.repeat === 1 ? 'each case run once' : `each case run ${run.repeat} times, engines interleaved, median of each figure`}`,
    `- Machine: ${run.machine}`,
    `- \`uptime\` at start: \`${run.uptimeAtStart}\`; at end: \`${run.uptimeAtEnd}\``,
    '',
    `### Side by side at ${rows} rows, local file`,
    '',
    ...sideBySide(run),
    '',
    ...(defaultLevel(run).length > 0 ? ['### Our default gzip level (compression/gzip without `level`: 1 on Node)', '', ...defaultLevel(run), ''] : []),
    ...(s3Ours && s3Base
      ? [
          '### Ending in S3 (moto, auth enforced)',
          '',
          `NDJSON → CSV+gzip (level ${run.level}) uploaded to moto by a user holding only the writer policy: ours (\`sink/s3\`) takes ${x(s3Ours.figures.wallSeconds / s3Base.figures.wallSeconds)} the baseline's wall time (\`lib-storage\` Upload) and ${x(s3Ours.figures.cpuSeconds / s3Base.figures.cpuSeconds)} its CPU time. DuckDB has no S3 counterpart here (its httpfs extension is downloaded at run time; this machine has no network). Each object's size in S3 was checked against what the engine reported.`,
          '',
          '| job | sink | engine | wall s | CPU s | peak RSS MiB | output bytes | load |',
          '|---|---|---|---:|---:|---:|---:|---:|',
          ...figures(s3, 'S3 (moto)'),
          '',
        ]
      : []),
    `### Targets of issue 18 at ${rows} rows`,
    '',
    ...targets(run),
    '',
    ...(run.profiles.length > 0
      ? [
          '### Where the time goes: CPU profile of ours',
          '',
          '`node --cpu-prof` of the CLI child on the same file, summarised as self time by module and by function, top 15',
          '(bench/cpu-profile.ts), one profile per JavaScript thread: the main thread (file reads, the pipeline, compression\'s',
          'JavaScript side, the sink) and each worker thread of the parallel path (parsing and encoding pieces; `--threads`,',
          'default one per core but one). gzip itself runs on libuv\'s thread pool, in no profile: a thread waiting for it shows',
          '`(idle)`. `(garbage collector)` is V8\'s GC on that thread.',
          '',
          ...profileTables(run),
        ]
      : []),
    '### All figures',
    '',
    '| job | sink | engine | wall s | CPU s | peak RSS MiB | output bytes | load |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...figures(run.results, 'local file'),
    ...figures(s3, 'S3 (moto)'),
  ].join('\n');
}
