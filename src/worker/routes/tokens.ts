/**
 * /v1/tokens: an organization's API tokens. A secret is shown once (creation, rotation); a token
 * never grants, rotates or revokes beyond its own scopes; the last token able to manage tokens
 * cannot be revoked. What each route needs is in scopes.ts.
 */
import { Hono } from 'hono';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { ApiError, notFound } from '../errors.ts';
import { type AppDeps, type AppEnv, type Ctx, body } from '../http.ts';
import { type Scope, missingScopes } from '../scopes.ts';
import { tokenSchema } from '../schemas.ts';
import {
  MAX_TOKENS_PER_ORGANIZATION,
  type TokenInfo,
  createToken,
  getToken,
  listTokens,
  revokeToken,
  rotateToken,
} from '../store/tokens.ts';

/** Routes of /v1/tokens. */
export function tokenRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post(
      '/',
      describe({
        operationId: 'createToken',
        tag: 'Tokens',
        summary: 'Issue a named token with scopes the caller holds; its secret is shown in this answer only',
        body: tokenSchema,
        success: { status: 201, description: 'The token and its secret (shown once)', schema: views.issuedToken },
        errors: {
          403: 'or a scope it would grant that the calling token does not hold (details.scopes)',
          409: 'A live token already has this name, or the organization holds 100 live tokens',
        },
      }),
      async (c) => {
      const input = await body(c, tokenSchema, 'token');
      mayHandle(c, input.scopes, 'grant');
      const result = await createToken(c.env.DB, c.get('orgId'), input, deps.now());
      if ('refused' in result)
        throw new ApiError(
          409,
          'CONFLICT',
          result.refused === 'name taken'
            ? `name: a live token is already named "${input.name}"; choose another name or revoke that token`
            : `The organization already has ${MAX_TOKENS_PER_ORGANIZATION} live tokens; revoke one first`,
        );
      const { secret, ...token } = result.token;
      // The secret is in this response only; the database keeps its hash.
      return c.json({ ...present(c, token), token: secret }, 201);
    })
    .get(
      '/',
      describe({
        operationId: 'listTokens',
        tag: 'Tokens',
        summary: "List the organization's live tokens (never their secrets)",
        success: { status: 200, description: 'Every live token, oldest first', schema: views.tokenList },
      }),
      async (c) => c.json({ items: (await listTokens(c.env.DB, c.get('orgId'))).map((t) => present(c, t)) }),
    )
    .get(
      '/current',
      describe({
        operationId: 'getCurrentToken',
        tag: 'Tokens',
        summary: 'The calling token: its id, name and scopes (any valid token may ask)',
        success: { status: 200, description: 'The calling token', schema: views.tokenView },
        errors: { 404: 'The token was revoked while the request ran' },
      }),
      async (c) => c.json(present(c, await mustGet(c, c.get('token').id))),
    )
    .post(
      '/:id/rotate',
      describe({
        operationId: 'rotateToken',
        tag: 'Tokens',
        summary: 'Replace a token\'s secret: the old one is refused from now on; the new one is shown in this answer only',
        success: { status: 200, description: 'The token and its new secret (shown once)', schema: views.issuedToken },
        errors: { 403: 'or the token to rotate has a scope the calling token does not hold (details.scopes)' },
      }),
      async (c) => {
      const target = await mustGet(c, c.req.param('id'));
      mayHandle(c, target.scopes, 'rotate');
      const rotated = await rotateToken(c.env.DB, c.get('orgId'), target.id, deps.now());
      if (!rotated) throw notFound('token', target.id);
      const { secret, ...token } = rotated;
      return c.json({ ...present(c, token), token: secret });
    })
    .delete(
      '/:id',
      describe({
        operationId: 'revokeToken',
        tag: 'Tokens',
        summary: 'Revoke a token: it is refused from now on',
        success: { status: 204, description: 'Revoked' },
        errors: {
          403: 'or the token to revoke has a scope the calling token does not hold (details.scopes)',
          409: "The organization's last live token able to manage tokens (issue its successor first)",
        },
      }),
      async (c) => {
      const target = await mustGet(c, c.req.param('id'));
      mayHandle(c, target.scopes, 'revoke');
      const outcome = await revokeToken(c.env.DB, c.get('orgId'), target.id, deps.now());
      if (outcome === 'not found') throw notFound('token', target.id);
      if (outcome === 'last manager')
        throw new ApiError(
          409,
          'CONFLICT',
          `Token "${target.name}" is the organization's last token able to manage tokens; create another with "tokens:manage" first`,
        );
      return c.body(null, 204);
    });
}

async function mustGet(c: Ctx, id: string): Promise<TokenInfo> {
  const token = await getToken(c.env.DB, c.get('orgId'), id);
  if (!token) throw notFound('token', id);
  return token;
}

/**
 * Refuses to grant, rotate or revoke scopes the caller does not hold: rotating a broader token would
 * hand its secret to a narrower one, and revoking it would let a narrower token lock the broader out.
 */
function mayHandle(c: Ctx, scopes: readonly Scope[], action: 'grant' | 'rotate' | 'revoke'): void {
  const missing = missingScopes(c.get('token').scopes, scopes);
  if (missing.length === 0) return;
  const what = action === 'grant' ? 'grant' : `${action} a token with`;
  throw new ApiError(
    403,
    'FORBIDDEN',
    `This token cannot ${what} ${missing.map((s) => `"${s}"`).join(', ')}: a token only ${action === 'grant' ? 'grants' : `${action}s tokens within`} the scopes it holds`,
    { scopes: missing },
  );
}

function present(c: Ctx, token: TokenInfo): Record<string, unknown> {
  return { ...token, current: token.id === c.get('token').id };
}
