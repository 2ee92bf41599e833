/**
 * The contracts every stage implements. A stage is a plain, self-describing object made by a
 * factory (`csv(options)`, `gzip()`, …); a plugin is a named bundle of stages with an options schema.
 *
 * Only web-standard APIs appear here: Web Streams, fetch, crypto.subtle, TextEncoder, Blob.
 */
import type { RowEncoder } from './encoded.ts';
import type { ConfigIssue } from './errors.ts';

/** One exported record. Values are JSON-like, plus `Date`, `bigint` and `Uint8Array`. */
export type Row = Record<string, unknown>;

/**
 * Rows travel between stages in batches, one stream chunk per batch: a stream operation per row costs
 * more than encoding the row. A batch may be empty (consumers skip it); a producer must not change a
 * batch once enqueued, and a consumer must not keep it past the call that received it.
 */
export type RowBatch = readonly Row[];

/** Column types understood by every format (Parquet writes them natively, CSV formats them). */
export type ColumnType =
  | 'string'
  | 'integer'
  | 'double'
  | 'boolean'
  | 'timestamp'
  | 'date'
  | { readonly list: ColumnType }
  | { readonly struct: readonly Column[] };

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Defaults to true. */
  readonly nullable?: boolean;
}

export type Schema = readonly Column[];

/** Things the core never reaches for on its own: the host injects them. */
export interface Runtime {
  /** Current time; injected so tests and re-runs are deterministic. */
  now(): Date;
  uuid(): string;
  fetch: typeof fetch;
  /** Structured log sink; secrets must never be passed here. */
  log?(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
  /**
   * A native incremental SHA-256 for the files' checksums (e.g. node:crypto on Node, ~9× the
   * pure-TypeScript default); absent, the pipeline uses its own `createSha256`.
   */
  sha256?(): RuntimeSha256;
}

/**
 * What the pipeline needs of a running SHA-256: bytes in any chunking, a lowercase hex digest once
 * (synchronous, or a promise for stream-based hashes such as workerd's DigestStream).
 */
export interface RuntimeSha256 {
  update(bytes: Uint8Array): unknown;
  digestHex(): string | Promise<string>;
}

/** What a stage may know about the run it works for. */
export interface RunContext extends Runtime {
  readonly runId: string;
  /** When the run was scheduled (UTC); file names and macros derive from it, not from `now()`. */
  readonly scheduledTime: Date;
  readonly signal?: AbortSignal;
  /** Credentials from the pipeline's auth stages (first that applies), for sinks that sign requests. */
  readonly credentials?: (options?: { forceRefresh?: boolean }) => Promise<Credentials>;
  /** Where a durable host keeps the run's in-flight multipart uploads, so a retried run resumes them. */
  readonly uploads?: UploadStateStore;
}

/** An in-flight multipart upload as a durable host keeps it: resume needs the id; parts show progress. */
export interface UploadState {
  readonly key: string;
  readonly uploadId: string;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string; readonly size: number }[];
}

/** The run's in-flight uploads, by object key (a Worker keeps them in the run's row). */
export interface UploadStateStore {
  get(key: string): Promise<{ readonly uploadId: string } | undefined>;
  put(state: UploadState): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * What any stage may offer: checks that need more than its options' schema (parsing a key, asking
 * the host), run when a configuration is validated, before anything is exported.
 */
export interface StageChecks {
  /** Every problem found, paths relative to the plugin's options (none when fine). */
  check?(runtime: Runtime): Promise<readonly ConfigIssue[]>;
}

/** Sources turn bytes (or a store) into batches of rows (one per input chunk or row group, capped). */
export interface SourceStage {
  readonly kind: 'source';
  readonly name: string;
  /** `blob` gives random access (Parquet needs it); a stream is read once, front to back. */
  open(ctx: RunContext, input: SourceInput): Promise<SourceRows>;
}
export type SourceInput = Blob | ReadableStream<Uint8Array>;
export interface SourceRows {
  /** Declared or inferred schema, when the source knows it. */
  readonly schema?: Schema;
  readonly rows: ReadableStream<RowBatch>;
}

/**
 * Formats turn batches of rows into the bytes of one file. A new transform is opened for every file;
 * the pipeline may slice batches (a split at `maxRows`), so a file's rows can arrive in any batching.
 */
export interface FormatStage extends StageChecks {
  readonly kind: 'format';
  readonly name: string;
  /** File extension without the dot: `csv`, `json`, `parquet`. */
  readonly extension: string;
  readonly contentType: string;
  /**
   * False for formats that compress internally (Parquet): an outer compression stage is refused.
   * Defaults to true.
   */
  readonly compressible?: boolean;
  open(ctx: FormatContext): ReadableWritablePair<Uint8Array, RowBatch>;
  /**
   * For formats whose file is a prefix then one independent run of bytes per row (CSV, NDJSON): an
   * encoder of rows, out of the file's stream (a worker thread of the Node and Deno hosts runs it);
   * `open`'s stream takes the batches it encoded (core/encoded.ts) and writes their bytes as they
   * are. Undefined when these options cannot (then rows are always encoded by `open`'s stream).
   */
  rowEncoder?(ctx: FormatContext): RowEncoder | undefined;
}
export interface FormatContext extends RunContext {
  /** Columns in output order. Formats write exactly these, in this order. */
  readonly schema: Schema;
  /** 1-based index of the file within the split series. */
  readonly fileIndex: number;
}

/** Byte-to-byte stages: compression and encryption wrap the previous stream. */
export interface CompressionStage {
  readonly kind: 'compression';
  readonly name: string;
  /** Extension appended after the format's (`gz`), or '' for none. */
  readonly extension: string;
  /** `Content-Encoding` of the object, when the object is still of the format's content type. */
  readonly contentEncoding?: string;
  open(ctx: RunContext): ReadableWritablePair<Uint8Array, Uint8Array> | null;
}

export interface EncryptionStage extends StageChecks {
  readonly kind: 'encryption';
  readonly name: string;
  readonly extension: string;
  /** Content type of the encrypted object; replaces the format's. */
  readonly contentType: string;
  open(ctx: RunContext): Promise<ReadableWritablePair<Uint8Array, Uint8Array>>;
}

/** Naming stages contribute macros to folder paths: `%NAME%` → value. Macro maps are merged. */
export interface NamingStage {
  readonly kind: 'naming';
  readonly name: string;
  readonly macros: Readonly<Record<string, (ctx: NamingContext) => string>>;
}
export interface NamingContext extends RunContext {
  readonly destination: DestinationInfo;
  readonly audience?: { readonly id: string; readonly name: string };
  readonly dataset?: { readonly id: string };
}
export interface DestinationInfo {
  readonly id: string;
  readonly name: string;
  readonly organization?: string;
  readonly sandbox?: string;
}

/** The manifest is written last, after every file of the run. */
export interface ManifestStage {
  readonly kind: 'manifest';
  readonly name: string;
  fileName(ctx: NamingContext): string;
  render(ctx: NamingContext, files: readonly ExportedFile[]): { body: Uint8Array; contentType: string };
}

/** Credentials for signing requests. Auth stages are tried in order; the first that applies wins. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials stop working. */
  readonly expiration?: Date;
}
/** Supplies signing credentials; `forceRefresh` asks for fresh temporary credentials. */
export type CredentialProvider = (opts?: { forceRefresh?: boolean }) => Promise<Credentials>;

export interface AuthStage extends StageChecks {
  readonly kind: 'auth';
  readonly name: string;
  /** Returns null when this method does not apply (for example, no role configured). */
  credentials(ctx: RunContext, options?: { forceRefresh?: boolean }): Promise<Credentials | null>;
  /** The trust policy the customer's role needs so `principalArn` (the platform) may use it. */
  trustPolicy?(principalArn: string): PolicyDocument;
}

/** A file handed to the sink: the body must be consumed fully before the object is published. */
export interface SinkFile {
  /** Object key relative to the bucket (or folder root for a local sink), already confined. */
  readonly key: string;
  readonly contentType: string;
  readonly contentEncoding?: string;
  readonly body: ReadableStream<Uint8Array>;
  /** Known only for small, buffered bodies (the manifest). */
  readonly size?: number;
}
export interface SinkResult {
  readonly key: string;
  readonly size: number;
  /** Where the object lives, as a user would type it: `s3://bucket/key` or a file path. */
  readonly location: string;
  /**
   * True when an object was already at the key (an earlier export's file of the same name): a run
   * that fails later leaves it, since removing it would lose that earlier export too.
   */
  readonly replaced?: boolean;
}
/**
 * Sinks publish atomically: an object appears at its key only when complete. When the body stream
 * errors, nothing is left at the key and no partial upload stays open.
 */
export interface SinkStage extends StageChecks {
  readonly kind: 'sink';
  readonly name: string;
  write(ctx: RunContext, file: SinkFile): Promise<SinkResult>;
  /** Deletes a published object; used to take back the files of a run that failed later on. */
  remove?(ctx: RunContext, key: string): Promise<void>;
  /** The least-privilege permission policy for writing under `folderPath` (a template, macros kept). */
  policy?(folderPath: string): PolicyDocument;
  /** Tests each permission an export needs under `folderPath`, leaving nothing behind. */
  probe?(ctx: RunContext, folderPath: string): Promise<ProbeResult[]>;
  /** A lifecycle rule to add as a backstop (it removes uploads left open under `folderPath`) and how to add it. */
  lifecycle?(folderPath: string): { readonly configuration: LifecycleConfiguration; readonly note: string };
}

/** One IAM policy statement, as AWS reads it. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: { readonly AWS: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/**
 * How a probed permission turned out: `ok`; `missing` (denied, 403); `unsupported` (the store does
 * not implement the operation: 501 NotImplemented, 405 MethodNotAllowed); `error` (anything else:
 * wrong secret, no such bucket, network); `untested` (testing it would have left something behind).
 */
export type ProbeStatus = 'ok' | 'missing' | 'unsupported' | 'error' | 'untested';

/** One probed permission of a connection test. */
export interface ProbeResult {
  /** IAM action, e.g. `s3:PutObject`. */
  readonly action: string;
  /** The resource the action must be granted on (as in the generated policy). */
  readonly resource: string;
  /** `status === 'ok'`. */
  readonly ok: boolean;
  /** Why it failed, what to grant, what breaks without it, or what the probe had to leave behind. */
  readonly message?: string;
  /** Absent from sinks that only say ok or not: then `ok` ? 'ok' : 'missing'. */
  readonly status?: ProbeStatus;
  /** An export fails without it (default true); otherwise it is a warning and `impact` says what breaks. */
  readonly required?: boolean;
  /** What stops working without this permission (the export itself still succeeds). */
  readonly impact?: string;
}

/** An S3 bucket lifecycle configuration, as `aws s3api put-bucket-lifecycle-configuration` takes it. */
export interface LifecycleConfiguration {
  readonly Rules: readonly {
    readonly ID: string;
    readonly Status: 'Enabled' | 'Disabled';
    readonly Filter: { readonly Prefix: string };
    readonly AbortIncompleteMultipartUpload: { readonly DaysAfterInitiation: number };
  }[];
}

/**
 * An upload a failed run could not remove (its abort was refused or failed): where it is, how much it
 * holds, and the command that removes it. Carried in `ExportError.details.leftoverUploads`.
 */
export interface LeftoverUpload {
  /** `s3://bucket/key` */
  readonly location: string;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Bytes of the parts stored so far (as far as the run knows). */
  readonly bytes: number;
  readonly parts: number;
  /** Why it could not be removed. */
  readonly reason: string;
  /** A shell command that removes it, e.g. `aws s3api abort-multipart-upload …`. */
  readonly command: string;
}

export type Stage =
  | SourceStage
  | FormatStage
  | CompressionStage
  | EncryptionStage
  | NamingStage
  | ManifestStage
  | AuthStage
  | SinkStage;
export type StageKind = Stage['kind'];

/** One published file of a run, as recorded in the manifest and the run summary. */
export interface ExportedFile {
  /** Full object key. */
  readonly key: string;
  /** Folder part of the key (the manifest's `sinkPath`). */
  readonly sinkPath: string;
  /** File name part of the key. */
  readonly name: string;
  readonly size: number;
  readonly rows: number;
  /** Hex SHA-256 of the object bytes. */
  readonly sha256: string;
  readonly location: string;
  /** Set when the file replaced an object already at its key (see SinkResult.replaced). */
  readonly replaced?: boolean;
  /** A partitioned export's file: its partition's value of each `partitionBy` column (null: the default partition). */
  readonly partition?: Readonly<Record<string, string | null>>;
  /** A diff export's file: the kind of rows it holds (`added`, `changed` or `removed`). */
  readonly kind?: string;
}
