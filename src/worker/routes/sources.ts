/**
 * /v1/sources: snapshot sources (docs/SNAPSHOTS.md) — Parquet, NDJSON or CSV files in an S3 bucket
 * (any auth method a destination has) or an R2 bucket bound to the Worker. Every create and update
 * is checked as the CLI checks a source (the model, the auth plugin's options, the endpoint policy, the
 * R2 binding), secrets are sealed on the way in and masked on the way out, and `test` reads the
 * snapshot's listing and one file's footer, saying what to fix when it cannot.
 */
import { Hono } from 'hono';
import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import { endpointIssues } from '../../core/security/ssrf.ts';
import { type SnapshotSourceConfig, snapshotAuthIssues, snapshotSourceSchema } from '../../core/snapshot/schema.ts';
import { hostRegistry } from '../../service/export-service.ts';
import { describe, PAGE_QUERY } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { type Env, endpointPolicy } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { type AppDeps, type AppEnv, body, pageQuery } from '../http.ts';
import {
  type StoredSource,
  openSourceStore,
  presentSource,
  r2BindingProblem,
  sealSource,
  withKeptSourceSecrets,
} from '../source-secrets.ts';
import { testSnapshot } from '../source-test.ts';
import { newId } from '../store/db.ts';
import { type SourceRow, deleteSource, getSource, insertSource, listSources, updateSource } from '../store/sources.ts';

/** Routes of /v1/sources. */
export function sourceRoutes(deps: AppDeps) {
  /** Validates a source as a run would open it, then seals it. */
  const accept = async (env: Env, id: string, input: SnapshotSourceConfig, previous?: StoredSource) => {
    const platform = deps.platform(env);
    const registry = hostRegistry(platform);
    const candidate = withKeptSourceSecrets(registry, input, previous);
    const { location } = candidate;
    const issues: ConfigIssue[] = [];
    if (location.type === 's3') {
      if ('externalId' in location.auth) {
        issues.push({ path: 'location.auth.externalId', message: 'location.auth.externalId: assigned by edge-export (see the source’s externalId); leave it out' });
      }
      issues.push(...snapshotAuthIssues(location, registry));
      if (location.endpoint !== undefined) {
        const resolve = platform.resolveHost && ((name: string) => platform.resolveHost!(name));
        issues.push(...(await endpointIssues(location.endpoint, 'location.endpoint', endpointPolicy(env), resolve)));
      }
    } else {
      const problem = r2BindingProblem(env, location.binding);
      if (problem) issues.push(problem);
    }
    if (issues.length > 0) throw new ConfigError(issues, 'source');
    return sealSource(env, registry, id, input, previous);
  };
  const mustGet = async (env: Env, orgId: string, id: string): Promise<SourceRow> => {
    const row = await getSource(env.DB, orgId, id);
    if (!row) throw notFound('source', id);
    return row;
  };

  return new Hono<AppEnv>()
    .post(
      '/',
      describe({
        operationId: 'createSource',
        tag: 'Sources',
        summary: 'Register a snapshot source (checked as a run would open it; secrets sealed)',
        body: snapshotSourceSchema,
        success: { status: 201, description: 'The source, secrets masked', schema: views.sourceView },
      }),
      async (c) => {
        const input = await body(c, snapshotSourceSchema, 'source');
        const id = newId('src');
        const stored = await accept(c.env, id, input);
        const row = { id, org_id: c.get('orgId'), name: input.name, config: JSON.stringify(stored), created_at: deps.now().toISOString() };
        await insertSource(c.env.DB, row);
        return c.json(presentSource({ ...row, updated_at: row.created_at }), 201);
      },
    )
    .get(
      '/',
      describe({
        operationId: 'listSources',
        tag: 'Sources',
        summary: 'List snapshot sources',
        query: PAGE_QUERY,
        success: { status: 200, description: 'A page of sources', schema: views.sourcePage },
      }),
      async (c) => {
        const result = await listSources(c.env.DB, c.get('orgId'), pageQuery(c));
        return c.json({ items: result.items.map(presentSource), ...(result.cursor && { cursor: result.cursor }) });
      },
    )
    .get(
      '/:id',
      describe({
        operationId: 'getSource',
        tag: 'Sources',
        summary: 'Read a snapshot source',
        success: { status: 200, description: 'The source, secrets masked', schema: views.sourceView },
      }),
      async (c) => c.json(presentSource(await mustGet(c.env, c.get('orgId'), c.req.param('id')))),
    )
    .put(
      '/:id',
      describe({
        operationId: 'updateSource',
        tag: 'Sources',
        summary: 'Replace a snapshot source (omitted secrets keep their stored value)',
        body: snapshotSourceSchema,
        success: { status: 200, description: 'The source, secrets masked', schema: views.sourceView },
      }),
      async (c) => {
        const orgId = c.get('orgId');
        const id = c.req.param('id');
        const existing = await mustGet(c.env, orgId, id);
        const input = await body(c, snapshotSourceSchema, 'source');
        const stored = await accept(c.env, id, input, JSON.parse(existing.config) as StoredSource);
        await updateSource(c.env.DB, orgId, id, input.name, JSON.stringify(stored), deps.now());
        return c.json(presentSource((await getSource(c.env.DB, orgId, id))!));
      },
    )
    .post(
      '/:id/test',
      describe({
        operationId: 'testSource',
        tag: 'Sources',
        summary: 'Test the source: list its files and read one file’s footer (Parquet) or first bytes, as a run would',
        success: { status: 200, description: 'What was found, or the error naming what to fix (ok: false)', schema: views.sourceTest },
      }),
      async (c) => {
        const row = await mustGet(c.env, c.get('orgId'), c.req.param('id'));
        const result = await testSnapshot(() => openSourceStore(c.env, row, deps.platform(c.env)));
        return c.json({ ...result, testedAt: deps.now().toISOString() });
      },
    )
    .delete(
      '/:id',
      describe({
        operationId: 'deleteSource',
        tag: 'Sources',
        summary: 'Delete a snapshot source no audience reads',
        success: { status: 204, description: 'Deleted' },
        errors: { 409: 'An audience reads the source (details.audienceIds names them)' },
      }),
      async (c) => {
        const id = c.req.param('id');
        const outcome = await deleteSource(c.env.DB, c.get('orgId'), id);
        if (outcome === 'missing') throw notFound('source', id);
        if (outcome !== 'deleted') {
          const names = outcome.inUseBy.map((a) => `${a.name} (${a.id})`).join(', ');
          throw new ApiError(409, 'CONFLICT', `The source is read by audience(s) ${names}; change or delete them first`, {
            audienceIds: outcome.inUseBy.map((a) => a.id),
          });
        }
        return c.body(null, 204);
      },
    );
}
