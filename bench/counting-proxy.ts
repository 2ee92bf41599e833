/**
 * A loopback proxy in front of moto that counts what readers fetch: requests and response body
 * bytes, by method. Requests are forwarded as they came (test/harness/fault-proxy.ts `forward`, the
 * Host header kept, so SigV4 signatures made for the proxy's address still hold). The snapshot bench
 * points the sources at it and the destinations at moto itself, so the counts are the reads only.
 */
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward } from '../test/harness/fault-proxy.ts';

export interface ReadCounts {
  /** GET requests (ranged or whole) and the body bytes answered to them. */
  gets: number;
  getBytes: number;
  /** Other requests (LIST is a GET on the bucket: counted in gets; HEAD here). */
  other: number;
  /** GETs that carried a Range header. */
  ranged: number;
}

export interface CountingProxy {
  readonly endpoint: string;
  /** The counts since the last reset. */
  counts(): ReadCounts;
  reset(): void;
  stop(): Promise<void>;
}

const zero = (): ReadCounts => ({ gets: 0, getBytes: 0, other: 0, ranged: 0 });

/** Starts the proxy on a free 127.0.0.1 port, forwarding to `target` (moto's endpoint). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let counts = zero();
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      counts.gets++;
      if (req.headers.range) counts.ranged++;
      countBody(res, (n) => (counts.getBytes += n));
    } else counts.other++;
    forward(upstream, req, res);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    reset: () => {
      counts = zero();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Calls `add` with the size of every body chunk written to `res` (the upstream answer piped into it). */
function countBody(res: ServerResponse, add: (bytes: number) => void): void {
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') add(Buffer.byteLength(chunk));
    else if (chunk instanceof Uint8Array) add(chunk.byteLength);
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
}
