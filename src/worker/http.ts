/** The Hono context type of the API and small request helpers shared by the routes. */
import type { Context } from 'hono';
import type * as v from 'valibot';
import { ConfigError } from '../core/errors.ts';
import { parse } from '../core/validate.ts';
import type { Platform } from '../core/platform.ts';
import type { Env } from './env.ts';
import type { PageQuery } from './store/resources.ts';

export interface AppEnv {
  Bindings: Env;
  Variables: { orgId: string };
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
