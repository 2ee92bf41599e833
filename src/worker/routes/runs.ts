/** /v1/runs: list (optionally by dataflow) and detail with files, rows, skipped counts, bytes, error. */
import { Hono } from 'hono';
import { describe, PAGE_QUERY } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { notFound } from '../errors.ts';
import { type AppEnv, pageQuery } from '../http.ts';
import { json } from '../store/db.ts';
import { page } from '../store/resources.ts';
import { type RunRow, getRun } from '../store/runs.ts';
import { fanoutFigures } from '../store/tasks.ts';

/** Routes of /v1/runs. */
export function runRoutes() {
  return new Hono<AppEnv>()
    .get(
      '/',
      describe({
        operationId: 'listRuns',
        tag: 'Runs',
        summary: 'List runs, newest first',
        query: [{ name: 'dataflowId', description: "Only this dataflow's runs" }, ...PAGE_QUERY],
        success: { status: 200, description: 'A page of runs', schema: views.runPage },
      }),
      async (c) => {
      const dataflowId = c.req.query('dataflowId');
      const filter = dataflowId ? { where: ' AND dataflow_id = ?', params: [dataflowId] } : undefined;
      const result = await page<RunRow>(c.env.DB, 'runs', c.get('orgId'), pageQuery(c), filter);
      return c.json({ items: result.items.map(presentRun), ...(result.cursor && { cursor: result.cursor }) });
    })
    .get(
      '/:id',
      describe({
        operationId: 'getRun',
        tag: 'Runs',
        summary: 'Read a run: status, rows, skipped rows by reason, files, bytes, duration, error',
        success: { status: 200, description: 'The run', schema: views.runView },
      }),
      async (c) => {
      const row = await getRun(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('run', c.req.param('id'));
      const fanout = await fanoutFigures(c.env.DB, row.id);
      return c.json({ ...presentRun(row), ...(fanout && { fanout }) });
    });
}

/** The API view of a run. */
export function presentRun(row: RunRow): Record<string, unknown> {
  const started = row.started_at ? Date.parse(row.started_at) : undefined;
  const finished = row.finished_at ? Date.parse(row.finished_at) : undefined;
  return {
    id: row.id,
    dataflowId: row.dataflow_id,
    trigger: row.trigger,
    status: row.status,
    scheduledTime: row.scheduled_time,
    ...(row.audience_ids && { audienceIds: json(row.audience_ids) }),
    ...(row.rows_exported !== null && { rows: row.rows_exported }),
    ...(row.rows_skipped !== null && { skipped: json(row.rows_skipped) }),
    ...(row.bytes !== null && { bytes: row.bytes }),
    ...(row.files !== null && { files: json(row.files) }),
    ...(row.error !== null && { error: json(row.error) }),
    attempts: row.attempts,
    createdAt: row.created_at,
    ...(row.started_at && { startedAt: row.started_at }),
    ...(row.finished_at && { finishedAt: row.finished_at }),
    ...(started !== undefined && finished !== undefined && { durationMs: finished - started }),
  };
}
