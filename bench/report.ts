/** Tables, ratios and target checks of `bench/run.ts`, printed and written to docs/BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { CaseResult, CaseSpec } from './case.ts';

export interface Measured {
  spec: CaseSpec;
  result: CaseResult;
  /** 1-minute load average when the case started. */
  load: number;
}

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  loadAtStart: number[];
  loadAtEnd: number[];
  startedAt: string;
  command: string;
  repeat: number;
}

const MiB = 1024 * 1024;
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const config = (s: CaseSpec) =>
  `${s.format} ${s.format === 'parquet' ? (s.compression === 'gzip' ? '(gzip codec)' : '(snappy codec)') : `+ ${s.compression}`}${s.pgp ? ' + pgp' : ''}`;

/** One markdown row per measured case. */
function resultTable(results: readonly Measured[]): string[] {
  const lines = [
    '| configuration | engine | sink | rows | seconds | rows/s | MiB/s (written) | MiB written | CPU s | peak RSS MiB | load |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { spec, result, load } of results) {
    lines.push(
      `| ${config(spec)} | ${spec.engine} | ${spec.sink === 's3' ? 'S3 (moto)' : 'local file'} | ${spec.rows.toLocaleString('en')} | ${fmt(result.seconds, 2)} | ${Math.round(result.rows / result.seconds).toLocaleString('en')} | ${fmt(result.bytes / MiB / result.seconds)} | ${fmt(result.bytes / MiB)} | ${fmt(result.cpuSeconds, 2)} | ${result.maxRssMiB} | ${fmt(load, 2)} |`,
    );
  }
  return lines;
}

const find = (results: readonly Measured[], want: Partial<CaseSpec>, rows: number) =>
  results.find(
    (m) => m.spec.rows === rows && Object.entries(want).every(([k, v]) => m.spec[k as keyof CaseSpec] === v),
  );

/** The row counts measured, smallest first. */
const rowCounts = (results: readonly Measured[]) =>
  [...new Set(results.map((m) => m.spec.rows))].sort((a, b) => a - b);
const count = (rows: number) => rows.toLocaleString('en');

/** Ratios measured side by side at one row count, and which of the issue's targets hold there. */
function ratioTable(results: readonly Measured[], rows: number): { lines: string[]; verdicts: string[] } {
  const at = ` at ${count(rows)} rows`;
  const lines = [
    '| configuration | ours ÷ DuckDB wall (file) | ours ÷ DuckDB CPU (file) | baseline ÷ ours wall (S3) | baseline ÷ ours CPU (S3) | baseline ÷ ours peak RSS |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const verdicts: string[] = [];
  let behindBaseline = 0;
  let comparedBaseline = 0;
  for (const format of ['csv', 'json', 'parquet'] as const) {
    for (const compression of ['none', 'gzip'] as const) {
      const duck = find(results, { engine: 'duckdb', format, compression }, rows);
      const oursFile = find(results, { engine: 'ours', format, compression, sink: 'file' }, rows);
      const vsDuck = duck && oursFile ? oursFile.result.seconds / duck.result.seconds : undefined;
      const vsDuckCpu = duck && oursFile ? oursFile.result.cpuSeconds / duck.result.cpuSeconds : undefined;
      for (const pgp of [false, true]) {
        const base = find(results, { engine: 'baseline', format, compression, pgp }, rows);
        const ours = find(results, { engine: 'ours', format, compression, pgp, sink: 's3' }, rows);
        if (!base && !ours && !(vsDuck && !pgp)) continue;
        const speed = base && ours ? base.result.seconds / ours.result.seconds : undefined;
        const rss = base && ours ? base.result.maxRssMiB / ours.result.maxRssMiB : undefined;
        const cpu = base && ours ? base.result.cpuSeconds / ours.result.cpuSeconds : undefined;
        if (speed !== undefined) {
          comparedBaseline++;
          if (speed < 1) behindBaseline++;
        }
        const spec = { format, compression, pgp } as CaseSpec;
        const x = (n: number | undefined, show = true) => (show && n !== undefined ? `${fmt(n, 2)}×` : '—');
        lines.push(
          `| ${config(spec)} | ${x(vsDuck, !pgp)} | ${x(vsDuckCpu, !pgp)} | ${x(speed)} | ${x(cpu)} | ${x(rss)} |`,
        );
      }
      if (vsDuck !== undefined && format === 'csv' && compression === 'gzip') {
        verdicts.push(
          `CSV+gzip at least as fast as DuckDB${at}: ${vsDuck <= 1 ? 'HOLDS' : 'MISSED'} (ours takes ${fmt(vsDuck, 2)}× DuckDB's wall time, ${fmt(vsDuckCpu!, 2)}× its CPU time)`,
        );
      }
      if (vsDuck !== undefined && format === 'parquet') {
        verdicts.push(
          `Parquet (${compression === 'gzip' ? 'gzip' : 'snappy'}) within 3× of DuckDB${at}: ${vsDuck <= 3 ? 'HOLDS' : 'MISSED'} (${fmt(vsDuck, 2)}× wall, ${fmt(vsDuckCpu!, 2)}× CPU)`,
        );
      }
    }
  }
  if (comparedBaseline > 0) {
    verdicts.unshift(
      `Ahead of the plain JavaScript baseline on every row${at}: ${behindBaseline === 0 ? 'HOLDS' : `MISSED on ${behindBaseline} of ${comparedBaseline}`}`,
    );
  }
  return { lines, verdicts };
}

/**
 * Memory of each of our configurations at the smallest and the largest row count: peak RSS (one
 * extreme sample, as GC timing and the upload's parts in flight happen to meet) and the 95th
 * percentile of RSS sampled every 100 ms (what the process holds most of the time).
 */
function scaleTable(results: readonly Measured[]): { lines: string[]; verdicts: string[] } {
  const counts = rowCounts(results);
  const small = counts[0]!;
  const large = counts.at(-1)!;
  if (counts.length < 2)
    return {
      lines: [],
      verdicts: ['Memory flat with the row count: NOT MEASURED in this run (use --rows 1000000,10000000)'],
    };
  const lines = [
    '| configuration | sink | rows | peak RSS MiB | p95 RSS MiB | rows | peak RSS MiB | p95 RSS MiB | peak growth | p95 growth |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  let worstPeak = 0;
  let worstP95 = 0;
  for (const m of results.filter((r) => r.spec.rows === large && r.spec.engine === 'ours')) {
    const { engine, format, compression, pgp, sink } = m.spec;
    const before = find(results, { engine, format, compression, pgp, sink }, small);
    if (!before) continue;
    const peak = m.result.maxRssMiB / before.result.maxRssMiB;
    // A case shorter than one 100 ms sample has no RSS samples (p95 0): only its peak counts.
    const p95 = before.result.p95RssMiB > 0 ? m.result.p95RssMiB / before.result.p95RssMiB : 0;
    worstPeak = Math.max(worstPeak, peak);
    worstP95 = Math.max(worstP95, p95);
    lines.push(
      `| ${config(m.spec)} | ${sink === 's3' ? 'S3 (moto)' : 'local file'} | ${count(small)} | ${before.result.maxRssMiB} | ${before.result.p95RssMiB} | ${count(large)} | ${m.result.maxRssMiB} | ${m.result.p95RssMiB} | ${fmt(peak, 2)}× | ${fmt(p95, 2)}× |`,
    );
  }
  const times = fmt(large / small, 0);
  const verdict = (what: string, worst: number) =>
    `Memory flat with ${times}× the rows (${what} growth ≤ 1.15×, every configuration of ours): ${worst <= 1.15 ? 'HOLDS' : 'MISSED'} (worst ${fmt(worst, 2)}×)`;
  return { lines, verdicts: [verdict('peak RSS', worstPeak), verdict('95th-percentile RSS', worstP95)] };
}

/** Ratio tables and verdicts for every row count measured. */
function allRatios(results: readonly Measured[]): {
  sections: { rows: number; lines: string[] }[];
  verdicts: string[];
} {
  const sections = rowCounts(results).map((rows) => ({ rows, ...ratioTable(results, rows) }));
  return { sections, verdicts: sections.flatMap((r) => r.verdicts) };
}

function machineLines(m: Machine): string[] {
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  return [
    `- Command: \`${m.command}\``,
    `- Date: ${m.startedAt}`,
    `- Each case run ${m.repeat} time${m.repeat > 1 ? 's (fastest kept)' : ''}; "load" is the 1-minute load average when the kept run started`,
    `- Machine: ${m.nproc} cores (${m.cpu}), Node ${m.node}; load average (1/5/15 min) ${load(m.loadAtStart)} at start, ${load(m.loadAtEnd)} at end`,
  ];
}

export function printTable(results: readonly Measured[], machine: Machine): void {
  const ratios = allRatios(results);
  const scale = scaleTable(results);
  const out = [
    ...machineLines(machine),
    '',
    ...resultTable(results),
    '',
    ...ratios.sections.flatMap((r) => [...r.lines, '']),
    ...scale.lines,
    '',
    ...ratios.verdicts,
    ...scale.verdicts,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Markers around a section another script owns (bench/workerd.ts); marked sections survive a rewrite. */
export const SECTION_START = '<!-- workerd:start -->';
export const SECTION_END = '<!-- workerd:end -->';

/** Replaces (or appends) the marked section `name` (default the workerd one) of `path`, keeping the rest of the document. */
export function writeSection(path: string, body: string, name = 'workerd'): void {
  const doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const [open, close] = name === 'workerd' ? [SECTION_START, SECTION_END] : [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const block = `${open}\n${body.trim()}\n${close}\n`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  const next =
    start >= 0 && end > start
      ? doc.slice(0, start) + block + doc.slice(end + close.length + 1)
      : `${doc.trimEnd()}\n\n${block}`;
  writeFileSync(path, next);
}

/** Every marked section (`<!-- name:start -->` … `<!-- name:end -->`) of `path`: workerd figures, notes. */
function keptSection(path: string): string {
  if (!existsSync(path)) return '';
  const blocks = readFileSync(path, 'utf8').match(/<!-- ([\w-]+):start -->[\s\S]*?<!-- \1:end -->/g) ?? [];
  return blocks.join('\n\n');
}

/** Writes the Markdown report with the figures, the command and the machine. */
export function writeReport(path: string, results: readonly Measured[], machine: Machine): void {
  const kept = keptSection(path);
  const ratios = allRatios(results);
  const scale = scaleTable(results);
  const doc = [
    '# Benchmarks',
    '',
    'Generated by `bench/run.ts` (do not edit the figures by hand; re-run the command). Each configuration',
    'runs in its own child process, so "peak RSS" is `process.resourceUsage().maxRSS` of that case alone',
    '(Node runtime, tsx loader and the library code included). Rows are generated in the process',
    '(`bench/rows.ts`: 10 mixed columns) for edge-export and the baseline; DuckDB generates the same',
    'values in SQL. Times cover generating, encoding, compressing, encrypting and uploading.',
    '',
    ...machineLines(machine),
    '',
    '## Targets',
    '',
    ...[...ratios.verdicts, ...scale.verdicts].map((v) => `- ${v}`),
    '',
    ...ratios.sections.flatMap((r) => [
      `## Ratios at ${count(r.rows)} rows (measured side by side in the same run)`,
      '',
      ...r.lines,
      '',
    ]),
    ...(scale.lines.length > 0 ? ['## Memory against row count', '', ...scale.lines, ''] : []),
    '## All figures',
    '',
    ...resultTable(results),
    '',
    '## How to read this',
    '',
    '- **edge-export** (`ours`): `runExport` with the Node plugin set (`nodePlugins()`: CSV and JSON written',
    '  straight into UTF-8 chunks, zlib gzip level 1,',
    "  openpgp binary, format/parquet's flat writer with row groups of 10,000 and native snappy / zlib pages),",
    '  sink `sink/s3` (8 MiB parts, 4 in flight) or `sink/local`. Rows enter as `fromRows(generator)` batches.',
    '- **baseline**: the plain JavaScript way — `papaparse.unparse` per 10,000 rows (CSV) or',
    '  `JSON.stringify` per row (NDJSON), `node:zlib` gzip at the same level 1, `openpgp.encrypt` streamed,',
    '  and `@aws-sdk/lib-storage` `Upload` (its defaults: 5 MiB parts, 4 in flight) to the same moto server.',
    "  Parquet: hyparquet-writer's row API `parquetWriteRows` (its default row groups, up to 100,000 rows)",
    '  into a temporary file with its `fileWriter`, then that file uploaded the same way.',
    '- **DuckDB**: `COPY (SELECT … FROM range(n)) TO file (FORMAT …, COMPRESSION …)` via',
    '  `@duckdb/node-api`, default threads, to a local file: DuckDB cannot write to S3 here (its httpfs',
    '  extension is downloaded at run time and this machine has no network), so the DuckDB comparison is',
    '  against edge-export writing to a local file too. DuckDB gzip uses its own level (larger output ≠',
    '  same work: compare the "MiB written" column). PGP has no DuckDB counterpart.',
    '- moto (a Python server) is the upload bottleneck (~105 MB/s for `aws s3 cp`, DESIGN.md §3); S3',
    '  figures measure the whole path against the same server, not S3 itself.',
    '- The machine is shared: the load average is printed next to each case. Compare ratios, not',
    '  absolute times, across runs. With other work on the cores, wall time swings with the load while',
    '  CPU time (user + system of the case process, all threads) stays comparable, so both ratios are',
    '  shown. DuckDB uses both cores: its wall time can be below its CPU time.',
    '',
    ...(kept ? [kept, ''] : []),
  ];
  writeFileSync(path, doc.join('\n'));
}
