/**
 * The CLI's export config (`--config <file>`). The destination is either a destination as the API
 * takes it (bucket, auth, fileType, … — the same model, validated by the same service) or, for
 * anything else (a local folder, third-party plugins), a plugin manifest under `plugins` with
 * `destination` naming who exports.
 */
import * as v from 'valibot';
import { authShape, destinationSchema } from '../service/destination.ts';
import { EXPORT_MODES } from '../core/data/export-plan.ts';
import { datasetSchema } from '../core/data/model.ts';
import { mappingSchema } from '../core/data/mapping.ts';
import { outputOptions } from '../core/pipeline.ts';
import { pluginManifest } from '../core/registry.ts';
import { schema } from '../core/schema.ts';
import { SNAPSHOT_FORMATS } from '../core/snapshot/types.ts';

const id = (field: string) =>
  v.pipe(
    v.string(`${field}: expected a string`),
    v.minLength(1, `${field}: must not be empty`),
    v.maxLength(128, `${field}: at most 128 characters`),
  );

export const destinationInfo = v.strictObject({
  id: id('destination.id'),
  name: v.pipe(id('destination.name'), v.regex(/^[^/\\]*$/, 'destination.name: must not contain / or \\')),
  organization: v.optional(v.string()),
  sandbox: v.optional(v.string()),
});

/** A whole destination, as the API takes it, plus what the API would assign: id, names. */
export const fullDestination = v.strictObject({
  ...destinationSchema.entries,
  id: id('destination.id'),
  organization: v.optional(v.string('destination.organization: expected the organization name')),
  sandbox: v.optional(v.string('destination.sandbox: expected the sandbox name')),
});
export type FullDestination = v.InferOutput<typeof fullDestination>;

/** True when a config's destination is a whole destination (it names a bucket). */
export function isFullDestination(value: ExportConfig['destination']): value is FullDestination {
  return 'bucket' in value;
}

/**
 * Whether a config's destination is meant as a whole destination: it names a bucket, or any field only
 * a whole destination has (so a forgotten bucket is reported as missing, not `region` as unknown).
 */
function isDestinationLike(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false;
  return Object.keys(input).some((key) => key in fullDestination.entries && !(key in destinationInfo.entries));
}

export const exportConfig = v.strictObject({
  /**
   * The plugin manifest inline, or the path of a JSON file holding it (host-resolved). With a whole
   * destination it is optional and adds to the destination's plugins (modules, naming plugins).
   */
  plugins: v.optional(v.union([pluginManifest, v.string()], 'plugins: expected a plugin manifest object or a path to one')),
  /** A whole destination when it names a bucket; otherwise who exports, for a `plugins` manifest. */
  destination: v.lazy((input) => (isDestinationLike(input) ? fullDestination : destinationInfo)),
  output: v.optional(outputOptions, {}),
  source: v.strictObject({
    /**
     * A local file, a local folder (every file under it: a snapshot prefix), `s3://bucket/key` (one
     * object) or `s3://bucket/prefix/` (every object under it). See docs/SNAPSHOTS.md.
     */
    path: v.pipe(
      v.string('source.path: expected a file or folder path, s3://bucket/key or s3://bucket/prefix/'),
      v.minLength(1, 'source.path: must not be empty'),
    ),
    /** Source plugin to read it with; defaults from the file extension (.ndjson/.jsonl, .csv, .parquet). */
    use: v.optional(v.string()),
    /** A snapshot's format: required for a prefix or a folder, else from the file extension. */
    format: v.optional(
      v.picklist(SNAPSHOT_FORMATS, `source.format: expected ${SNAPSHOT_FORMATS.map((f) => `"${f}"`).join(', ')}`),
    ),
    /** A snapshot's declared columns: Parquet footers must agree; NDJSON and CSV are read (typed) as them. */
    schema: v.optional(datasetSchema.entries.schema),
    /** The column holding the profile id (default `id`) and the last-change time (default `updatedAt`). */
    idColumn: v.optional(v.pipe(v.string('source.idColumn: expected a column name'), v.minLength(1, 'source.idColumn: must not be empty'))),
    updatedAtColumn: v.optional(
      v.pipe(v.string('source.updatedAtColumn: expected a column name'), v.minLength(1, 'source.updatedAtColumn: must not be empty')),
    ),
    /** Read a prefix's `name=value` folders as columns (Hive partitioning). */
    hivePartitioning: v.optional(v.boolean('source.hivePartitioning: expected true or false')),
    /** Where an `s3://` path is read from and with which credentials (the auth methods of destinations). */
    s3: v.optional(
      v.strictObject(
        {
          region: v.optional(v.string('source.s3.region: expected a region name such as "eu-west-1"')),
          /** S3-compatible endpoint (path-style by default). */
          endpoint: v.optional(v.string('source.s3.endpoint: expected a URL such as "https://s3.example.com"')),
          forcePathStyle: v.optional(v.boolean('source.s3.forcePathStyle: expected true or false')),
          auth: authShape,
        },
        'source.s3: expected {region?, endpoint?, forcePathStyle?, auth: {method, …}}',
      ),
    ),
    options: v.optional(v.unknown()),
    /**
     * The attribute names (top-level) and `identities.<namespace>` names the profiles have, when a
     * rule or mapping names one too rare to be in the first profiles `validate` reads (SAMPLED_PROFILES).
     */
    attributes: v.optional(v.array(v.pipe(v.string('source.attributes: expected attribute names'), v.minLength(1)))),
  }),
  audience: v.optional(
    v.strictObject({
      id: id('audience.id'),
      name: id('audience.name'),
      /** A segment definition evaluated over the source rows (profiles). */
      rule: v.optional(v.string()),
    }),
  ),
  dataset: v.optional(v.strictObject({ id: id('dataset.id') })),
  /**
   * Profile mapping `{fields: [{source, target?, type?, mandatory?}], dedup?}`: the source rows are
   * profiles, filtered by `audience.rule` when given, and each member becomes one mapped row.
   */
  mapping: v.optional(mappingSchema),
  /**
   * `incremental` exports joined, changed and exited members since the last successful run (one file
   * with a status column); `insert-only` only the joined ones; `diff` the three kinds as their own
   * files (`…_added`, `…_changed`, `…_removed`). All three keep a state (`--state`).
   */
  mode: v.optional(v.picklist(EXPORT_MODES, `mode: expected ${EXPORT_MODES.map((m) => `"${m}"`).join(', ')}`), 'full'),
  /** Output columns in order; inferred from the first row when absent (not with `mapping`). */
  schema: v.optional(schema),
  runId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'runId: 1–64 of A-Z a-z 0-9 _ -'))),
  scheduledTime: v.optional(v.pipe(v.string(), v.isoTimestamp('scheduledTime: expected an ISO-8601 timestamp'))),
});

/** The config with the rules that span fields: what a whole destination settles, `plugins` may not. */
export const cliConfig = v.pipe(
  exportConfig,
  v.forward(
    v.check(
      (c) => c.plugins !== undefined || 'bucket' in c.destination,
      'plugins: required unless destination is a whole destination (with bucket and auth)',
    ),
    ['plugins'],
  ),
  v.forward(
    v.check(
      (c) => !('bucket' in c.destination) || c.output.folderPath === '',
      'output.folderPath: the destination sets the folder (destination.folderPath); remove output.folderPath',
    ),
    ['output', 'folderPath'],
  ),
);
export type ExportConfig = v.InferOutput<typeof exportConfig>;
