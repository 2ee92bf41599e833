/**
 * Access control, route by route: the scope table (src/worker/scopes.ts) names every route of the
 * app and nothing else, and for every token-authenticated route × every scope, a token holding only
 * that scope is let through exactly when the table says so (403 FORBIDDEN naming the scope
 * otherwise). Runs in workerd against the real app and D1.
 */
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/worker/app.ts';
import { requireToken } from '../../src/worker/auth.ts';
import { toErrorResponse } from '../../src/worker/errors.ts';
import type { AppEnv } from '../../src/worker/http.ts';
import { openApiDocument } from '../../src/worker/openapi.ts';
import {
  ADMIN_TOKEN,
  ANY_TOKEN,
  PUBLIC,
  ROUTE_ACCESS,
  SCOPE_NAMES,
  type Scope,
  WEBHOOK_SIGNATURE,
  holds,
  requireScope,
} from '../../src/worker/scopes.ts';
import { call, newOrg, testEnv } from './helpers.ts';

const e = testEnv();
/** Every route the app registers (middleware is registered under ALL), as `METHOD /path`. */
const routes = createApp()
  .routes.filter((r) => r.method !== 'ALL')
  .map((r) => ({ method: r.method, path: r.path, key: `${r.method} ${r.path}` }));
const tokenRoutes = routes.filter((r) => ![PUBLIC, WEBHOOK_SIGNATURE, ADMIN_TOKEN].includes(ROUTE_ACCESS[r.key]!));
/** The /v1-relative URL of a route, its parameters filled with ids no organization has. */
const urlOf = (path: string) => path.replace(/^\/v1/, '').replace(/:[A-Za-z]+/g, 'missing');

let owner: { id: string; token: string };
/** One token per scope, holding that scope only. */
const tokens = {} as Record<Scope, string>;

beforeAll(async () => {
  owner = await newOrg(e, 'Scopes');
  for (const scope of SCOPE_NAMES) {
    const created = await call(e, 'POST', '/tokens', { token: owner.token, body: { name: `only ${scope}`, scopes: [scope] } });
    expect(created.status, scope).toBe(201);
    tokens[scope] = created.body.token;
  }
});

describe('the scope table', () => {
  it('declares every route of the app, and no route the app does not have', () => {
    const declared = Object.keys(ROUTE_ACCESS).sort();
    const registered = routes.map((r) => r.key).sort();
    expect(registered.filter((key) => !declared.includes(key)), 'routes without a declared scope').toEqual([]);
    expect(declared.filter((key) => !registered.includes(key)), 'declared routes the app lacks').toEqual([]);
    expect(tokenRoutes.length).toBeGreaterThanOrEqual(30);
  });

  it('is what the OpenAPI document says each operation needs (apiToken with the scope as its role, 403 naming it)', () => {
    type Op = { security?: unknown; responses: Record<string, { description: string }> };
    const paths = openApiDocument(createApp().routes).paths as Record<string, Record<string, Op>>;
    const operationOf = (route: { method: string; path: string }) =>
      paths[route.path.replace(/^\/v1/, '').replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
    for (const route of tokenRoutes) {
      const access = ROUTE_ACCESS[route.key]!;
      const operation = operationOf(route);
      expect(operation?.security, route.key).toEqual([{ apiToken: access === ANY_TOKEN ? [] : [access] }]);
      if (access === ANY_TOKEN) expect(operation?.responses['403'], route.key).toBeUndefined();
      else expect(operation?.responses['403']?.description, route.key).toContain(`"${access}"`);
    }
    // The routes no API token calls: by signature, by ADMIN_TOKEN, or by anyone.
    const others = { [WEBHOOK_SIGNATURE]: [{ webhookSignature: [] }], [ADMIN_TOKEN]: [{ adminToken: [] }], [PUBLIC]: [] };
    for (const route of routes.filter((r) => r.path.startsWith('/v1/') && !tokenRoutes.includes(r))) {
      const access = ROUTE_ACCESS[route.key] as keyof typeof others;
      expect(operationOf(route)?.security, route.key).toEqual(others[access]);
    }
  });

  it('refuses a token-authenticated route the table does not declare, whatever the token holds (fail closed)', async () => {
    const app = new Hono<AppEnv>()
      .use('*', requireToken(() => new Date()), requireScope({ 'GET /v1/public-looking': PUBLIC }))
      .get('/v1/undeclared', (c) => c.text('reached'))
      .get('/v1/public-looking', (c) => c.text('reached'));
    app.onError((error, c) => {
      const { status, body } = toErrorResponse(error);
      return c.json(body, status as 403);
    });
    for (const path of ['/v1/undeclared', '/v1/public-looking']) {
      const res = await app.request(path, { headers: { Authorization: `Bearer ${tokens.all}` } }, e);
      expect(res.status, path).toBe(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('FORBIDDEN');
      expect(body.error.message).toContain(`GET ${path} declares no scope`);
    }
  });
});

describe('every token-authenticated route × every scope', () => {
  it.each(tokenRoutes.map((r) => [r.key, r] as const))('%s', async (_key, route) => {
    const needed = ROUTE_ACCESS[route.key]!;
    const expected: Record<string, string> = {};
    const actual: Record<string, string> = {};
    for (const scope of SCOPE_NAMES) {
      const allowed = needed === ANY_TOKEN || holds([scope], needed as Scope);
      expected[scope] = allowed ? 'allowed' : `403 FORBIDDEN "${needed}"`;
      const res = await call(e, route.method, urlOf(route.path), { token: tokens[scope] });
      if (res.status === 403) {
        actual[scope] = `403 ${res.body.error.code} "${res.body.error.details?.scope}"`;
        expect(res.body.error.message).toBe(`This token lacks the scope "${needed}" that ${route.key} needs`);
      } else if (res.status === 401) actual[scope] = '401';
      else actual[scope] = 'allowed';
    }
    expect(actual).toEqual(expected);
    // Without a token, or with an unknown one: 401 before any scope is considered.
    expect((await call(e, route.method, urlOf(route.path))).status).toBe(401);
  });

  it('answers the routes that take no API token by their own rules, scopes or not', async () => {
    for (const route of routes.filter((r) => !tokenRoutes.includes(r))) {
      const access = ROUTE_ACCESS[route.key];
      const path = route.path.replace(/:[A-Za-z]+/g, 'missing');
      const app = createApp();
      const res = await app.request(path, { method: route.method, headers: { Authorization: `Bearer ${tokens.all}` } }, e);
      if (access === PUBLIC) expect([200, 404], route.key).toContain(res.status);
      else if (access === WEBHOOK_SIGNATURE) expect(((await res.json()) as { error: { code: string } }).error.code).toBe('WEBHOOK_REFUSED');
      // Even a token holding "all" is not the operator's ADMIN_TOKEN.
      else expect(res.status, route.key).toBe(401);
    }
  });
});

describe('secrets that no longer open anything', () => {
  it('refuses a rotated-away secret and a revoked token with 401 on every route, at once', async () => {
    const org = await newOrg(e, 'Gone');
    const made = async (name: string) =>
      (await call(e, 'POST', '/tokens', { token: org.token, body: { name, scopes: ['all'] } })).body;
    const rotated = await made('to rotate');
    const revoked = await made('to revoke');
    const fresh = await call(e, 'POST', `/tokens/${rotated.id}/rotate`, { token: org.token });
    expect(fresh.status).toBe(200);
    expect((await call(e, 'DELETE', `/tokens/${revoked.id}`, { token: org.token })).status).toBe(204);
    for (const route of tokenRoutes) {
      for (const secret of [rotated.token, revoked.token]) {
        const res = await call(e, route.method, urlOf(route.path), { token: secret });
        expect(res.status, route.key).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
    // The rotated token lives on under its new secret, with its scopes.
    expect((await call(e, 'GET', '/tokens/current', { token: fresh.body.token })).body).toMatchObject({
      id: rotated.id,
      scopes: ['all'],
    });
  });
});
