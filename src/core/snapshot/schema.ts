/**
 * The snapshot source model: what a user fills in to read profiles from files in object storage
 * (the API's `/v1/sources` body, the CLI's `source`). Values are validated where they are used —
 * the bucket as sink/s3 validates it, the CSV options by source/csv, the auth options by the auth
 * plugin (`snapshotAuthIssues`) — and every problem is reported at the user's own field.
 *
 * @example toSnapshotSource(v.parse(snapshotSourceSchema, { name: 'crm', format: 'parquet', location: { type: 's3', bucket: 'acme', prefix: 'crm/', auth } }))
 */
import * as v from 'valibot';
import type { ConfigIssue } from '../errors.ts';
import type { Registry } from '../registry.ts';
import { didYouMean } from '../suggest.ts';
import { quote, toConfigIssues } from '../validate.ts';
import { datasetSchema } from '../data/model.ts';
import { csvSourceOptions } from '../../plugins/source/csv/index.ts';
import { bucketSchema } from '../../plugins/sink/s3/options.ts';
import { authShape } from '../../service/destination.ts';
import { SNAPSHOT_FORMATS, type SnapshotSource } from './types.ts';

/** Rows per task when a source sets none. */
export const DEFAULT_ROWS_PER_TASK = 250_000;

const text = (field: string) => v.string(`${field}: expected a string`);
const nonEmpty = (field: string) =>
  v.pipe(text(field), v.trim(), v.minLength(1, `${field}: must not be empty`));

/** A key or prefix: relative, plain segments (no `..`, no leading `/`, no `//`, no backslash). */
const objectPath = (field: string, folder: boolean) =>
  v.pipe(
    text(`location.${field}`),
    v.minLength(1, `location.${field}: must not be empty`),
    v.check(
      (p: string) =>
        !p.startsWith('/') &&
        !p.includes('\\') &&
        !p.includes('//') &&
        p.split('/').every((s) => s !== '.' && s !== '..'),
      `location.${field}: expected plain path segments: no leading "/", no "." or ".." segment, no "//", no backslash`,
    ),
    v.check(
      (p: string) => folder || !p.endsWith('/'),
      `location.${field}: a key names one object; use prefix for a folder`,
    ),
  );

/** Exactly one of `key` (one object) and `prefix` (every object under it). */
const keyOrPrefix = <T extends { key?: string | undefined; prefix?: string | undefined }>() =>
  v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { key, prefix } = dataset.value;
    if ((key === undefined) === (prefix === undefined)) {
      addIssue({
        message:
          key === undefined
            ? 'give key (one object) or prefix (a folder of objects)'
            : 'give key or prefix, not both',
        expected: 'key | prefix',
        path: [
          {
            type: 'object',
            origin: 'value',
            input: dataset.value,
            key: key === undefined ? 'key' : 'prefix',
            value: undefined,
          },
        ],
      });
    }
  });

const s3Location = v.pipe(
  v.strictObject({
    type: v.literal('s3'),
    bucket: bucketSchema,
    region: v.optional(
      v.pipe(
        text('location.region'),
        v.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'location.region: expected an AWS region like us-east-1'),
      ),
      'us-east-1',
    ),
    /** S3-compatible endpoint (path-style by default). */
    endpoint: v.optional(
      v.pipe(
        text('location.endpoint'),
        v.regex(/^https?:\/\/[^\s]+$/, 'location.endpoint: expected an http(s) URL'),
      ),
    ),
    forcePathStyle: v.optional(v.boolean('location.forcePathStyle: expected true or false')),
    key: v.optional(objectPath('key', false)),
    prefix: v.optional(objectPath('prefix', true)),
    auth: authShape,
  }),
  keyOrPrefix(),
);

const r2Location = v.pipe(
  v.strictObject({
    type: v.literal('r2'),
    /** The Worker's R2 binding name (wrangler.toml `[[r2_buckets]] binding`). */
    binding: v.pipe(
      text('location.binding'),
      v.regex(
        /^[A-Za-z_][A-Za-z0-9_]*$/,
        'location.binding: expected the name of an R2 binding such as SNAPSHOTS',
      ),
    ),
    key: v.optional(objectPath('key', false)),
    prefix: v.optional(objectPath('prefix', true)),
  }),
  keyOrPrefix(),
);

/** Where a snapshot is: an S3 bucket (any S3-compatible endpoint) or an R2 binding. */
export const snapshotLocationSchema = v.variant(
  'type',
  [s3Location, r2Location],
  'location.type: expected "s3" or "r2"',
);
export type SnapshotLocation = v.InferOutput<typeof snapshotLocationSchema>;
export type S3SnapshotLocation = Extract<SnapshotLocation, { type: 's3' }>;
export type R2SnapshotLocation = Extract<SnapshotLocation, { type: 'r2' }>;

/** A snapshot source as users give it (API body, CLI config). */
export const snapshotSourceSchema = v.pipe(
  v.strictObject({
    name: v.pipe(nonEmpty('name'), v.maxLength(128, 'name: at most 128 characters')),
    description: v.optional(
      v.pipe(text('description'), v.maxLength(1024, 'description: at most 1024 characters')),
    ),
    format: v.picklist(
      SNAPSHOT_FORMATS,
      `format: expected ${SNAPSHOT_FORMATS.map((f) => `"${f}"`).join(', ')}`,
    ),
    location: snapshotLocationSchema,
    /** `country=FR/` folders become a `country` column. */
    hivePartitioning: v.optional(v.boolean('hivePartitioning: expected true or false')),
    /** Declared columns: Parquet footers must agree; NDJSON and CSV are read as them. */
    schema: v.optional(datasetSchema.entries.schema),
    idColumn: v.optional(nonEmpty('idColumn')),
    updatedAtColumn: v.optional(nonEmpty('updatedAtColumn')),
    rowsPerTask: v.optional(
      v.pipe(
        v.number('rowsPerTask: expected a number'),
        v.integer('rowsPerTask: expected a whole number'),
        v.minValue(1000, 'rowsPerTask: at least 1000'),
        v.maxValue(10_000_000, 'rowsPerTask: at most 10000000'),
      ),
    ),
    /** CSV only: source/csv's options (delimiter, quote, escape, header, nullValue, encoding). */
    csv: v.optional(csvSourceOptions),
  }),
  v.forward(
    v.check((s) => s.csv === undefined || s.format === 'csv', 'csv: options apply to format "csv" only'),
    ['csv'],
  ),
);
export type SnapshotSourceConfig = v.InferOutput<typeof snapshotSourceSchema>;
export type SnapshotSourceInput = v.InferInput<typeof snapshotSourceSchema>;

/**
 * Validates a source body: every problem at once, each at the user's field (`location.bucket`,
 * `csv.delimiter`), unknown fields with the closest known one.
 */
export function snapshotSourceIssues(input: unknown): {
  source?: SnapshotSourceConfig;
  issues: ConfigIssue[];
} {
  const result = v.safeParse(snapshotSourceSchema, input);
  if (result.success) return { source: result.output, issues: [] };
  return { issues: toConfigIssues(result.issues, '', snapshotSourceSchema) };
}

/**
 * Problems of an S3 location's `auth`, found by its plugin (`auth/<method>`): an unknown method
 * names the available ones, an option problem is reported at `location.auth.<option>`; secrets are
 * never echoed. An R2 location has none.
 *
 * @example snapshotAuthIssues(source.location, hostRegistry(platform))
 */
export function snapshotAuthIssues(location: SnapshotLocation, registry: Registry): ConfigIssue[] {
  if (location.type !== 's3') return [];
  const { method, ...options } = location.auth;
  const plugin = registry.get(`auth/${method}`);
  if (!plugin) {
    const methods = registry
      .list()
      .filter((p) => p.name.startsWith('auth/'))
      .map((p) => p.name.slice('auth/'.length));
    return [
      {
        path: 'location.auth.method',
        message: `${quote(method)} is not available on this host; expected ${methods.join(' or ')}${didYouMean(method, methods)}`,
        expected: methods.join(' | '),
        received: quote(method),
      },
    ];
  }
  const parsed = v.safeParse(plugin.options, options);
  return parsed.success ? [] : toConfigIssues(parsed.issues, 'location.auth', plugin.options);
}

/** The reading half of a validated source (where the files are is its `location`). */
export function toSnapshotSource(config: SnapshotSourceConfig): SnapshotSource {
  const { location } = config;
  return {
    format: config.format,
    ...(location.key !== undefined && { key: location.key }),
    ...(location.prefix !== undefined && { prefix: location.prefix }),
    ...(config.hivePartitioning !== undefined && { hivePartitioning: config.hivePartitioning }),
    ...(config.schema !== undefined && { schema: config.schema }),
    ...(config.idColumn !== undefined && { idColumn: config.idColumn }),
    ...(config.updatedAtColumn !== undefined && { updatedAtColumn: config.updatedAtColumn }),
    ...(config.rowsPerTask !== undefined && { rowsPerTask: config.rowsPerTask }),
    ...(config.csv !== undefined && { csv: config.csv }),
  };
}
