/**
 * Declaring an API route: every /v1 route passes `describe({...})` before its handler, so its
 * operationId, tag, summary, request and response schemas sit on the route itself. How it
 * authenticates and the scope it needs are not repeated here: the one table of scopes.ts says so,
 * and the OpenAPI document (openapi.ts) reads both back, from the Hono app's own route table and
 * that table. A test refuses a /v1 route without a description, so a route cannot exist without its
 * documentation.
 */
import type { MiddlewareHandler } from 'hono';
import type * as v from 'valibot';
import type { AppEnv } from './http.ts';

/** The names of the document's security schemes (which one a route uses: its entry in scopes.ts). */
export type Security = 'apiToken' | 'adminToken' | 'webhookSignature';

export type Tag = 'Destinations' | 'Sources' | 'Dataflows' | 'Audiences' | 'Profiles' | 'Datasets' | 'Runs' | 'Tokens' | 'Webhooks' | 'Admin' | 'Meta';

/** A refusal a route may answer with, beyond those its declaration implies (see errorsOf in openapi.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422;

/** A header or query parameter. */
export interface Param {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** Default string. */
  readonly type?: 'string' | 'integer';
}

/** A body that is not one JSON document (a batch of NDJSON or CSV, a raw upload). */
export interface RawBody {
  readonly description: string;
  /** Media type → what the text holds. */
  readonly content: Readonly<Record<string, string>>;
}

export interface Operation {
  readonly operationId: string;
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  /** The JSON body, as the valibot schema the handler parses it with (a registered component). */
  readonly body?: v.GenericSchema | RawBody;
  readonly query?: readonly Param[];
  readonly headers?: readonly Param[];
  /** The success answer: its status, what it means, and its schema (a registered component; none for 204). */
  readonly success: { readonly status: 200 | 201 | 202 | 204; readonly description: string; readonly schema?: v.GenericSchema };
  /** Further refusals, with what they mean on this route. */
  readonly errors?: Partial<Readonly<Record<ErrorStatus, string>>>;
}

/** `?limit=&cursor=` of the paginated lists (see pageQuery). */
export const PAGE_QUERY: readonly Param[] = [
  { name: 'limit', type: 'integer', description: 'Items per page, 1–100 (default 50)' },
  { name: 'cursor', description: 'The cursor of the previous page' },
];

const OPERATION = Symbol.for('edge-export.operation');

/** The route's declaration, as a pass-through middleware that carries it. */
export function describe(operation: Operation): MiddlewareHandler<AppEnv> {
  const handler: MiddlewareHandler<AppEnv> = async (_c, next) => next();
  return Object.assign(handler, { [OPERATION]: operation });
}

/** The declaration a handler carries, if it is one `describe` made. */
export function operationOf(handler: unknown): Operation | undefined {
  return typeof handler === 'function' ? (handler as { [OPERATION]?: Operation })[OPERATION] : undefined;
}
