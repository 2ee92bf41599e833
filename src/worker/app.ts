/**
 * The /v1 HTTP API: one Hono app, a body-size limit on every route, bearer-token auth and the
 * route's scope (scopes.ts) on every resource route, one error mapper. Webhooks authenticate by
 * signature and the admin routes by ADMIN_TOKEN instead.
 */
import { Hono } from 'hono';
import { describe } from './api-spec.ts';
import { openApiView } from './api-views.ts';
import { requireToken } from './auth.ts';
import { mountConsole } from './console/index.ts';
import { toErrorResponse } from './errors.ts';
import { type AppDeps, type AppEnv, limitBodies } from './http.ts';
import { servedPlatform, workerdPlatform } from './platform.ts';
import { requireScope } from './scopes.ts';
import { openApiDocument } from './openapi.ts';
import { adminRoutes } from './routes/admin.ts';
import { audienceRoutes } from './routes/audiences.ts';
import { datasetRoutes, profileRoutes } from './routes/data.ts';
import { dataflowRoutes } from './routes/dataflows.ts';
import { destinationRoutes } from './routes/destinations.ts';
import { pluginRoutes } from './routes/plugins.ts';
import { runRoutes } from './routes/runs.ts';
import { sourceRoutes } from './routes/sources.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { webhookRoutes } from './routes/webhooks.ts';

/**
 * Builds the API. `deps.platform` is the host's (the Worker's, or a Node or Deno host's); tests pin
 * the clock and the network with `now` and `fetch`, which the default platform then uses too.
 */
export function createApp(deps: Partial<AppDeps> = {}): Hono<AppEnv> {
  const now = deps.now ?? (() => new Date());
  const fetcher = deps.fetch ?? ((input, init) => fetch(input, init));
  const base = workerdPlatform();
  const resolved: AppDeps = {
    now,
    fetch: fetcher,
    platform: deps.platform ?? ((env) => servedPlatform({ ...base, now, fetch: fetcher }, env)),
  };
  // Who calls (401 otherwise), then whether its token holds the scope the route declares in scopes.ts.
  const api = new Hono<AppEnv>()
    .use('*', requireToken(now), requireScope())
    .route('/destinations', destinationRoutes(resolved))
    .route('/sources', sourceRoutes(resolved))
    .route('/dataflows', dataflowRoutes(resolved))
    .route('/audiences', audienceRoutes(resolved))
    .route('/profiles', profileRoutes(resolved))
    .route('/datasets', datasetRoutes(resolved))
    .route('/runs', runRoutes())
    .route('/tokens', tokenRoutes(resolved))
    .route('/plugins', pluginRoutes(resolved));

  // Body limits first: before authentication, before any lookup, on every route.
  const app = mountConsole(new Hono<AppEnv>().use('*', limitBodies)).basePath('/v1');
  app.onError((error, c) => {
    const { status, body } = toErrorResponse(error);
    // Log the code only: messages of unexpected errors may carry anything.
    if (status >= 500)
      console.error('edge-export api error', {
        path: c.req.path,
        code: body.error.code,
        name: (error as Error)?.name,
      });
    return c.json(body, status as 400);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}` } }, 404),
  );
  // Read from the routes themselves, once: every /v1 route declares its operation (api-spec.ts).
  let document: Record<string, unknown> | undefined;
  app.get(
    '/openapi.json',
    describe({
      operationId: 'getOpenApiDocument',
      tag: 'Meta',
      summary: 'This OpenAPI 3.1 document, generated from the routes',
      success: { status: 200, description: 'The document', schema: openApiView },
    }),
    (c) => {
      document ??= openApiDocument(app.routes);
      return c.json(document);
    },
  );
  app.route('/webhooks', webhookRoutes(resolved));
  app.route('/admin', adminRoutes(resolved));
  app.route('/', api);
  return app;
}
