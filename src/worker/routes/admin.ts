/** /v1/admin: operator bootstrap (ADMIN_TOKEN) — create an organization and its first API token. */
import { Hono } from 'hono';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { requireAdmin } from '../auth.ts';
import { type AppDeps, type AppEnv, body } from '../http.ts';
import { organizationSchema } from '../schemas.ts';
import { createOrganization } from '../store/orgs.ts';

/** Routes of /v1/admin. */
export function adminRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().use('*', requireAdmin).post(
    '/organizations',
    describe({
      operationId: 'createOrganization',
      tag: 'Admin',
      summary: 'Create an organization and its first API token',
      body: organizationSchema,
      success: { status: 201, description: 'The organization and its token (shown only here)', schema: views.createdOrganization },
    }),
    async (c) => {
    const input = await body(c, organizationSchema, 'organization');
    // The token is in this response only; the database keeps its hash.
    return c.json(await createOrganization(c.env.DB, input.name, deps.now(), input.sandbox), 201);
  });
}
