/**
 * /v1/destinations: CRUD, connection test and IAM policies. Every create and update is checked by
 * the export service exactly as the CLI's `validate` checks a config (the plugins' schemas, the PGP
 * key parsed, folder macros, this host's codecs), and secrets are sealed on the way in and masked on
 * the way out. Nothing is stored unless the destination could export.
 */
import { Hono } from 'hono';
import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import { describe, PAGE_QUERY } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { type Destination, destinationSchema } from '../../service/destination.ts';
import { exportService } from '../../service/export-service.ts';
import {
  type StoredDestination,
  openDestination,
  presentDestination,
  sealDestination,
  withKeptSecrets,
} from '../destination-secrets.ts';
import type { Env } from '../env.ts';
import { ApiError, notFound } from '../errors.ts';
import { definitionOf } from '../execute.ts';
import { type AppDeps, type AppEnv, body, pageQuery } from '../http.ts';
import { newId } from '../store/db.ts';
import {
  type DestinationRow,
  deleteDestination,
  getDestination,
  insertDestination,
  page,
  updateDestination,
} from '../store/resources.ts';

/** Routes of /v1/destinations. */
export function destinationRoutes(deps: AppDeps) {
  /** Validates a destination as the export service would run it, then seals it. */
  const accept = async (env: Env, orgId: string, id: string, input: Destination, previous?: StoredDestination) => {
    const issues: ConfigIssue[] = [];
    if (input.auth.method === 'assumedRole' && 'externalId' in input.auth) {
      issues.push({ path: 'auth.externalId', message: 'auth.externalId: assigned by edge-export (see GET …/policies); leave it out' });
    }
    const service = exportService(deps.platform(env));
    const kept = withKeptSecrets(service.registry, input, previous);
    // An assumed role's external id is assigned when the destination is first stored.
    const externalId = input.auth.method === 'assumedRole' ? (previous?.externalId ?? 'ext-pending') : undefined;
    const candidate: StoredDestination = { ...kept.destination, masks: {}, ...(externalId && { externalId }) };
    const row = { id, org_id: orgId, name: input.name, config: '', created_at: '', updated_at: '' };
    issues.push(...(await service.check(await definitionOf(env, row, candidate))));
    if (issues.length > 0) throw new ConfigError(issues, 'destination');
    return sealDestination(env, service.registry, id, kept, previous);
  };
  const mustGet = async (env: Env, orgId: string, id: string): Promise<DestinationRow> => {
    const row = await getDestination(env.DB, orgId, id);
    if (!row) throw notFound('destination', id);
    return row;
  };
  /** The prepared export of a stored destination (secrets opened), for tests and policies. */
  const prepare = async (env: Env, row: DestinationRow, options: { stageChecks?: boolean } = {}) =>
    exportService(deps.platform(env)).prepare(await definitionOf(env, row, await openDestination(env, row)), options);

  return new Hono<AppEnv>()
    .post(
      '/',
      describe({
        operationId: 'createDestination',
        tag: 'Destinations',
        summary: 'Create a destination (checked as an export would run it; secrets sealed)',
        body: destinationSchema,
        success: { status: 201, description: 'The destination, secrets masked', schema: views.destinationView },
      }),
      async (c) => {
      const input = await body(c, destinationSchema, 'destination');
      const id = newId('dst');
      const stored = await accept(c.env, c.get('orgId'), id, input);
      const row = {
        id,
        org_id: c.get('orgId'),
        name: input.name,
        config: JSON.stringify(stored),
        created_at: deps.now().toISOString(),
      };
      await insertDestination(c.env.DB, row);
      return c.json(presentDestination({ ...row, updated_at: row.created_at }), 201);
    })
    .get(
      '/',
      describe({
        operationId: 'listDestinations',
        tag: 'Destinations',
        summary: 'List destinations',
        query: PAGE_QUERY,
        success: { status: 200, description: 'A page of destinations', schema: views.destinationPage },
      }),
      async (c) => {
      const result = await page<DestinationRow>(c.env.DB, 'destinations', c.get('orgId'), pageQuery(c));
      return c.json({
        items: result.items.map(presentDestination),
        ...(result.cursor && { cursor: result.cursor }),
      });
    })
    .get(
      '/:id',
      describe({
        operationId: 'getDestination',
        tag: 'Destinations',
        summary: 'Read a destination',
        success: { status: 200, description: 'The destination, secrets masked', schema: views.destinationView },
      }),
      async (c) => c.json(presentDestination(await mustGet(c.env, c.get('orgId'), c.req.param('id')))))
    .put(
      '/:id',
      describe({
        operationId: 'updateDestination',
        tag: 'Destinations',
        summary: 'Replace a destination (masked or omitted secrets keep their stored value)',
        body: destinationSchema,
        success: { status: 200, description: 'The destination, secrets masked', schema: views.destinationView },
      }),
      async (c) => {
      const { DB } = c.env;
      const orgId = c.get('orgId');
      const id = c.req.param('id');
      const existing = await mustGet(c.env, orgId, id);
      const input = await body(c, destinationSchema, 'destination');
      const stored = await accept(c.env, orgId, id, input, JSON.parse(existing.config) as StoredDestination);
      await updateDestination(DB, orgId, id, input.name, JSON.stringify(stored), deps.now());
      return c.json(presentDestination((await getDestination(DB, orgId, id))!));
    })
    .post(
      '/:id/test',
      describe({
        operationId: 'testDestination',
        tag: 'Destinations',
        summary: 'Test the connection: probe every S3 permission an export needs, creating nothing it cannot remove',
        success: { status: 200, description: 'Each permission probed; ok when every required one is', schema: views.connectionTest },
      }),
      async (c) => {
      const row = await mustGet(c.env, c.get('orgId'), c.req.param('id'));
      const { ok, results, warnings } = await (await prepare(c.env, row)).testConnection();
      return c.json({ ok, testedAt: deps.now().toISOString(), results, warnings });
    })
    .get(
      '/:id/policies',
      describe({
        operationId: 'getDestinationPolicies',
        tag: 'Destinations',
        summary: 'The least-privilege IAM permission policy, and for roles the trust policy with the external id',
        success: { status: 200, description: 'The policies', schema: views.policies },
      }),
      async (c) => {
      const row = await mustGet(c.env, c.get('orgId'), c.req.param('id'));
      const stored = JSON.parse(row.config) as StoredDestination;
      // Policies call nothing and need no credentials: the stages' own checks are skipped.
      const policies = (await prepare(c.env, row, { stageChecks: false })).policies(c.env.PLATFORM_PRINCIPAL_ARN || undefined);
      return c.json({ ...policies, ...(stored.externalId !== undefined && { externalId: stored.externalId }) });
    })
    .delete(
      '/:id',
      describe({
        operationId: 'deleteDestination',
        tag: 'Destinations',
        summary: 'Delete a destination no dataflow uses',
        success: { status: 204, description: 'Deleted' },
        errors: { 409: 'A dataflow uses the destination' },
      }),
      async (c) => {
      const outcome = await deleteDestination(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (outcome === 'missing') throw notFound('destination', c.req.param('id'));
      if (outcome === 'in-use')
        throw new ApiError(409, 'CONFLICT', 'The destination is used by a dataflow; delete or change the dataflow first');
      return c.body(null, 204);
    });
}
