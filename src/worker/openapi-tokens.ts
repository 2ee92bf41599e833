/** OpenAPI paths of /v1/tokens (split from openapi.ts to keep it short); scopes: src/worker/scopes.ts. */
import { ANY_TOKEN, ROUTE_ACCESS, SCOPES } from './scopes.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(ref('Error')) });
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
const errors = {
  '401': error('Missing, unknown, revoked or rotated-away token'),
  '403': error('The token lacks "tokens:manage", or a scope of the token it would grant, rotate or revoke'),
};

/** A token as listed: never its secret nor the secret's hash. */
export const tokenInfoSchema = {
  type: 'object',
  required: ['id', 'name', 'scopes', 'createdAt', 'current'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: Object.keys(SCOPES) } },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time', description: 'Written at most once a minute' },
    rotatedAt: { type: 'string', format: 'date-time' },
    current: { type: 'boolean', description: 'This is the token that made the request' },
  },
};
const withSecret = {
  allOf: [
    ref('TokenInfo'),
    { type: 'object', required: ['token'], properties: { token: { type: 'string', description: 'The secret, eex_…: shown in this response only' } } },
  ],
};

/** The text of the bearer scheme: every scope and what it allows. */
export function scopesDescription(): string {
  const lines = Object.entries(SCOPES).map(([name, text]) => `- \`${name}\`: ${text}`);
  return `An API token eex_… (POST /tokens). Each route needs one scope (403 FORBIDDEN names it):\n${lines.join('\n')}`;
}

/** The paths, keyed like openApiDocument().paths. */
export function tokenPaths(): Record<string, unknown> {
  return {
    '/tokens': {
      get: {
        summary: "List the organization's live tokens (scope tokens:manage)",
        responses: { '200': { description: 'The tokens', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('TokenInfo') } } }) }, ...errors },
      },
      post: {
        summary: 'Issue a named token with scopes the caller holds (scope tokens:manage)',
        requestBody: json(ref('Token')),
        responses: {
          '201': { description: 'The token and its secret, shown once', ...json(withSecret) },
          '400': error('Invalid name or scopes'),
          '409': error('A live token already has this name, or the organization holds 100 live tokens'),
          ...errors,
        },
      },
    },
    '/tokens/current': {
      get: {
        summary: 'The calling token: its id, name and scopes (any valid token)',
        responses: { '200': { description: 'The token', ...json(ref('TokenInfo')) }, '401': errors['401'] },
      },
    },
    '/tokens/{id}/rotate': {
      post: {
        summary: 'Replace the secret: the old one is refused from now on (scope tokens:manage)',
        parameters: idParam,
        responses: { '200': { description: 'The token and its new secret, shown once', ...json(withSecret) }, '404': error('No such live token'), ...errors },
      },
    },
    '/tokens/{id}': {
      delete: {
        summary: 'Revoke (scope tokens:manage)',
        parameters: idParam,
        responses: {
          '204': { description: 'Revoked' },
          '404': error('No such live token'),
          '409': error("The organization's last token able to manage tokens"),
          ...errors,
        },
      },
    },
  };
}

/** `/v1/destinations/:id` and `/destinations/{id}` alike: `/destinations/{}`. */
const shape = (path: string) => path.replace(/^\/v1(?=\/)/, '').replace(/:[A-Za-z]+|\{[^}]+\}/g, '{}');

/**
 * Sets each token-authenticated operation's `security` to the scope scopes.ts declares for it
 * (OpenAPI 3.1 lets a bearer requirement list role names); operations taking any token keep `[]`
 * scopes, and those taking none are left as they are.
 */
export function withScopes(paths: Record<string, Record<string, Record<string, unknown>>>): void {
  for (const [key, access] of Object.entries(ROUTE_ACCESS)) {
    const [method, path] = key.split(' ') as [string, string];
    if (!path.startsWith('/v1/') || !(access === ANY_TOKEN || Object.hasOwn(SCOPES, access))) continue;
    const doc = Object.keys(paths).find((p) => shape(p) === shape(path));
    const operation = doc ? paths[doc]?.[method.toLowerCase()] : undefined;
    if (operation) operation.security = [{ bearer: access === ANY_TOKEN ? [] : [access] }];
  }
}
