/** The Hono context type of the API, the request-body limits, and small helpers shared by the routes. */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type * as v from 'valibot';
import { ConfigError } from '../core/errors.ts';
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../core/json-depth.ts';
import { parse } from '../core/validate.ts';
import type { Platform } from '../core/platform.ts';
import type { Env } from './env.ts';
import { payloadTooLarge, toErrorResponse } from './errors.ts';
import { MAX_BATCH_BYTES } from './ingest.ts';
import type { Scope } from './scopes.ts';
import type { PageQuery } from './store/resources.ts';

export interface AppEnv {
  Bindings: Env;
  /** Set by requireToken: the caller's organization, and its token's id and scopes. */
  Variables: { orgId: string; token: { id: string; scopes: Scope[] } };
}
export type Ctx = Context<AppEnv>;

/** What the routes need from the outside world; injected so tests control time and the network. */
export interface AppDeps {
  readonly now: () => Date;
  /** Outbound requests; defaults to the global fetch. */
  readonly fetch: typeof fetch;
  /** The host's platform with this environment's bindings (see servedPlatform). */
  readonly platform: (env: Env) => Platform;
}

/**
 * Request-body limits, in bytes. Every route has one, on every host (it is the same Hono app), all
 * well below the 100 MB a Worker may receive on Cloudflare's Free and Pro plans.
 */
export const BODY_LIMITS = {
  /** POST /v1/webhooks/{id}: a delivery's body only has to be signed; nothing reads it. */
  webhook: 64 * 1024,
  /** Every JSON route (destinations, dataflows, audiences, datasets, organizations). */
  json: 1024 * 1024,
  /** POST /v1/profiles, POST /v1/datasets/{id}/records: a batch is held whole until it is checked. */
  batch: MAX_BATCH_BYTES,
  /** POST /v1/audiences/{id}/members: streamed into staged writes, only identities are kept. */
  upload: 64 * 1024 * 1024,
} as const;

/** A route's limit, and whether its handler streams the body (else the limit middleware buffers it). */
export interface BodyLimit {
  readonly bytes: number;
  readonly streamed: boolean;
}

/** The body limit of a request, by method and path (`/v1/…`). */
export function bodyLimitOf(method: string, path: string): BodyLimit {
  if (method === 'POST') {
    if (/^\/v1\/webhooks\/[^/]+\/?$/.test(path)) return { bytes: BODY_LIMITS.webhook, streamed: false };
    if (/^\/v1\/(?:profiles|datasets\/[^/]+\/records)\/?$/.test(path)) return { bytes: BODY_LIMITS.batch, streamed: true };
    if (/^\/v1\/audiences\/[^/]+\/members\/?$/.test(path)) return { bytes: BODY_LIMITS.upload, streamed: true };
  }
  return { bytes: BODY_LIMITS.json, streamed: false };
}

/**
 * Enforces the body limit of every route before anything else runs (authentication, lookups): a
 * declared Content-Length over the limit is refused unread; otherwise the body is counted as it
 * arrives. Small-limit routes are read here, up to their limit, so a handler never sees an oversize
 * body; streamed routes (batches, uploads) get a counting stream that fails at the first byte over,
 * and whatever the handler then answers becomes the 413.
 */
export const limitBodies = createMiddleware<AppEnv>(async (c, next) => {
  const limit = bodyLimitOf(c.req.method, c.req.path);
  const declared = c.req.header('Content-Length');
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit.bytes) throw payloadTooLarge(limit.bytes);
  const body = c.req.raw.body;
  if (!body) return next();
  if (!limit.streamed) {
    const bytes = await readUpTo(body, limit.bytes);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    return next();
  }
  let exceeded = false;
  c.req.raw = new Request(c.req.raw, {
    body: counted(body, limit.bytes, () => (exceeded = true)),
    duplex: 'half',
  } as RequestInit);
  await next();
  if (exceeded) {
    const { status, body: json } = toErrorResponse(payloadTooLarge(limit.bytes));
    c.res = c.json(json, status as 413);
  }
});

/** The whole body if it is at most `limit` bytes; a 413 at the first chunk past it (the rest is not read). */
async function readUpTo(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Not cancelled: on Node, cancelling the body destroys the connection before the 413 is sent.
      // The host discards (or drains, within its own bounds) what is left unread.
      reader.releaseLock();
      throw payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** `body`, failing (and cancelling the source) at the first byte past `limit`. */
function counted(body: ReadableStream<Uint8Array>, limit: number, onExceeded: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let size = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) return controller.close();
      size += value.byteLength;
      if (size > limit) {
        onExceeded();
        reader.releaseLock();
        return controller.error(payloadTooLarge(limit));
      }
      controller.enqueue(value);
    },
    // A handler that stops reading leaves the rest to the host, as above.
    cancel: () => reader.releaseLock(),
  });
}

/** Parses the JSON body with `schema`, or throws a ConfigError naming every bad field. */
export async function body<S extends v.GenericSchema>(
  c: Ctx,
  schema: S,
  subject: string,
): Promise<v.InferOutput<S>> {
  let value: unknown;
  try {
    value = await c.req.json();
  } catch {
    throw new ConfigError(
      [{ path: '', message: 'the request body is not valid JSON', expected: 'a JSON object' }],
      subject,
    );
  }
  if (jsonDepthExceeds(value, MAX_JSON_DEPTH)) {
    throw new ConfigError(
      [{ path: '', message: `the request body nests objects and lists deeper than ${MAX_JSON_DEPTH} levels`, expected: 'a JSON object' }],
      subject,
    );
  }
  return parse(schema, value, subject);
}

/** `?limit=&cursor=` with limit clamped to 1–100 (default 50). */
export function pageQuery(c: Ctx): PageQuery {
  const limit = Number(c.req.query('limit') ?? 50);
  return {
    limit: Number.isInteger(limit) ? Math.min(100, Math.max(1, limit)) : 50,
    cursor: c.req.query('cursor'),
  };
}
