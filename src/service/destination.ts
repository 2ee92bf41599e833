/**
 * The destination model: what a user fills in to connect a bucket (the API's body, the CLI's
 * `destination`), and the one place it becomes a plugin manifest. Field values are validated by the
 * plugins they feed (bucket and region by sink/s3, keys by auth/accessKey, `formatOptions` by the
 * format, the key by encryption/pgp), and every problem is reported at the user's field: a
 * `plugins[6].options.bucket` issue comes back as `bucket`.
 *
 * Adding a format, a compression or an auth method is a plugin: `fileType: "avro"` picks
 * `format/avro`, `auth: {method: "oidc", …}` picks `auth/oidc`, with no change here.
 */
import * as v from 'valibot';
import type { ConfigIssue } from '../core/errors.ts';
import type { OutputOptions } from '../core/pipeline.ts';
import type { PluginManifest } from '../core/registry.ts';
import type { DestinationInfo } from '../core/types.ts';
import { didYouMean } from '../core/suggest.ts';
import { quote } from '../core/validate.ts';
import type { ExportDefinition } from './export-service.ts';

const name = v.pipe(
  v.string('name: expected a string'),
  v.trim(),
  v.minLength(1, 'name: must not be empty'),
  v.maxLength(128, 'name: at most 128 characters'),
  v.regex(/^[^/\\]*$/, 'name: must not contain / or \\'),
);
const text = (field: string) => v.string(`${field}: expected a string`);
const options = (field: string) =>
  v.record(v.string(), v.unknown(), `${field}: expected an object of options`);

/** `auth`: a method (its plugin is `auth/<method>`) and that plugin's options beside it (also a snapshot source's). */
export const authShape = v.looseObject(
  {
    method: v.pipe(
      v.string('auth.method: expected a string such as "accessKey" or "assumedRole"'),
      v.regex(/^[A-Za-z][A-Za-z0-9]*$/, 'auth.method: expected a method name such as "accessKey" or "assumedRole"'),
    ),
  },
  'auth: expected {method: "accessKey" | "assumedRole", …}',
);

/**
 * A destination as users give it. Values are typed here and validated by the plugins they feed,
 * so each host, the CLI and the API report the same problems at the same fields.
 */
export const destinationSchema = v.strictObject({
  name,
  description: v.optional(v.pipe(text('description'), v.maxLength(1024, 'description: at most 1024 characters'))),
  bucket: text('bucket'),
  folderPath: v.optional(text('folderPath'), ''),
  region: v.optional(text('region'), 'us-east-1'),
  /** S3-compatible endpoint (path-style by default). */
  endpoint: v.optional(text('endpoint')),
  forcePathStyle: v.optional(v.boolean('forcePathStyle: expected true or false')),
  auth: authShape,
  /** `csv`, `json`, `parquet`, or another format plugin: `format/<fileType>`, or a full plugin name. */
  fileType: v.optional(text('fileType'), 'csv'),
  /** Options of the format plugin (format/csv: Spark's writer options). */
  formatOptions: v.optional(options('formatOptions'), {}),
  /** `none`, `gzip`, or another compression plugin. */
  compression: v.optional(text('compression'), 'none'),
  /** Options of the compression plugin (gzip: `level`). */
  compressionOptions: v.optional(options('compressionOptions'), {}),
  manifest: v.optional(v.boolean('manifest: expected true or false'), false),
  /** The customer's ASCII-armored OpenPGP public key: files are encrypted to it. */
  pgpPublicKey: v.optional(text('pgpPublicKey')),
  sse: v.optional(text('sse')),
  kmsKeyId: v.optional(text('kmsKeyId')),
  acl: v.optional(text('acl')),
  storageClass: v.optional(text('storageClass')),
  tags: v.optional(v.record(v.string(), v.string(), 'tags: expected an object of string values')),
  metadata: v.optional(v.record(v.string(), v.string(), 'metadata: expected an object of string values')),
});
export type Destination = v.InferOutput<typeof destinationSchema>;
export type DestinationInput = v.InferInput<typeof destinationSchema>;

/** Destination fields that become sink/s3 options under the same names. */
const SINK_FIELDS = ['bucket', 'region', 'endpoint', 'forcePathStyle', 'sse', 'kmsKeyId', 'acl', 'storageClass', 'tags', 'metadata'] as const;

/** One plugin entry of a destination, with where its problems belong in the user's terms. */
interface Entry {
  readonly use: string;
  readonly options?: unknown;
  /** The field an entry-level problem (unknown plugin, wrong combination) is reported at. */
  readonly field: string;
  /** The value the user chose for `field` (`xml`), named when no plugin serves it. */
  readonly choice?: string;
  /** The field of one of its options (`delimiter` → `formatOptions.delimiter`). */
  readonly optionAt: (path: string) => string;
}

/** A destination as a plugin manifest, with a map from manifest problems back to its fields. */
export interface DestinationManifest {
  readonly manifest: PluginManifest;
  /** `plugins[6].options.bucket` → `bucket`; issues elsewhere pass unchanged. */
  readonly locate: (issue: ConfigIssue) => ConfigIssue;
}

/**
 * The plugin manifest a destination stands for: format, compression, encryption, naming, manifest,
 * auth and the S3 sink, in that order. `formats` lists the format plugin names the host knows, so
 * `fileType: "csv"` resolves to `format/csv` and a third-party name is used as given.
 *
 * @example destinationManifest({ ...d, fileType: 'parquet', formatOptions: { codec: 'zstd' } }).manifest
 */
export function destinationManifest(d: Destination, extra: { externalId?: string } = {}): DestinationManifest {
  const under = (prefix: string) => (path: string) => (path ? `${prefix}.${path}` : prefix);
  const { method, ...auth } = d.auth;
  const entries: Entry[] = [
    { use: pluginName('format', d.fileType), options: d.formatOptions, field: 'fileType', choice: d.fileType, optionAt: under('formatOptions') },
    ...(d.compression === 'none'
      ? []
      : [
          {
            use: pluginName('compression', d.compression),
            options: d.compressionOptions,
            field: 'compression',
            choice: d.compression,
            optionAt: under('compressionOptions'),
          },
        ]),
    ...(d.pgpPublicKey === undefined
      ? []
      : [{ use: 'encryption/pgp', options: { publicKey: d.pgpPublicKey }, field: 'pgpPublicKey', optionAt: (p: string) => p.replace(/^publicKey/, 'pgpPublicKey') || 'pgpPublicKey' }]),
    { use: 'naming/segment', options: {}, field: 'folderPath', optionAt: () => 'folderPath' },
    { use: 'naming/date', options: {}, field: 'folderPath', optionAt: () => 'folderPath' },
    ...(d.manifest ? [{ use: 'manifest/json', options: {}, field: 'manifest', optionAt: () => 'manifest' }] : []),
    {
      use: `auth/${method}`,
      options: { ...auth, ...(extra.externalId !== undefined && { externalId: extra.externalId }) },
      field: 'auth.method',
      choice: method,
      optionAt: under('auth'),
    },
    { use: 'sink/s3', options: sinkOptions(d), field: 'bucket', optionAt: (p) => p || 'bucket' },
  ];
  const manifest: PluginManifest = { plugins: entries.map(({ use, options }) => ({ use, options })) };
  return {
    manifest,
    locate: (issue) => {
      const match = /^plugins\[(\d+)\](\.use)?(?:\.options(?:\.(.*)|(\[.*))?)?$/.exec(issue.path);
      const entry = match ? entries[Number(match[1])] : undefined;
      if (!match || !entry) return issue;
      if (match[2] && entry.choice !== undefined) return unavailable(entry, issue);
      if (!issue.path.includes('.options')) return { ...issue, path: entry.field };
      return { ...issue, path: entry.optionAt(match[3] ?? match[4] ?? '') };
    },
  };
}

/** `fileType: "xml"` when no `format/xml` is registered: what is, in the field's own terms. */
function unavailable(entry: Entry, issue: ConfigIssue): ConfigIssue {
  const kind = `${entry.use.split('/')[0]}/`;
  const offered = (issue.expected ?? '')
    .split(' | ')
    .filter((name) => name.startsWith(kind))
    .map((name) => name.slice(kind.length));
  if (entry.field === 'compression') offered.unshift('none');
  const list = offered.length > 1 ? `${offered.slice(0, -1).join(', ')} or ${offered.at(-1)}` : (offered[0] ?? 'none');
  return {
    path: entry.field,
    message: `${entry.field}: ${quote(entry.choice)} is not available on this host; expected ${list}${didYouMean(entry.choice!, offered)}`,
    expected: offered.join(' | '),
    received: quote(entry.choice),
  };
}

/** `csv` → `format/csv`; a full plugin name (`acme/avro`) is used as given. */
function pluginName(kind: string, value: string): string {
  return value.includes('/') ? value : `${kind}/${value}`;
}

function sinkOptions(d: Destination): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const field of SINK_FIELDS) if (d[field] !== undefined) options[field] = d[field];
  // S3-compatible stores (MinIO, R2, moto) are reached path-style unless told otherwise.
  if (d.endpoint !== undefined && d.forcePathStyle === undefined) options.forcePathStyle = true;
  return options;
}

/** How a destination is exported on someone's behalf: the parts of a definition besides the plugins. */
export interface DestinationExport {
  readonly destination: Destination;
  /** Id, name, organization and sandbox names that file names and manifests use. */
  readonly info: DestinationInfo;
  /** An assumed role's external id, when the host assigns it (the API does; a CLI config gives it). */
  readonly externalId?: string;
  readonly fileName?: OutputOptions['fileName'];
  readonly split?: OutputOptions['split'];
  /** Partitioning by column value (a dataflow's `partitionBy`, a CLI config's `output.partitionBy`). */
  readonly partitionBy?: OutputOptions['partitionBy'];
  /** Where the partitioning sits: `partitionBy` (a dataflow) or `output.partitionBy` (a CLI config). */
  readonly partitionByAt?: string;
  /** Plugins to add (a CLI config's extra naming plugins) and modules to import. */
  readonly extra?: Partial<PluginManifest>;
  /** Where the destination's fields sit in the user's document: '' (API body) or 'destination'. */
  readonly at?: string;
  /** Where the file-name options sit: `naming` (a dataflow) or `output.fileName` (a CLI config). */
  readonly fileNameAt?: string;
}

/**
 * The export definition of a destination: its manifest, its folder and manifest switch as the
 * output, and problems reported at the user's own fields.
 *
 * @example exportService(platform).check(destinationDefinition({ destination, info: { id, name } }))
 */
export function destinationDefinition(input: DestinationExport): ExportDefinition {
  const { destination: d } = input;
  const built = destinationManifest(d, input.externalId === undefined ? {} : { externalId: input.externalId });
  const at = (field: string) => (input.at ? `${input.at}.${field}` : field);
  const rename = (issue: ConfigIssue, path: string): ConfigIssue => (path === issue.path ? issue : { ...issue, path });
  const fileNameAt = input.fileNameAt ?? at('fileName');
  const plugins = [...built.manifest.plugins, ...(input.extra?.plugins ?? [])];
  return {
    destination: input.info,
    manifest: { ...(input.extra?.modules && { modules: input.extra.modules }), plugins },
    output: {
      folderPath: d.folderPath,
      manifest: d.manifest,
      ...(input.fileName && { fileName: input.fileName }),
      ...(input.split && { split: input.split }),
      ...(input.partitionBy && { partitionBy: input.partitionBy }),
    },
    locate: (issue) => {
      const { path } = issue;
      if (path.startsWith('output.fileName')) return rename(issue, fileNameAt + path.slice('output.fileName'.length));
      if (path.startsWith('output.partitionBy')) return rename(issue, (input.partitionByAt ?? at('partitionBy')) + path.slice('output.partitionBy'.length));
      if (path.startsWith('output.')) return rename(issue, at(path.slice('output.'.length)));
      const located = built.locate(issue);
      return located === issue ? issue : rename(located, at(located.path));
    },
  };
}
