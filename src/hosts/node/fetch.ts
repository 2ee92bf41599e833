/**
 * `fetch` for Node hosts over node:http(s), for the requests edge-export itself makes (S3 parts above
 * all): a Uint8Array or string body goes to the socket as it is. Node's built-in fetch (undici)
 * first copies every byte-array body (the fetch standard's "copy of the bytes"), so each multipart
 * part was allocated twice; the copy outlives its upload, ages into V8's old generation and waits
 * for a full GC, and peak RSS rose with the row count (docs/BENCHMARKS.md, memory table).
 *
 * Only what the built-in one would do the same way is handled here: a URL or string input, a body
 * that is absent, a string, bytes or an ArrayBuffer, and `redirect: 'manual'` (every S3
 * request). Anything else (a Request, a stream or form body, redirects to follow) goes to the
 * built-in fetch. Responses are not decompressed: no Accept-Encoding is sent, so none is compressed.
 *
 * `nodeFetchThrough(resolve)` is the same fetch connecting only to the addresses `resolve` gives
 * (node:http's `lookup`), for hosts that vet every address they connect to (SSRF); it follows no
 * redirect, and what it cannot send itself it refuses unless `resolve` accepts the host first.
 */
import { Buffer } from 'node:buffer';
import type { LookupFunction } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ResolveHost } from '../../core/security/ssrf.ts';

/** Status codes whose responses have no body (the fetch standard's null body statuses). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * @example const runtime = { now, uuid, fetch: nodeFetch, sha256: nodeSha256 };
 */
export const nodeFetch: typeof fetch = (input, init = {}) => {
  const body = bodyBytes(init.body);
  if (input instanceof Request || init.redirect !== 'manual' || body === undefined) return fetch(input, init);
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
  return send(url, requestOf(init, body), init.signal ?? undefined);
};

/**
 * `nodeFetch` connecting through `resolve`: every host name is looked up with it (a rejection fails
 * the request as "fetch failed" with that error as its cause), redirects are answered, not followed.
 * Requests nodeFetch would pass to the built-in fetch are sent by it only after `resolve` accepted
 * the host (the built-in fetch then resolves again).
 *
 * @example nodeFetchThrough(vettedResolver(policy, resolveHost))
 */
export function nodeFetchThrough(resolve: ResolveHost): typeof fetch {
  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const all = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
        if (options.all) (callback as (e: null, all: { address: string; family: number }[]) => void)(null, all);
        else callback(null, all[0]!.address, all[0]!.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
  return async (input, init = {}) => {
    const body = bodyBytes(init.body);
    const url = new URL(input instanceof Request ? input.url : input);
    if (input instanceof Request || body === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      try {
        await resolve(url.hostname.replace(/^\[|\]$/g, ''));
      } catch (error) {
        throw new TypeError('fetch failed', { cause: error });
      }
      return fetch(input, { ...init, redirect: 'manual' });
    }
    return send(url, requestOf(init, body), init.signal ?? undefined, lookup);
  };
}

/** Method and headers of a request nodeFetch sends itself. */
function requestOf(init: RequestInit, body: Uint8Array | null): { method: string; headers: Headers; body: Uint8Array | null } {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  if (typeof init.body === 'string' && !headers.has('content-type'))
    headers.set('content-type', 'text/plain;charset=UTF-8');
  if (body !== null) headers.set('content-length', String(body.byteLength));
  else if (method === 'POST' || method === 'PUT') headers.set('content-length', '0');
  return { method, headers, body };
}

/** The body as bytes, null for none, undefined for a kind left to the built-in fetch. */
function bodyBytes(body: RequestInit['body']): Uint8Array | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return undefined;
}

function send(
  url: URL,
  { method, headers, body }: { method: string; headers: Headers; body: Uint8Array | null },
  signal: AbortSignal | undefined,
  lookup?: LookupFunction,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method,
      headers: Object.fromEntries(headers),
      ...(signal && { signal }),
      ...(lookup && { lookup }),
    });
    request.on('error', (error) => {
      reject(signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: error }));
    });
    request.on('response', (incoming) => {
      try {
        resolve(toResponse(incoming, method, signal));
      } catch (error) {
        incoming.destroy();
        reject(new TypeError('fetch failed', { cause: error }));
      }
    });
    request.end(body ?? undefined);
  });
}

function toResponse(incoming: IncomingMessage, method: string, signal: AbortSignal | undefined): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const empty = method === 'HEAD' || NULL_BODY.has(status);
  if (empty) incoming.resume();
  const body = empty ? null : bodyStream(incoming, signal);
  return new Response(body, { status, statusText: incoming.statusMessage ?? '', headers });
}

/** The response body with fetch's errors: the signal's reason once aborted, else TypeError "terminated". */
function bodyStream(incoming: IncomingMessage, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      incoming.on('data', (chunk: Buffer) => {
        // Deno's node:http may still emit data after the stream was cancelled (and destroyed).
        if (settled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) incoming.pause();
      });
      incoming.on('end', () => {
        if (settled) return;
        settled = true;
        controller.close();
      });
      incoming.on('error', (error) => {
        if (settled) return;
        settled = true;
        controller.error(
          signal?.aborted ? abortReason(signal) : new TypeError('terminated', { cause: error }),
        );
      });
    },
    pull() {
      incoming.resume();
    },
    cancel() {
      settled = true;
      incoming.destroy();
    },
  });
}

/** What fetch rejects with when its signal aborts: the signal's reason. */
function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
