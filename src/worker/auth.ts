/** Bearer-token authentication: the token's hash names the organization every query is scoped to. */
import { createMiddleware } from 'hono/factory';
import { timingSafeEqual } from '../core/security/encoding.ts';
import { bearerToken, hashToken, isTokenShaped } from '../core/security/tokens.ts';
import { ApiError } from './errors.ts';
import type { AppEnv } from './http.ts';
import { organizationOfToken } from './store/orgs.ts';

/** Sets `orgId` from a valid API token, or answers 401 (the same for missing, malformed and unknown). */
export const requireToken = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'));
  const orgId =
    token && isTokenShaped(token) ? await organizationOfToken(c.env.DB, await hashToken(token)) : undefined;
  if (!orgId) {
    c.header('WWW-Authenticate', 'Bearer');
    throw new ApiError(401, 'UNAUTHORIZED', 'A valid API token is required: Authorization: Bearer eex_…');
  }
  c.set('orgId', orgId);
  await next();
});

/** Admits the operator's ADMIN_TOKEN (compared by hash, in constant time); disabled when unset. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  const given = bearerToken(c.req.header('Authorization'));
  const enc = new TextEncoder();
  const ok =
    expected !== undefined &&
    expected.length >= 16 &&
    given !== undefined &&
    timingSafeEqual(enc.encode(await hashToken(given)), enc.encode(await hashToken(expected)));
  if (!ok)
    throw new ApiError(
      401,
      'UNAUTHORIZED',
      'The admin token is required (and ADMIN_TOKEN must be set, 16+ characters)',
    );
  await next();
});
