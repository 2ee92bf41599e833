/**
 * Request bodies of the /v1 API besides destinations (whose model is the export service's, see
 * src/service/destination.ts), as valibot schemas built from the core's own (mapping, schedule, file
 * naming), so the API reports the same problems with the same paths as the CLI. The OpenAPI
 * document is generated from these.
 */
import * as v from 'valibot';
import { EXPORT_MODES } from '../core/data/export-plan.ts';
import { datasetSchema, idSchema } from '../core/data/model.ts';
import { mappingSchema } from '../core/data/mapping.ts';
import { fileNameOptions } from '../core/naming.ts';
import { partitionOptions } from '../core/partition.ts';
import { scheduleSchema } from '../core/schedule/model.ts';
import { DATASET_MODES } from '../service/subjects.ts';
import { SCOPE_NAMES } from './scopes.ts';
import { ALERT_EVENTS } from './store/alerts.ts';

const name = v.pipe(
  v.string('name: expected a string'),
  v.trim(),
  v.minLength(1, 'name: must not be empty'),
  v.maxLength(128, 'name: at most 128 characters'),
  v.regex(/^[^/\\]*$/, 'name: must not contain / or \\'),
);
const httpsUrl = (field: string) =>
  v.pipe(v.string(`${field}: expected a URL string`), v.url(`${field}: expected an absolute URL`));

/**
 * One audience's own settings in a dataflow, as the reference's activation sets them per audience:
 * its schedule (null: only on demand) and its file naming, each replacing the dataflow's when given.
 */
export const audienceSettingsSchema = v.strictObject({
  id: idSchema,
  schedule: v.optional(v.nullable(scheduleSchema)),
  naming: v.optional(fileNameOptions),
});
export type AudienceSettings = v.InferOutput<typeof audienceSettingsSchema>;

/** Shapes of an alert body (src/worker/alert-body.ts). */
export const ALERT_FORMATS = ['signed-json', 'slack'] as const;

/** Body of POST/PUT /v1/dataflows. Exactly one of audienceIds or datasetId. */
export const dataflowSchema = v.pipe(
  v.strictObject({
    name,
    destinationId: idSchema,
    audienceIds: v.optional(
      v.pipe(
        v.array(idSchema),
        v.minLength(1, 'audienceIds: at least one'),
        v.maxLength(250, 'audienceIds: at most 250'),
      ),
    ),
    /** Per-audience schedule and naming; audiences not listed follow the dataflow's. */
    audiences: v.optional(
      v.pipe(
        v.array(audienceSettingsSchema, 'audiences: expected a list of {id, schedule?, naming?}'),
        v.maxLength(250, 'audiences: at most 250'),
      ),
    ),
    datasetId: v.optional(idSchema),
    mapping: v.optional(mappingSchema),
    /** Absent: the dataflow runs only on demand (API or webhook). */
    schedule: v.optional(scheduleSchema),
    naming: v.optional(fileNameOptions, {}),
    /** One file set per value of one or two mapped columns, under Hive-style `column=value/` folders. */
    partitionBy: v.optional(partitionOptions),
    /** incremental, insert-only and diff keep a state between runs (see docs/API.md, Export modes). */
    exportMode: v.optional(
      v.pipe(
        v.picklist(EXPORT_MODES, `exportMode: expected ${EXPORT_MODES.join(', ')}`),
        v.description(
          'full: every member; incremental: joined, changed and exited members with a status column; insert-only: joined members only; diff: added, changed and removed members as <name>_added/_changed/_removed files (audiences only; see docs/API.md, Export modes)',
        ),
      ),
      'full',
    ),
    alertWebhook: v.optional(httpsUrl('alertWebhook')),
    /** Signs alert bodies (HMAC-SHA256, like inbound webhooks); write-only. Omitted keeps it, null clears it. */
    alertSecret: v.optional(
      v.nullable(
        v.pipe(
          v.string('alertSecret: expected a string'),
          v.minLength(16, 'alertSecret: at least 16 characters'),
          v.maxLength(256, 'alertSecret: at most 256 characters'),
        ),
      ),
    ),
    /** Alert when skipped rows exceed this share (0–1) of the rows read. */
    skippedRateThreshold: v.optional(
      v.pipe(
        v.number('skippedRateThreshold: expected a number between 0 and 1'),
        v.minValue(0, 'skippedRateThreshold: expected a number between 0 and 1'),
        v.maxValue(1, 'skippedRateThreshold: expected a number between 0 and 1'),
      ),
    ),
    /** The events that post to alertWebhook (default: all but run.recovered, as before the field existed). */
    alertEvents: v.optional(
      v.pipe(
        v.array(
          v.picklist(ALERT_EVENTS, `alertEvents: expected one of ${ALERT_EVENTS.join(', ')}`),
          'alertEvents: expected a list of event names',
        ),
        v.minLength(1, 'alertEvents: at least one event (leave alertWebhook out to send none)'),
      ),
    ),
    /** How an alert body is shaped: the signed JSON event, or a Slack incoming-webhook message. */
    alertFormat: v.optional(
      v.picklist(ALERT_FORMATS, `alertFormat: expected ${ALERT_FORMATS.map((f) => `"${f}"`).join(' or ')}`),
      'signed-json',
    ),
    /** A scheduled run not finished this many minutes after its slot posts run.delayed (reason "late"), once. */
    lateAfterMinutes: v.optional(
      v.pipe(
        v.number('lateAfterMinutes: expected a whole number of minutes from 1 to 10080 (a week)'),
        v.integer('lateAfterMinutes: expected a whole number of minutes from 1 to 10080 (a week)'),
        v.minValue(1, 'lateAfterMinutes: expected a whole number of minutes from 1 to 10080 (a week)'),
        v.maxValue(10_080, 'lateAfterMinutes: expected a whole number of minutes from 1 to 10080 (a week)'),
      ),
    ),
    enabled: v.optional(v.boolean('enabled: expected true or false'), true),
  }),
  v.forward(
    v.check(
      (d) => d.lateAfterMinutes === undefined || d.schedule !== undefined,
      'lateAfterMinutes: only a scheduled dataflow can be late (give a schedule, or leave lateAfterMinutes out)',
    ),
    ['lateAfterMinutes'],
  ),
  v.forward(
    v.check(
      (d) => d.lateAfterMinutes === undefined || d.alertEvents === undefined || d.alertEvents.includes('run.delayed'),
      'lateAfterMinutes: the lateness alert is a run.delayed event, which alertEvents leaves out',
    ),
    ['lateAfterMinutes'],
  ),
  v.forward(
    v.check(
      (d) => (d.audienceIds === undefined) !== (d.datasetId === undefined),
      'audienceIds: give audienceIds or datasetId, not both',
    ),
    ['audienceIds'],
  ),
  v.forward(
    v.check((d) => d.datasetId === undefined || d.exportMode === 'full' || d.exportMode === 'incremental', DATASET_MODES),
    ['exportMode'],
  ),
  v.forward(
    v.check(
      (d) => d.datasetId !== undefined || d.mapping !== undefined,
      'mapping: required when exporting audiences',
    ),
    ['mapping'],
  ),
);
export type DataflowInput = v.InferOutput<typeof dataflowSchema>;

/** Body of POST/PUT /v1/audiences. Members of upload audiences arrive through the upload endpoint. */
export const audienceSchema = v.variant(
  'kind',
  [
    v.strictObject({
      kind: v.literal('rule'),
      name,
      rule: v.pipe(
        v.string('rule: expected the segment rule as text'),
        v.minLength(1, 'rule: must not be empty'),
        v.maxLength(20_000),
      ),
      /** The snapshot source its profiles are read from (GET /v1/sources); absent: the profiles in D1. */
      sourceId: v.optional(idSchema),
    }),
    v.strictObject({
      kind: v.literal('upload'),
      name,
      sourceId: v.optional(
        v.never('sourceId: only rule audiences read a snapshot source; an upload audience holds the members uploaded to it'),
      ),
    }),
  ],
  'kind: expected "rule" or "upload"',
);
export type AudienceInput = v.InferOutput<typeof audienceSchema>;

/** Body of POST /v1/datasets: a dataset, its records pushed into D1 or — with `sourceId` — a snapshot source's rows. */
export const datasetInputSchema = v.object({
  ...datasetSchema.entries,
  /** The snapshot source its records are read from (GET /v1/sources); absent: the records in D1. */
  sourceId: v.optional(idSchema),
});

/** Body of POST /v1/audiences/{id}/preview: the draft mapping whose skips are counted (none: members only). */
export const audiencePreviewSchema = v.strictObject({ mapping: v.optional(mappingSchema) });

/** Body of POST /v1/admin/organizations. */
export const organizationSchema = v.strictObject({
  name,
  /** Keep the organization's profiles in this many shards (docs/SCALE.md); absent: in D1, the default. */
  shards: v.optional(v.pipe(shardCount(), v.description('Shards for the organization\'s profiles (docs/SCALE.md); absent: one D1 database, the default'))),
  /** The sandbox name file names may carry (`naming.sandbox`); default `prod`. */
  sandbox: v.optional(
    v.pipe(v.string('sandbox: expected a string'), v.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'sandbox: expected 1–63 lowercase letters, digits and hyphens')),
  ),
});

/** An organization's number of shards: 1–256. */
function shardCount() {
  const expected = 'shards: expected an integer from 1 to 256';
  return v.pipe(v.number(expected), v.integer(expected), v.minValue(1, expected), v.maxValue(256, expected));
}

/** Body of PUT /v1/admin/organizations/{id}/shards: the organization's shards, before it has any profile. */
export const organizationShardsSchema = v.strictObject({ shards: shardCount() });

/** Body of POST /v1/tokens: a name (unique among the organization's live tokens) and its scopes. */
export const tokenSchema = v.strictObject({
  name,
  scopes: v.pipe(
    v.array(
      v.picklist(SCOPE_NAMES, `scopes: expected one of ${SCOPE_NAMES.join(', ')}`),
      'scopes: expected a list of scope names',
    ),
    v.minLength(1, 'scopes: at least one (a token without scopes could call nothing)'),
  ),
});
