/**
 * A loopback HTTP proxy in front of moto that records every request it relays — method, path,
 * query, Range header, status and the bytes of the answer's body — so a test can prove what a
 * reader fetched at the server (projection by byte ranges), not what the reader says it fetched.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward } from './fault-proxy.ts';

export interface SeenRequest {
  readonly method: string;
  /** Path without the query (`/bucket/key`), decoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly range?: string;
  status: number;
  /** Bytes of the answer's body, counted as they were relayed. */
  bytes: number;
}

export interface CountingProxy {
  readonly endpoint: string;
  /** Every request so far, in arrival order; empty it to start counting afresh. */
  readonly seen: SeenRequest[];
  stop(): Promise<void>;
}

/** Starts the proxy on a free 127.0.0.1 port, forwarding to `target` (moto's endpoint). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const range = req.headers.range;
    const entry: SeenRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      ...(range !== undefined && { range }),
      status: 0,
      bytes: 0,
    };
    seen.push(entry);
    forward(upstream, req, res, false, (answer) => {
      entry.status = answer.statusCode ?? 0;
      answer.on('data', (chunk: Buffer) => {
        entry.bytes += chunk.length;
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
