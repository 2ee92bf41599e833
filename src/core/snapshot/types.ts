/**
 * Snapshot sources: profiles (or dataset records) kept as files in object storage — Parquet, NDJSON
 * or CSV, one file or a prefix of many, optionally Hive-partitioned (`country=FR/part-0.parquet`) —
 * read where they are instead of being pushed into D1 first.
 *
 * The pieces, each runtime-agnostic (the Worker, the Node and Deno hosts and the CLI share them):
 *
 *   ObjectStore            list / head / ranged read of objects: S3 (SigV4, any auth plugin), an R2
 *                          binding on a Worker, a local folder in the CLI
 *   planSnapshot()         lists the files, reads Parquet footers, checks the schema, and cuts the
 *                          snapshot into units (a file, or a range of one file's row groups) of at
 *                          most `rowsPerTask` rows: the tasks a run fans out to
 *   projection()           the columns an audience needs (its rule, mapping and dedup), so Parquet
 *                          fetches only those column chunks
 *   readUnit()             one unit's rows, projected, as batches (Parquet by byte ranges)
 *
 * This file holds the contracts; the implementations live beside it.
 */
import type { Schema } from '../types.ts';

/** The formats a snapshot can be in. */
export const SNAPSHOT_FORMATS = ['parquet', 'ndjson', 'csv'] as const;
export type SnapshotFormat = (typeof SNAPSHOT_FORMATS)[number];

/** One object of a store. */
export interface ObjectInfo {
  /** The full key (relative to the store's bucket or folder). */
  readonly key: string;
  readonly size: number;
  /** The object's ETag (or a local file's mtime+size): a unit names the version it was planned on. */
  readonly etag?: string;
}

/**
 * Read access to a bucket (or a local folder). Failures are ExportErrors that say what to fix:
 * `SOURCE_NOT_FOUND` (no such key, an empty prefix), `S3_NO_SUCH_BUCKET`, `S3_ACCESS_DENIED` (the
 * credentials were refused, naming the IAM action: s3:ListBucket, s3:GetObject), `NETWORK` /
 * `S3_ERROR` (retryable), as the S3 client translates them.
 */
export interface ObjectStore {
  /** Where the objects are, for messages: `s3://bucket`, `r2://BINDING`, a folder path. */
  readonly describe: string;
  /** Every object under `prefix`, in key order (paged underneath). */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** The object's size and version, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /**
   * Bytes [start, end) of an object (one ranged GET). With `etag`, only of that version: an object
   * replaced since it was listed is refused (SOURCE_CHANGED), never read half old, half new.
   */
  read(key: string, start: number, end: number, etag?: string): Promise<Uint8Array>;
  /** The whole object as a stream (NDJSON, CSV); with `etag`, only that version. */
  stream(key: string, etag?: string): Promise<ReadableStream<Uint8Array>>;
}

/** How a snapshot row becomes a profile (see core/data/profile-rows.ts: flat rows, dotted names nest). */
export interface SnapshotProfileColumns {
  /** Column holding the profile id; default `id`. */
  readonly idColumn?: string;
  /** Column holding the last-change time; default `updatedAt` (absent → the Unix epoch). */
  readonly updatedAtColumn?: string;
}

/** A registered snapshot source, as validated (see `snapshotSourceSchema` in schema.ts). */
export interface SnapshotSource extends SnapshotProfileColumns {
  readonly format: SnapshotFormat;
  /** One object (`key`) or every object under `prefix` (files of other formats are skipped). */
  readonly key?: string;
  readonly prefix?: string;
  /** Read `name=value` folder segments as columns (Hive partitioning). */
  readonly hivePartitioning?: boolean;
  /** Declared columns; a Parquet file's footer must agree with them, NDJSON/CSV are read as them. */
  readonly schema?: Schema;
  /** Most rows per task of a run (default 250,000; Parquet units are whole row groups). */
  readonly rowsPerTask?: number;
  /** CSV only: the csv source's options (delimiter, quote, header…). */
  readonly csv?: Readonly<Record<string, unknown>>;
}

/** One file of a planned snapshot. */
export interface SnapshotFile {
  readonly key: string;
  readonly size: number;
  readonly etag?: string;
  /** Hive partition values of its folders (`{country: 'FR'}`), when `hivePartitioning`. */
  readonly partition?: Readonly<Record<string, string>>;
  /** Parquet: rows per row group, in order (from the footer). */
  readonly rowGroups?: readonly number[];
}

/**
 * One task's share of a snapshot: a whole file (NDJSON, CSV) or row groups [first, end) of one
 * Parquet file. Units are JSON (they travel in queue messages and D1 rows).
 */
export interface SnapshotUnit {
  /** Index into the plan's files. */
  readonly file: number;
  readonly rowGroups?: readonly [first: number, end: number];
  /** Rows in the unit when known (Parquet), for progress and budgets. */
  readonly rows?: number;
}

/** A snapshot cut into units, with the schema every file shares. */
export interface SnapshotPlan {
  readonly format: SnapshotFormat;
  readonly files: readonly SnapshotFile[];
  /** The columns (partition columns last), from the declared schema or the first Parquet footer. */
  readonly schema: Schema;
  readonly units: readonly SnapshotUnit[];
  /** Total rows when known (Parquet). */
  readonly rows?: number;
  /** Total bytes of the files. */
  readonly bytes: number;
  /** CSV only: the source's csv options, so a unit reads as the plan did. */
  readonly csv?: Readonly<Record<string, unknown>>;
}

/** What reading a unit cost: counted by the reader, reported per task and per run. */
export interface ReadStats {
  /** Bytes fetched from the store (ranged GETs or whole objects). */
  bytesFetched: number;
  /** Requests made to the store. */
  requests: number;
  rows: number;
}
