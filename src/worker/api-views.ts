/**
 * What the /v1 API answers, as valibot schemas: the routes' `present*` views, pages, and results.
 * They feed the OpenAPI document (and so the typed client); the typed-client test parses real
 * answers with them, so a view that drifts from its schema fails there.
 */
import * as v from 'valibot';
import { EXPORT_MODES } from '../core/data/export-plan.ts';
import { datasetSchema } from '../core/data/model.ts';
import { mappingSchema } from '../core/data/mapping.ts';
import { fileNameOptions } from '../core/naming.ts';
import { partitionOptions } from '../core/partition.ts';
import { scheduleSchema } from '../core/schedule/model.ts';
import { destinationSchema } from '../service/destination.ts';
import { snapshotSourceSchema } from '../core/snapshot/schema.ts';
import { SCOPE_NAMES } from './scopes.ts';
import { ALERT_FORMATS } from './schemas.ts';
import { ALERT_EVENTS } from './store/alerts.ts';

const time = v.pipe(v.string(), v.description('ISO 8601 UTC time'));
const id = v.string();
const page = <S extends v.GenericSchema>(item: S) =>
  v.object({ items: v.array(item), cursor: v.optional(v.pipe(v.string(), v.description('Pass as ?cursor= for the next page; absent on the last'))) });

const { auth: _auth, ...destinationFields } = destinationSchema.entries;

/** A destination as stored: its settings with defaults applied, secrets masked. */
export const destinationView = v.object({
  ...destinationFields,
  id,
  name: v.string(),
  bucket: v.string(),
  folderPath: v.string(),
  region: v.string(),
  fileType: v.string(),
  compression: v.string(),
  manifest: v.boolean(),
  auth: v.pipe(
    v.looseObject({ method: v.string() }),
    v.description('The auth settings; secret fields are masked (e.g. "****abcd"), never returned'),
  ),
  externalId: v.optional(v.pipe(v.string(), v.description('Assumed-role destinations: put it in the role trust policy'))),
  createdAt: time,
  updatedAt: time,
});
export const destinationPage = page(destinationView);

/** A problem the API accepted anyway (src/worker/warnings.ts): a rule or mapping name no profile of the organization has. */
export const warningView = v.object({
  path: v.pipe(v.string(), v.description('The field, e.g. rule or mapping.fields[0].source')),
  message: v.pipe(v.string(), v.description('What is wrong, with the closest real name where one is close')),
});
const warnings = v.optional(
  v.pipe(
    v.array(warningView),
    v.description('Present when a rule or mapping names an attribute or identity namespace no profile of the organization has (or none could be checked yet); the resource is saved anyway'),
  ),
);

const dataflowFields = {
  id,
  name: v.string(),
  destinationId: id,
  audienceIds: v.optional(v.array(id)),
  audiences: v.optional(
    v.pipe(
      v.array(v.object({ id, schedule: v.optional(v.nullable(scheduleSchema)), naming: v.optional(fileNameOptions) })),
      v.description("Audiences with their own schedule (null: only on demand) or file naming; the others follow the dataflow's"),
    ),
  ),
  datasetId: v.optional(id),
  mapping: v.union([mappingSchema, v.object({})]),
  schedule: v.optional(scheduleSchema),
  naming: fileNameOptions,
  partitionBy: v.optional(partitionOptions),
  exportMode: v.picklist(EXPORT_MODES),
  alertWebhook: v.optional(v.string()),
  alertSigned: v.pipe(v.boolean(), v.description('Whether alert bodies are signed (the secret is never returned)')),
  skippedRateThreshold: v.optional(v.number()),
  alertEvents: v.pipe(v.array(v.picklist(ALERT_EVENTS)), v.description('The events that post to alertWebhook')),
  alertFormat: v.pipe(v.picklist(ALERT_FORMATS), v.description('signed-json: the event as JSON (signed when alertSigned); slack: a Slack incoming-webhook message')),
  lateAfterMinutes: v.optional(v.pipe(v.number(), v.description('Minutes after its slot a scheduled run must have finished by, or run.delayed (reason "late") posts once'))),
  enabled: v.boolean(),
  webhookUrl: v.pipe(v.string(), v.description('Where signed webhook deliveries trigger this dataflow')),
  createdAt: time,
  updatedAt: time,
};
/** A dataflow; its webhook and alert secrets are never part of it. */
export const dataflowView = v.object(dataflowFields);
/** A dataflow just created, with its webhook secret (shown this once). */
export const createdDataflowView = v.object({
  ...dataflowFields,
  webhookSecret: v.pipe(v.string(), v.description('Signs webhook deliveries; shown only here')),
  warnings,
});
/** A dataflow just replaced, with any warnings about its mapping. */
export const savedDataflowView = v.object({ ...dataflowFields, warnings });
export const dataflowPage = page(dataflowView);

/** An audience; upload audiences read one by one also carry their member count. */
export const audienceView = v.object({
  id,
  name: v.string(),
  kind: v.picklist(['rule', 'upload']),
  rule: v.optional(v.string()),
  sourceId: v.optional(v.pipe(id, v.description('Rule audiences reading a snapshot source: its id (absent: the profiles in D1)'))),
  members: v.optional(v.pipe(v.number(), v.description('Upload audiences, GET by id only: members imported'))),
  createdAt: time,
  updatedAt: time,
});
export const audiencePage = page(audienceView);
/** An audience just created or replaced, with any warnings about its rule. */
export const savedAudienceView = v.object({ ...audienceView.entries, warnings });

const exportedFile = v.looseObject({
  key: v.string(),
  sinkPath: v.string(),
  name: v.string(),
  size: v.number(),
  rows: v.number(),
  sha256: v.string(),
  partition: v.optional(
    v.pipe(v.record(v.string(), v.nullable(v.string())), v.description("A partitioned dataflow's file: its value of each partitionBy column (null: the default partition)")),
  ),
  kind: v.optional(v.pipe(v.picklist(['added', 'changed', 'removed']), v.description('Diff exports: the kind of rows the file holds'))),
});

const counted = (description: string) => v.pipe(v.number(), v.description(description));

/** A run: its status, trigger and, once finished, rows, skipped rows by reason, files and error. */
export const runView = v.object({
  id,
  dataflowId: id,
  trigger: v.picklist(['schedule', 'webhook', 'api']),
  status: v.picklist(['queued', 'running', 'succeeded', 'failed']),
  scheduledTime: time,
  audienceIds: v.optional(v.pipe(v.array(id), v.description("The audiences this run exports (a per-audience schedule's slot); absent: all of the dataflow's"))),
  rows: v.optional(v.number()),
  skipped: v.optional(v.pipe(v.record(v.string(), v.number()), v.description('Rows skipped, by reason'))),
  bytes: v.optional(v.number()),
  files: v.optional(v.array(exportedFile)),
  error: v.optional(v.looseObject({ code: v.optional(v.string()), message: v.optional(v.string()) })),
  attempts: v.number(),
  fanout: v.optional(
    v.pipe(
      v.object({
        tasks: counted('Tasks the run was split into (units of its snapshot, or key ranges of its organization’s shards)'),
        done: counted('Tasks done so far'),
        attempts: counted('Claims of all its tasks: more than tasks when some were retried'),
        bytesFetched: counted('Bytes its done tasks fetched from the snapshot (ranged GETs or whole objects); 0 for shards'),
        requests: counted('Requests its done tasks made to the snapshot store, or pages (RPCs) they read from the shards'),
        rowsRead: counted('Snapshot rows, or shard profiles, its done tasks read'),
      }),
      v.description(
        'A run of a snapshot source or of a sharded organization’s profiles, fanned out over the queue (detail only; docs/SNAPSHOTS.md, docs/SCALE.md)',
      ),
    ),
  ),
  createdAt: time,
  startedAt: v.optional(time),
  finishedAt: v.optional(time),
  durationMs: v.optional(v.number()),
});
export const runPage = page(runView);

export const datasetView = v.object({
  ...datasetSchema.entries,
  sourceId: v.optional(v.pipe(id, v.description("Datasets reading a snapshot source: its id (absent: the records in D1)"))),
  createdAt: time,
});
export const datasetList = v.object({ items: v.array(datasetView) });

export const stored = v.object({ stored: v.pipe(v.number(), v.description('Records stored')) });
export const uploadResult = v.object({
  imported: v.number(),
  rows: v.number(),
  evaluationId: v.pipe(v.string(), v.description('The upload counts as an evaluation of the audience')),
});
export const evaluation = v.object({ evaluationId: v.string(), audienceId: id, evaluatedAt: time });

const count = (description: string) => v.pipe(v.number(), v.description(description));
/** An audience's size before activation (src/worker/preview.ts). */
export const audiencePreview = v.object({
  audienceId: id,
  profiles: count('Profiles in the organization'),
  members: count('Members now (scaled when not complete)'),
  skipped: count('Members the draft mapping would skip (scaled when not complete); 0 without a mapping'),
  skippedBy: v.pipe(
    v.record(v.string(), v.number()),
    v.description('Skipped members by reason, "missing:<field>" or "invalid:<field>" (counted part only)'),
  ),
  complete: v.pipe(v.boolean(), v.description('True when every profile was counted')),
  sample: v.optional(
    v.pipe(
      v.object({ profiles: v.number(), members: v.number(), skipped: v.number() }),
      v.description('What was counted, when not every profile was'),
    ),
  ),
});

/** A connection test: ok when every required permission is. */
export const connectionTest = v.object({
  ok: v.boolean(),
  testedAt: time,
  results: v.array(
    v.object({
      action: v.pipe(v.string(), v.description('IAM action, e.g. s3:PutObject')),
      resource: v.string(),
      ok: v.boolean(),
      status: v.optional(v.picklist(['ok', 'missing', 'unsupported', 'error', 'untested'])),
      required: v.optional(v.boolean()),
      impact: v.optional(v.string()),
      message: v.optional(v.string()),
    }),
  ),
  warnings: v.array(v.string()),
});

const policyDocument = v.pipe(v.looseObject({ Version: v.string(), Statement: v.array(v.looseObject({})) }), v.description('An IAM policy document'));
export const policies = v.object({
  permissionPolicy: policyDocument,
  trustPolicy: v.optional(policyDocument),
  note: v.optional(v.string()),
  lifecycleConfiguration: v.optional(v.looseObject({})),
  lifecycleNote: v.optional(v.string()),
  externalId: v.optional(v.string()),
});

/** An organization just created, with its first API token (shown this once). */
export const createdOrganization = v.object({
  id,
  name: v.string(),
  sandbox: v.string(),
  token: v.pipe(v.string(), v.description('The API token eex_… (scope all); only its hash is kept')),
  tokenId: v.pipe(id, v.description('That token\'s id, to rotate or revoke it (/tokens/{id})')),
  shards: v.optional(v.pipe(v.number(), v.description('Its profiles\' shards, when it was created with some'))),
});

const shardOwner = v.object({
  name: v.pipe(v.string(), v.description('The shard: its Durable Object is named <organization id>/<name>')),
  from: v.pipe(v.number(), v.description('First bucket it owns (of 4,096)')),
  to: v.pipe(v.number(), v.description('Bucket after the last it owns')),
});

/** An organization's shard layout (docs/SCALE.md): null while it keeps its profiles in D1. */
export const organizationShards = v.object({
  organizationId: id,
  layout: v.nullable(
    v.object({
      version: v.literal(1),
      generation: v.pipe(v.number(), v.description('Bumped by every change of owners')),
      shards: v.array(shardOwner),
      next: v.optional(v.pipe(v.array(shardOwner), v.description('While resharding: the owners being copied into'))),
    }),
  ),
  resharding: v.pipe(
    v.object({
      state: v.pipe(v.picklist(['idle', 'copying', 'cleanup']), v.description('idle: no resharding running (the fields below describe the last one, if any)')),
      generation: v.optional(v.pipe(v.number(), v.description('The layout generation grown (0: from the single-database layout)'))),
      from: v.optional(v.picklist(['shards', 'single-database'])),
      shards: v.optional(v.pipe(v.number(), v.description('The shard count grown to'))),
      movedBuckets: v.optional(v.pipe(v.number(), v.description('Buckets (of 4,096) that change owner: the share of profiles copied'))),
      copied: v.optional(v.pipe(v.number(), v.description('Profiles read from their old owners so far'))),
      inserted: v.optional(v.pipe(v.number(), v.description('Of those, the ones their new owner did not have yet (not dual-written by ingest)'))),
      deleted: v.optional(v.pipe(v.number(), v.description('Moved profiles deleted from their old owners by the cleanup'))),
      error: v.optional(v.pipe(v.record(v.string(), v.unknown()), v.description('The last failed step (retried)'))),
      startedAt: v.optional(v.string()),
      flippedAt: v.optional(v.pipe(v.string(), v.description('When the layout became the next owners'))),
      finishedAt: v.optional(v.string()),
    }),
    v.description("The organization's latest resharding (docs/SCALE.md, \"Resharding\")"),
  ),
});

/** An API token as listed: never its secret nor the secret's hash. */
export const tokenView = v.object({
  id,
  name: v.string(),
  scopes: v.array(v.picklist(SCOPE_NAMES)),
  createdAt: time,
  lastUsedAt: v.optional(v.pipe(time, v.description('Written at most once a minute'))),
  rotatedAt: v.optional(time),
  current: v.pipe(v.boolean(), v.description('This is the token that made the request')),
});
export const tokenList = v.object({ items: v.array(tokenView) });
/** A token just created or rotated, with its secret (shown this once; only its hash is kept). */
export const issuedToken = v.object({
  ...tokenView.entries,
  token: v.pipe(v.string(), v.description('The secret eex_…: shown in this response only')),
});

/** A registered plugin: its options as JSON Schema, and the destination field and value that pick it. */
export const pluginView = v.object({
  name: v.pipe(v.string(), v.description('`<kind>/<name>` (format/csv) or a third party\'s own name')),
  kind: v.pipe(v.string(), v.description('format, compression, encryption, auth, naming, manifest, sink or source')),
  description: v.string(),
  options: v.pipe(v.record(v.string(), v.unknown()), v.description("The plugin's options, as JSON Schema (draft 2020-12)")),
  destination: v.optional(
    v.pipe(
      v.object({ field: v.picklist(['fileType', 'compression', 'auth.method']), value: v.string() }),
      v.description('How a destination picks it: `fileType: "avro"`; its options go in formatOptions, compressionOptions or beside auth.method'),
    ),
  ),
  secrets: v.optional(v.pipe(v.array(v.string()), v.description('Options that hold secrets: sealed at rest, masked in answers'))),
});
export type PluginView = v.InferOutput<typeof pluginView>;
export const pluginList = v.object({ items: v.array(pluginView) });

const { location: _location, ...sourceFields } = snapshotSourceSchema.pipe[0].entries;

/** A snapshot source as stored, secrets masked. */
export const sourceView = v.object({
  ...sourceFields,
  id,
  name: v.string(),
  location: v.pipe(
    v.looseObject({ type: v.picklist(['s3', 'r2']) }),
    v.description('Where the files are (as given); an S3 location\'s auth has its secret fields masked (e.g. "****abcd"), never returned'),
  ),
  externalId: v.optional(v.pipe(v.string(), v.description('Assumed-role sources: put it in the role trust policy'))),
  createdAt: time,
  updatedAt: time,
});
export const sourcePage = page(sourceView);

/** A source test (POST /v1/sources/{id}/test): what a run would find, or what to fix. */
export const sourceTest = v.object({
  ok: v.boolean(),
  testedAt: time,
  location: v.pipe(v.string(), v.description('Where it looked: s3://bucket/prefix, r2://BINDING/prefix')),
  files: v.optional(v.pipe(v.number(), v.description('Files of the source\'s format checked: footers (Parquet) or headers (CSV) read and matched against the schema (1 for a key)'))),
  more: v.optional(v.pipe(v.boolean(), v.description('The prefix holds more objects than the test checked (it plans the first 20 listed; a run plans them all)'))),
  bytes: v.optional(v.pipe(v.number(), v.description('Their total size'))),
  rows: v.optional(v.pipe(v.number(), v.description('Parquet: rows in those files (from their footers)'))),
  sample: v.optional(
    v.pipe(
      v.object({
        key: v.string(),
        size: v.number(),
        rows: v.optional(v.pipe(v.number(), v.description('Parquet: rows in the file (from its footer)'))),
        rowGroups: v.optional(v.pipe(v.number(), v.description('Parquet: row groups in the file'))),
      }),
      v.description('The first file, whose footer (Parquet) or first bytes were read'),
    ),
  ),
  schema: v.optional(v.pipe(v.array(v.looseObject({ name: v.string(), type: v.string() })), v.description('The columns a run reads: declared, or from the first file\'s footer (partition columns last)'))),
  error: v.optional(
    v.pipe(
      v.object({
        code: v.pipe(v.string(), v.description('e.g. S3_ACCESS_DENIED, SOURCE_NOT_FOUND, SOURCE_INVALID')),
        message: v.pipe(v.string(), v.description('What failed and what to fix (the missing IAM action, the missing key or empty prefix, the mismatching column)')),
        action: v.optional(v.pipe(v.string(), v.description('Access denied: the IAM action the credentials lack, e.g. s3:ListBucket'))),
      }),
      v.description('Why the test failed (ok: false)'),
    ),
  ),
});

/** The OpenAPI document itself. */
export const openApiView = v.looseObject({ openapi: v.string() });

/** Every refusal: a stable code, a message, and for invalid input each problem with its path. */
export const errorView = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    issues: v.optional(
      v.array(
        v.object({
          path: v.pipe(v.string(), v.description('The field, e.g. auth.roleArn; empty for the whole body')),
          message: v.string(),
          expected: v.optional(v.string()),
          received: v.optional(v.string()),
        }),
      ),
    ),
    details: v.optional(v.record(v.string(), v.unknown())),
  }),
});
