/**
 * Bearer-token authentication: the token's hash names the token, its organization (every query is
 * scoped to it) and its scopes (checked per route by scopes.ts).
 */
import { createMiddleware } from 'hono/factory';
import { timingSafeEqual } from '../core/security/encoding.ts';
import { bearerToken, hashToken, isTokenShaped } from '../core/security/tokens.ts';
import { ApiError } from './errors.ts';
import type { AppEnv } from './http.ts';
import { callerOf, touchToken } from './store/tokens.ts';

/** A token's last use is written at most this often: one write per token per minute, not per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Sets `orgId` and `token` from a valid API token, or answers 401 (the same for missing, malformed,
 * unknown, revoked and rotated-away secrets).
 */
export function requireToken(now: () => Date) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const secret = bearerToken(c.req.header('Authorization'));
    const caller = secret && isTokenShaped(secret) ? await callerOf(c.env.DB, await hashToken(secret)) : undefined;
    if (!caller) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new ApiError(401, 'UNAUTHORIZED', 'A valid API token is required: Authorization: Bearer eex_…');
    }
    const at = now();
    if (caller.lastUsedAt === null || at.getTime() - Date.parse(caller.lastUsedAt) >= LAST_USED_RESOLUTION_MS)
      await touchToken(c.env.DB, caller.id, at);
    c.set('orgId', caller.orgId);
    c.set('token', { id: caller.id, scopes: caller.scopes });
    await next();
  });
}

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
