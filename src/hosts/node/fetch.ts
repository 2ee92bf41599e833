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
 */
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

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
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  if (typeof init.body === 'string' && !headers.has('content-type'))
    headers.set('content-type', 'text/plain;charset=UTF-8');
  if (body !== null) headers.set('content-length', String(body.byteLength));
  else if (method === 'POST' || method === 'PUT') headers.set('content-length', '0');
  return send(url, method, headers, body, init.signal ?? undefined);
};

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
  method: string,
  headers: Headers,
  body: Uint8Array | null,
  signal: AbortSignal | undefined,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method,
      headers: Object.fromEntries(headers),
      ...(signal && { signal }),
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
