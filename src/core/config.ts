/**
 * The export job as JSON: what the CLI reads from `--config` and the API stores for a dataflow.
 * One valibot schema, so every host reports the same errors with the same paths.
 */
import * as v from 'valibot';
import { mappingSchema } from './data/mapping.ts';
import { outputOptions } from './pipeline.ts';
import { pluginManifest } from './registry.ts';
import { schema } from './schema.ts';

const id = (field: string) =>
  v.pipe(
    v.string(`${field}: expected a string`),
    v.minLength(1, `${field}: must not be empty`),
    v.maxLength(128, `${field}: at most 128 characters`),
  );

export const destinationInfo = v.strictObject({
  id: id('destination.id'),
  name: v.pipe(id('destination.name'), v.regex(/^[^/\\]+$/, 'destination.name: must not contain / or \\')),
  organization: v.optional(v.string()),
  sandbox: v.optional(v.string()),
});

export const exportConfig = v.strictObject({
  /** The plugin manifest inline, or the path of a JSON file holding it (host-resolved). */
  plugins: v.union([pluginManifest, v.string()], 'plugins: expected a plugin manifest object or a path to one'),
  destination: destinationInfo,
  output: v.optional(outputOptions, {}),
  source: v.strictObject({
    /** A file path (CLI) or an uploaded object key (API). */
    path: v.pipe(v.string('source.path: expected a file path'), v.minLength(1)),
    /** Source plugin to read it with; defaults from the file extension (.ndjson/.jsonl, .csv, .parquet). */
    use: v.optional(v.string()),
    options: v.optional(v.unknown()),
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
  /** `incremental` exports joined, changed and exited members since the last successful run. */
  mode: v.optional(v.picklist(['full', 'incremental'], 'mode: expected "full" or "incremental"'), 'full'),
  /** Output columns in order; inferred from the first row when absent (not with `mapping`). */
  schema: v.optional(schema),
  runId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'runId: 1–64 of A-Z a-z 0-9 _ -'))),
  scheduledTime: v.optional(v.pipe(v.string(), v.isoTimestamp('scheduledTime: expected an ISO-8601 timestamp'))),
});
export type ExportConfig = v.InferOutput<typeof exportConfig>;
