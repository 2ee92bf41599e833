/**
 * Data ingestion: /v1/profiles and /v1/datasets (create, read, records) in batches of NDJSON or CSV.
 * A batch is validated whole first: one bad record refuses the batch, listing every bad line.
 */
import { Hono } from 'hono';
import { ConfigError } from '../../core/errors.ts';
import { quote } from '../../core/validate.ts';
import type { Schema } from '../../core/types.ts';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { ApiError, notFound } from '../errors.ts';
import { type AppDeps, type AppEnv, body } from '../http.ts';
import { bodyKind, readBatch } from '../ingest.ts';
import { profileCheck, recordCheck } from '../records.ts';
import { d1ValueBytes } from '../env.ts';
import { json } from '../store/db.ts';
import { datasetInputSchema } from '../schemas.ts';
import { getSource } from '../store/sources.ts';
import { recordIngestEvaluation } from '../store/evaluations.ts';
import {
  type DatasetRow,
  getDatasetRow,
  insertDataset,
  listDatasetRows,
  upsertProfileNames,
  upsertProfiles,
  upsertRecords,
} from '../store/writes.ts';
import { shardedOrg, shardProfile, writeShardedProfiles } from '../shards/profiles.ts';
import { writeD1CopyTargets } from '../reshard.ts';
import { d1CopyTargets } from '../store/reshards.ts';

/** Routes of /v1/profiles. */
export function profileRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post(
    '/',
    describe({
      operationId: 'upsertProfiles',
      tag: 'Profiles',
      summary: 'Upsert a batch of profiles (at most 10,000), all-or-nothing',
      body: {
        description: 'A batch, streamed: NDJSON (one Profile per line) or CSV with a header row',
        content: {
          'application/x-ndjson': 'One Profile JSON object per line (see components.schemas.Profile)',
          'text/csv': 'Columns: id, updatedAt, identities.<namespace> (values separated by |), attributes.<path>[:string|number|boolean|json]',
        },
      },
      success: { status: 200, description: 'Every record stored', schema: views.stored },
      errors: { 400: 'Invalid batch: nothing stored; details.errors lists each bad record with line, path, message' },
      description:
        "A sharded organization's batch is written to each of its shards at once, all-or-nothing per shard (docs/SCALE.md).",
    }),
    async (c) => {
    const kind = bodyKind(c.req.header('Content-Type'));
    const profiles = await readBatch(c.req.raw.body, kind, profileCheck(kind));
    const sharded = await shardedOrg(c.env, c.get('orgId'));
    if (sharded) {
      // A sharded organization (docs/SCALE.md, "Ingest"): every owner written at once; the names stay in D1.
      const now = deps.now();
      await writeShardedProfiles(sharded, profiles.map((p) => shardProfile(p, now, d1ValueBytes(c.env))));
      await upsertProfileNames(c.env.DB, c.get('orgId'), profiles, d1ValueBytes(c.env));
    } else {
      // While a single-database organization's profiles are copied to shards (docs/SCALE.md, "Resharding"),
      // its batches go to their new owners too (first: a newer profile is never overwritten by the copy).
      const next = await d1CopyTargets(c.env.DB, c.get('orgId'));
      if (next) await writeD1CopyTargets(c.env, c.get('orgId'), next, profiles, deps.now());
      await upsertProfiles(c.env.DB, c.get('orgId'), profiles, deps.now(), d1ValueBytes(c.env));
    }
    // Profiles changed: the organization's audiences are due for evaluation ("afterEvaluation").
    if (profiles.length > 0) await recordIngestEvaluation(c.env.DB, c.get('orgId'), deps.now());
    return c.json({ stored: profiles.length });
  });
}

/** Routes of /v1/datasets. */
export function datasetRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post(
      '/',
      describe({
        operationId: 'createDataset',
        tag: 'Datasets',
        summary: 'Create a dataset with its column schema',
        body: datasetInputSchema,
        success: { status: 201, description: 'The dataset', schema: views.datasetView },
        errors: { 409: 'The id is taken' },
      }),
      async (c) => {
      const input = await body(c, datasetInputSchema, 'dataset');
      if (input.sourceId !== undefined && !(await getSource(c.env.DB, c.get('orgId'), input.sourceId))) {
        const received = quote(input.sourceId);
        const message = `sourceId: no such source in this organization, received ${received}`;
        throw new ConfigError([{ path: 'sourceId', message, expected: 'the id of a source (GET /v1/sources)', received }], 'dataset');
      }
      if (!(await insertDataset(c.env.DB, c.get('orgId'), input, deps.now())))
        throw new ApiError(409, 'CONFLICT', `dataset "${input.id}" already exists`);
      return c.json(present((await getDatasetRow(c.env.DB, c.get('orgId'), input.id))!), 201);
    })
    .get(
      '/',
      describe({
        operationId: 'listDatasets',
        tag: 'Datasets',
        summary: 'List datasets',
        success: { status: 200, description: 'Every dataset', schema: views.datasetList },
      }),
      async (c) => c.json({ items: (await listDatasetRows(c.env.DB, c.get('orgId'))).map(present) }))
    .get(
      '/:id',
      describe({
        operationId: 'getDataset',
        tag: 'Datasets',
        summary: 'Read a dataset',
        success: { status: 200, description: 'The dataset', schema: views.datasetView },
      }),
      async (c) => c.json(present(await mustGet(c.env.DB, c.get('orgId'), c.req.param('id')))))
    .post(
      '/:id/records',
      describe({
        operationId: 'upsertDatasetRecords',
        tag: 'Datasets',
        summary: "Upsert a batch of records, checked against the dataset's schema, all-or-nothing",
        body: {
          description: 'A batch, streamed: NDJSON (one DatasetRecord per line) or CSV with a header row',
          content: {
            'application/x-ndjson': 'One DatasetRecord JSON object per line (see components.schemas.DatasetRecord)',
            'text/csv': 'Columns: id, updatedAt, then the dataset columns (empty = null)',
          },
        },
        success: { status: 200, description: 'Every record stored', schema: views.stored },
        errors: {
          400: 'Invalid batch: nothing stored; details.errors lists each bad record with line, path, message',
          409: "The dataset reads a snapshot source (its records are the snapshot's rows)",
        },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const dataset = await mustGet(c.env.DB, orgId, c.req.param('id'));
      if (dataset.source_id) {
        throw new ApiError(409, 'CONFLICT', `Dataset "${dataset.id}" reads snapshot source ${dataset.source_id}: its records are the snapshot's rows; write them there`, {
          sourceId: dataset.source_id,
        });
      }
      const kind = bodyKind(c.req.header('Content-Type'));
      const records = await readBatch(
        c.req.raw.body,
        kind,
        recordCheck(kind, json<Schema>(dataset.schema) ?? []),
      );
      await upsertRecords(c.env.DB, orgId, dataset.id, records, d1ValueBytes(c.env));
      return c.json({ stored: records.length });
    });
}

async function mustGet(db: AppEnv['Bindings']['DB'], orgId: string, id: string): Promise<DatasetRow> {
  const row = await getDatasetRow(db, orgId, id);
  if (!row) throw notFound('dataset', id);
  return row;
}

function present(row: DatasetRow): Record<string, unknown> {
  return { id: row.id, name: row.name, schema: json(row.schema), ...(row.source_id && { sourceId: row.source_id }), createdAt: row.created_at };
}
