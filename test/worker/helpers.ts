/** Shared fixtures of the Worker tests: a recording queue, a pinned clock, organizations, API calls. */
import { env } from 'cloudflare:workers';
import { createApp } from '../../src/worker/app.ts';
import type { Platform } from '../../src/core/platform.ts';
import type { Env, QueueSender, RunMessage } from '../../src/worker/env.ts';
import { servedPlatform, workerdPlatform } from '../../src/worker/platform.ts';
import { createOrganization } from '../../src/worker/store/orgs.ts';

/** A queue that records what was sent instead of delivering it. */
export function recordingQueue(): QueueSender<RunMessage> & { sent: RunMessage[] } {
  const sent: RunMessage[] = [];
  return {
    sent,
    async send(body) {
      sent.push(body);
    },
  };
}

/** Messages waiting for delivery, as a queue holds them: sent ones, and retried ones with their next attempt. */
export type PendingMessages = { body: RunMessage; attempts: number }[];

/**
 * Delivers every message sent to `queue` (and every one put back in `pending` by a retry) one after
 * another, as the queue would, until none is left.
 */
export async function drainQueue(
  queue: { sent: RunMessage[] },
  pending: PendingMessages,
  deliver: (body: RunMessage, attempts: number) => Promise<void>,
): Promise<void> {
  for (;;) {
    pending.push(...queue.sent.splice(0).map((body) => ({ body, attempts: 1 })));
    const next = pending.shift();
    if (!next) return;
    await deliver(next.body, next.attempts);
  }
}

/** The workerd bindings with a recording queue (and any other overrides). */
export function testEnv(overrides: Partial<Env> = {}): Env & { EXPORTS: ReturnType<typeof recordingQueue> } {
  return { ...env, EXPORTS: recordingQueue(), ...overrides } as Env & {
    EXPORTS: ReturnType<typeof recordingQueue>;
  };
}

/** The Worker's own platform (workerd) with these bindings; `overrides` swap fetch or the clock. */
export function platformOf(e: Env, overrides: Partial<Platform> = {}): Platform {
  return servedPlatform({ ...workerdPlatform(), ...overrides }, e);
}

/** A fresh organization with its API token. */
export function newOrg(e: Env, name = 'Acme'): Promise<{ id: string; token: string }> {
  return createOrganization(e.DB, name, new Date());
}

export interface Call {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: responses are asserted structurally by the tests
  body: any;
  text: string;
  headers: Headers;
}

/** Calls the API in-process (real Hono routing, real D1) and returns status, parsed body and raw text. */
export async function call(
  e: Env,
  method: string,
  path: string,
  options: {
    token?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    now?: () => Date;
    fetch?: typeof fetch;
  } = {},
): Promise<Call> {
  const app = createApp({
    ...(options.now && { now: options.now }),
    ...(options.fetch && { fetch: options.fetch }),
  });
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if ((options.body !== undefined || options.raw !== undefined) && !('Content-Type' in headers))
    headers['Content-Type'] = 'application/json';
  const init: RequestInit = { method, headers };
  if (options.raw !== undefined) init.body = options.raw;
  else if (options.body !== undefined) init.body = JSON.stringify(options.body);
  const response = await app.request(`/v1${path}`, init, e);
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: see Call.body
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';

/** A valid destination body using an access key pair. */
export function destinationBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Acme S3',
    bucket: 'acme-exports',
    folderPath: 'audiences/%SEGMENT_NAME%',
    region: 'eu-west-1',
    auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET },
    fileType: 'csv',
    ...overrides,
  };
}
