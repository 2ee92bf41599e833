/**
 * The CLI's snapshot sources: a `source.path` of `s3://bucket/key`, `s3://bucket/prefix/` or a local
 * folder is read as a snapshot (docs/SNAPSHOTS.md) — planned, projected to the columns the audience
 * names, and read unit by unit — by the same core the Worker uses. A single local file is read as
 * before (load.ts). Problems are reported at the config's own fields (`source.path`, `source.s3.auth`…).
 */
import { stat } from 'node:fs/promises';
import { extname, isAbsolute, resolve } from 'node:path';
import type { Profile } from '../core/data/model.ts';
import { ConfigError, type ConfigIssue, ExportError } from '../core/errors.ts';
import type { Platform } from '../core/platform.ts';
import type { Registry } from '../core/registry.ts';
import { planSnapshot } from '../core/snapshot/plan.ts';
import { countingStore, readUnit, snapshotProfiles } from '../core/snapshot/read.ts';
import { openSnapshotStore } from '../core/snapshot/store.ts';
import { snapshotAuthIssues, snapshotSourceIssues, type S3SnapshotLocation } from '../core/snapshot/schema.ts';
import type { ObjectStore, ReadStats, SnapshotFormat, SnapshotPlan, SnapshotSource, SnapshotUnit } from '../core/snapshot/types.ts';
import type { RowBatch } from '../core/types.ts';
import { localObjectStore } from './local-store.ts';
import { quote } from '../core/validate.ts';
import type { ExportConfig } from './config.ts';

/** The snapshot format a file extension stands for. */
const FORMAT_BY_EXTENSION: Record<string, SnapshotFormat> = {
  '.parquet': 'parquet',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'ndjson',
  '.csv': 'csv',
};

/** Where a config's source is: one local file (read by a source plugin), an S3 location, or a local folder. */
export type SourceTarget =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 's3'; readonly location: S3SnapshotLocation; readonly source: SnapshotSource }
  | { readonly kind: 'folder'; readonly path: string; readonly source: SnapshotSource };

/** True when `path` names an S3 object or prefix. */
export function isS3Path(path: string): boolean {
  return /^s3:\/\//i.test(path);
}

/**
 * Resolves a config's source: a local file (unchanged behaviour), or a snapshot with its validated
 * model; every problem at once, at the config's fields. A local path is a folder when it is one on
 * disk or ends with `/`.
 */
export async function sourceTarget(
  config: ExportConfig,
  baseDir: string,
  registry: Registry,
): Promise<{ target?: SourceTarget; issues: ConfigIssue[] }> {
  const { source } = config;
  if (isS3Path(source.path)) return s3Target(config, registry);
  const path = isAbsolute(source.path) ? source.path : resolve(baseDir, source.path);
  const found = await stat(path).catch(() => undefined);
  const isFolder = /[/\\]$/.test(source.path) || found?.isDirectory() === true;
  const issues: ConfigIssue[] = [];
  if (isFolder && !found?.isDirectory()) {
    const from = isAbsolute(source.path) ? '' : " (a relative path starts at the config's folder)";
    issues.push({ path: 'source.path', message: `no such folder: ${path}${from}`, expected: 'a folder of snapshot files', received: quote(source.path) });
  }
  if (source.s3 !== undefined) issues.push({ path: 'source.s3', message: 'only an s3:// source.path is read from S3; remove source.s3 or give s3://bucket/…' });
  if (!isFolder) {
    if (source.hivePartitioning !== undefined) issues.push(prefixOnly('source.hivePartitioning'));
    if (source.schema !== undefined) {
      issues.push({ path: 'source.schema', message: 'declares a snapshot\'s columns (s3:// or a folder); a single local file is read as it is (the output columns are the top-level schema)' });
    }
    return issues.length > 0 ? { issues } : { target: { kind: 'file', path }, issues };
  }
  const format = formatOf(config, undefined, issues);
  snapshotOnly(config, issues);
  if (issues.length > 0 || !format) return { issues };
  return { target: { kind: 'folder', path, source: snapshotSource(config, format, { prefix: '' }) }, issues };
}

function s3Target(config: ExportConfig, registry: Registry): { target?: SourceTarget; issues: ConfigIssue[] } {
  const { source } = config;
  const issues: ConfigIssue[] = [];
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(source.path)!;
  const bucket = match[1]!;
  const rest = match[2] ?? '';
  if (rest === '') {
    issues.push({
      path: 'source.path',
      message: 'expected s3://bucket/key (one object) or s3://bucket/prefix/ (every object under it)',
      received: quote(source.path),
    });
  }
  const isPrefix = rest.endsWith('/');
  if (!isPrefix && source.hivePartitioning !== undefined) issues.push(prefixOnly('source.hivePartitioning'));
  const format = formatOf(config, isPrefix ? undefined : rest, issues);
  snapshotOnly(config, issues);
  if (source.s3 === undefined) {
    issues.push({
      path: 'source.s3',
      message: 'required for an s3:// source.path: {region?, endpoint?, forcePathStyle?, auth: {method: "accessKey" | "assumedRole", …}}',
    });
  }
  if (issues.length > 0 || !format || !source.s3) return { issues };
  const { auth, ...where } = source.s3;
  const model = {
    name: 'cli',
    format,
    ...(source.schema !== undefined && { schema: source.schema }),
    ...(source.idColumn !== undefined && { idColumn: source.idColumn }),
    ...(source.updatedAtColumn !== undefined && { updatedAtColumn: source.updatedAtColumn }),
    location: { type: 's3', bucket, ...where, ...(isPrefix ? { prefix: rest } : { key: rest }), auth },
    ...(source.hivePartitioning !== undefined && { hivePartitioning: source.hivePartitioning }),
    ...(format === 'csv' && source.options !== undefined && { csv: source.options }),
  };
  const checked = snapshotSourceIssues(model);
  if (!checked.source) return { issues: checked.issues.map(atConfigField) };
  const location = checked.source.location as S3SnapshotLocation;
  const authIssues = snapshotAuthIssues(location, registry).map(atConfigField);
  if (authIssues.length > 0) return { issues: authIssues };
  return { target: { kind: 's3', location, source: snapshotSource(config, format, isPrefix ? { prefix: rest } : { key: rest }) }, issues };
}

/** A snapshot's format: `source.format`, else the key's extension; a prefix must say it. */
function formatOf(config: ExportConfig, key: string | undefined, issues: ConfigIssue[]): SnapshotFormat | undefined {
  const format = config.source.format ?? (key === undefined ? undefined : FORMAT_BY_EXTENSION[extname(key).toLowerCase()]);
  if (format) return format;
  issues.push({
    path: 'source.format',
    message:
      key === undefined
        ? 'required for a prefix or a folder: "parquet", "ndjson" or "csv" (files of other formats under it are skipped)'
        : `cannot tell the format of "${key}" from its extension: give "parquet", "ndjson" or "csv"`,
    expected: '"parquet" | "ndjson" | "csv"',
  });
  return undefined;
}

/** What a snapshot does not take: a source plugin (the format says how it is read), options of a non-CSV format. */
function snapshotOnly(config: ExportConfig, issues: ConfigIssue[]): void {
  const { source } = config;
  if (source.use !== undefined) {
    issues.push({ path: 'source.use', message: 'a snapshot (s3:// or a folder) is read by its source.format; remove source.use' });
  }
  const format = source.format;
  if (source.options !== undefined && format !== undefined && format !== 'csv') {
    issues.push({ path: 'source.options', message: `a snapshot's options are the CSV reader's (source.format "csv"); ${format} takes none` });
  }
}

function prefixOnly(path: string): ConfigIssue {
  return { path, message: 'applies to a prefix (s3://bucket/prefix/) or a folder, not to one file' };
}

function snapshotSource(config: ExportConfig, format: SnapshotFormat, at: { key: string } | { prefix: string }): SnapshotSource {
  const { source } = config;
  return {
    format,
    ...at,
    ...(source.hivePartitioning !== undefined && { hivePartitioning: source.hivePartitioning }),
    ...(source.schema !== undefined && { schema: source.schema }),
    ...(source.idColumn !== undefined && { idColumn: source.idColumn }),
    ...(source.updatedAtColumn !== undefined && { updatedAtColumn: source.updatedAtColumn }),
    ...(format === 'csv' && source.options !== undefined && { csv: source.options as Record<string, unknown> }),
  };
}

/** A source model's issue at the CLI config's field: the location's bucket, key and prefix are `source.path`. */
function atConfigField(issue: ConfigIssue): ConfigIssue {
  const { path } = issue;
  const moved = (to: string, message = issue.message): ConfigIssue => ({ ...issue, path: to, message });
  if (path === 'location.bucket') return moved('source.path', `the bucket name: ${issue.message}`);
  if (path === 'location' || path === 'location.key' || path === 'location.prefix' || path === 'location.type') return moved('source.path');
  if (path.startsWith('location.')) return moved(`source.s3.${path.slice('location.'.length)}`);
  if (path.startsWith('csv')) return moved(`source.options${path.slice('csv'.length)}`);
  return moved(`source.${path}`);
}

/** A planned snapshot, ready to read; `stats` adds up what every pass over it fetched. */
export interface OpenedSnapshot {
  readonly store: ObjectStore;
  readonly source: SnapshotSource;
  readonly plan: SnapshotPlan;
  readonly stats: ReadStats;
}

/**
 * Opens and plans a snapshot target (lists it, reads its Parquet footers or CSV headers, checks the
 * schema); a failure is a ConfigIssue at the field to fix: the path (missing key or prefix, schema
 * mismatch), `source.s3.auth` (credentials refused, naming the IAM action), region or endpoint.
 */
export async function openSnapshot(
  target: Exclude<SourceTarget, { kind: 'file' }>,
  platform: Platform,
  registry: Registry,
): Promise<{ opened?: OpenedSnapshot; issues: ConfigIssue[] }> {
  const store = target.kind === 's3' ? openSnapshotStore(target.location, { platform, registry }) : localObjectStore(target.path);
  // The plan's reads (footers, CSV headers) count too: the summary's bytes fetched are all of them.
  const stats: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
  try {
    const plan = await planSnapshot(countingStore(store, stats), target.source);
    return { opened: { store, source: target.source, plan, stats }, issues: [] };
  } catch (error) {
    if (!(error instanceof ExportError)) throw error;
    // The auth plugin's own refusals (an assumed role without the platform identity) are its options'.
    if (error instanceof ConfigError) return { issues: error.issues.map((i) => ({ ...i, path: i.path ? `source.s3.auth.${i.path}` : 'source.s3.auth' })) };
    return { issues: [{ path: fieldOfFailure(error.code), message: `${error.message} [${error.code}]` }] };
  }
}

/** The config field a reading failure is fixed at. */
function fieldOfFailure(code: string): string {
  if (['S3_ACCESS_DENIED', 'S3_INVALID_ACCESS_KEY', 'S3_SIGNATURE_MISMATCH', 'S3_EXPIRED_TOKEN'].includes(code) || code.startsWith('STS_')) {
    return 'source.s3.auth';
  }
  if (code === 'S3_WRONG_REGION') return 'source.s3.region';
  if (code === 'NETWORK') return 'source.s3.endpoint';
  return 'source.path';
}

/**
 * A re-openable stream of the snapshot's profiles: its units in order (reading READ_AHEAD ahead),
 * each projected to `columns` (Parquet fetches only those column chunks), every pass counted in `stats`.
 */
export function snapshotProfileStream(opened: OpenedSnapshot, columns: readonly string[]): () => ReadableStream<readonly Profile[]> {
  return () => concatUnits(opened, (unit) => snapshotProfiles(readUnit(opened.store, opened.plan, unit, columns, opened.stats), opened.source));
}

/** The snapshot's rows with `columns` (an export of the rows as they are). */
export function snapshotRowStream(opened: OpenedSnapshot, columns: readonly string[]): ReadableStream<RowBatch> {
  return concatUnits(opened, (unit) => readUnit(opened.store, opened.plan, unit, columns, opened.stats));
}

/** Units read ahead of the one being consumed: the next unit's first batch is fetched meanwhile. */
export const READ_AHEAD = 1;

/**
 * One stream over every unit of the plan, in order. While a unit is consumed, the next READ_AHEAD
 * units are opened and their first batch read (for Parquet: one row group's projected columns), so
 * the store's latency overlaps the decoding; memory holds at most 1 + READ_AHEAD units' batches.
 */
function concatUnits<T>(opened: OpenedSnapshot, open: (unit: SnapshotUnit) => ReadableStream<T>): ReadableStream<T> {
  const { units } = opened.plan;
  let next = 0;
  const queue: { reader: ReadableStreamDefaultReader<T>; first?: Promise<ReadableStreamReadResult<T>> | undefined }[] = [];
  const fill = () => {
    while (queue.length <= READ_AHEAD && next < units.length) {
      const reader = open(units[next++]!).getReader();
      const first = queue.length > 0 ? reader.read() : undefined;
      // Handled here, thrown where it is awaited: a unit read ahead and then cancelled raises nothing.
      first?.catch(() => undefined);
      queue.push({ reader, first });
    }
  };
  const cancelAll = async (reason: unknown) => {
    await Promise.all(queue.splice(0).map((entry) => entry.reader.cancel(reason).catch(() => undefined)));
  };
  return new ReadableStream<T>({
    async pull(controller) {
      try {
        for (fill(); queue.length > 0; fill()) {
          const head = queue[0]!;
          const result = await (head.first ?? head.reader.read());
          head.first = undefined;
          if (!result.done) return controller.enqueue(result.value);
          queue.shift();
        }
        controller.close();
      } catch (error) {
        // A unit failed: the ones read ahead stop too.
        await cancelAll(error);
        throw error;
      }
    },
    cancel: (reason) => cancelAll(reason),
  });
}

/**
 * The snapshot as planned and what reading it cost, for the summary: files, units, rows (when the
 * footers say), bytes of the files versus bytes fetched and requests made, rows read.
 */
export function snapshotSummary(opened: OpenedSnapshot): Record<string, number> {
  const { plan, stats } = opened;
  return {
    files: plan.files.length,
    units: plan.units.length,
    ...(plan.rows !== undefined && { rows: plan.rows }),
    bytes: plan.bytes,
    bytesFetched: stats.bytesFetched,
    requests: stats.requests,
    rowsRead: stats.rows,
  };
}
