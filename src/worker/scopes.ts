/**
 * Access control: the scopes an API token may hold, and the one table that says what every route of
 * the app needs. The table is keyed by method and Hono route path (`GET /v1/destinations/:id`), apart
 * from the route files, so routes can be declared however they like; `requireScope` finds the route a
 * request matched and refuses it when the table does not name a scope for it (fail closed), and
 * test/worker/scopes.test.ts checks that the table and the app's routes are the same set.
 *
 * The scopes mirror the reference product's permissions: View/Manage Destinations, Activate
 * Destinations, View Profiles, View Segments; plus ingestion, run history and token management.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { ApiError } from './errors.ts';
import type { AppEnv } from './http.ts';

/** Every scope, in the order the API and the console list them, with what it allows. */
export const SCOPES = {
  'destinations:read': 'View destinations and their IAM policies (View Destinations)',
  'destinations:write': 'Connect, change, test (probe the bucket) and delete destinations (Manage Destinations)',
  'sources:read': 'View snapshot sources (secrets masked)',
  'sources:write': 'Register, change, test (list and read the snapshot) and delete snapshot sources',
  'audiences:read': 'View audiences (View Segments)',
  'audiences:write': 'Create, change, evaluate and delete audiences',
  'dataflows:read': 'View dataflows',
  'dataflows:activate': 'Create, change, pause and delete dataflows; export now (Activate Destinations)',
  'profiles:read': 'View datasets and what was ingested (View Profiles)',
  ingest: 'Send profiles, dataset records and audience member uploads; define datasets',
  'runs:read': 'View runs: status, rows, files, errors',
  'tokens:manage': 'Create, list, rotate and revoke API tokens (never beyond its own scopes)',
  all: 'Every scope, including scopes added later: the organization’s first token has it',
} as const;

export type Scope = keyof typeof SCOPES;
export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

/** Routes answered without an API token: by their own means (a signature, ADMIN_TOKEN) or to anyone. */
export const PUBLIC = 'public';
export const WEBHOOK_SIGNATURE = 'webhook signature';
export const ADMIN_TOKEN = 'ADMIN_TOKEN';
/** A token-authenticated route any valid token may call, whatever its scopes. */
export const ANY_TOKEN = 'any token';

export type Access = Scope | typeof PUBLIC | typeof WEBHOOK_SIGNATURE | typeof ADMIN_TOKEN | typeof ANY_TOKEN;

/** What each route of the app needs, by `METHOD /path` as Hono registers it. */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  'GET /': PUBLIC,
  'GET /console/:file': PUBLIC,
  'GET /v1/openapi.json': PUBLIC,
  'POST /v1/webhooks/:dataflowId': WEBHOOK_SIGNATURE,
  'POST /v1/admin/organizations': ADMIN_TOKEN,
  'GET /v1/admin/organizations/:id/shards': ADMIN_TOKEN,
  'PUT /v1/admin/organizations/:id/shards': ADMIN_TOKEN,

  'GET /v1/destinations': 'destinations:read',
  'GET /v1/destinations/:id': 'destinations:read',
  'GET /v1/destinations/:id/policies': 'destinations:read',
  'POST /v1/destinations': 'destinations:write',
  'PUT /v1/destinations/:id': 'destinations:write',
  'DELETE /v1/destinations/:id': 'destinations:write',
  'POST /v1/destinations/:id/test': 'destinations:write',

  'GET /v1/sources': 'sources:read',
  'GET /v1/sources/:id': 'sources:read',
  'POST /v1/sources': 'sources:write',
  'PUT /v1/sources/:id': 'sources:write',
  'DELETE /v1/sources/:id': 'sources:write',
  'POST /v1/sources/:id/test': 'sources:write',

  'GET /v1/audiences': 'audiences:read',
  'GET /v1/audiences/:id': 'audiences:read',
  'POST /v1/audiences': 'audiences:write',
  'PUT /v1/audiences/:id': 'audiences:write',
  'DELETE /v1/audiences/:id': 'audiences:write',
  'POST /v1/audiences/:id/preview': 'audiences:read',
  'POST /v1/audiences/:id/evaluate': 'audiences:write',
  'POST /v1/audiences/:id/members': 'ingest',

  'GET /v1/dataflows': 'dataflows:read',
  'GET /v1/dataflows/:id': 'dataflows:read',
  'POST /v1/dataflows': 'dataflows:activate',
  'PUT /v1/dataflows/:id': 'dataflows:activate',
  'DELETE /v1/dataflows/:id': 'dataflows:activate',
  'POST /v1/dataflows/:id/run': 'dataflows:activate',

  'POST /v1/profiles': 'ingest',
  'POST /v1/datasets': 'ingest',
  'POST /v1/datasets/:id/records': 'ingest',
  'GET /v1/datasets': 'profiles:read',
  'GET /v1/datasets/:id': 'profiles:read',

  'GET /v1/runs': 'runs:read',
  'GET /v1/runs/:id': 'runs:read',

  'GET /v1/tokens/current': ANY_TOKEN,
  'GET /v1/plugins': ANY_TOKEN,
  'GET /v1/tokens': 'tokens:manage',
  'POST /v1/tokens': 'tokens:manage',
  'POST /v1/tokens/:id/rotate': 'tokens:manage',
  'DELETE /v1/tokens/:id': 'tokens:manage',
};

/** True when the scopes held include `needed` (`all` includes every scope). */
export function holds(held: readonly Scope[], needed: Scope): boolean {
  return held.includes('all') || held.includes(needed);
}

/** The scopes of `wanted` that `held` does not include: empty when a holder may grant or manage them all. */
export function missingScopes(held: readonly Scope[], wanted: readonly Scope[]): Scope[] {
  return wanted.filter((scope) => !holds(held, scope));
}

/** Scopes read back from storage: known names only (a name a later version dropped grants nothing). */
export function knownScopes(names: readonly unknown[]): Scope[] {
  return names.filter((name): name is Scope => typeof name === 'string' && Object.hasOwn(SCOPES, name));
}

/**
 * The route a request matched, as `METHOD /path`, or undefined when only middleware matched (the
 * request then ends in the app's 404). Middleware (`use`) is registered under the method `ALL`.
 */
export function matchedRouteKey(c: Context): string | undefined {
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
  return route && `${route.method} ${route.path}`;
}

/**
 * Refuses a token-authenticated request whose token lacks the scope its route declares in `table`:
 * 403 FORBIDDEN naming the scope. A route the table does not list, or lists as anything but a scope
 * or ANY_TOKEN, is refused too, whatever the token holds. Runs after authentication (401 first).
 */
export function requireScope(table: Readonly<Record<string, Access>> = ROUTE_ACCESS) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = matchedRouteKey(c);
    if (key === undefined) return next();
    const access = Object.hasOwn(table, key) ? table[key] : undefined;
    if (access === ANY_TOKEN) return next();
    if (access === undefined || !Object.hasOwn(SCOPES, access)) {
      throw new ApiError(403, 'FORBIDDEN', `${key} declares no scope, so no token may call it`);
    }
    const scope = access as Scope;
    if (!holds(c.get('token').scopes, scope)) {
      throw new ApiError(403, 'FORBIDDEN', `This token lacks the scope "${scope}" that ${key} needs`, {
        scope,
      });
    }
    return next();
  });
}
