/**
 * A loopback HTTP proxy in front of moto that fails chosen requests — 500 InternalError,
 * 503 SlowDown, or a dropped connection — before they reach the server, so retry and abort
 * paths run against real S3 semantics. Decisions are deterministic (seeded or a predicate).
 */
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `drop` cuts the connection before moto sees the request; `lose-response` after moto handled it;
 * `access-denied` answers 403 AccessDenied (a failure no retry fixes).
 */
export type Fault = 'internal-error' | 'slow-down' | 'drop' | 'lose-response' | 'access-denied';

export interface FaultRequest {
  readonly method: string;
  readonly url: string;
  /** 1-based count of requests the proxy has seen. */
  readonly n: number;
  /** The request's Range header, if any (`bytes=4-1023`). */
  readonly range?: string;
}

/** Chooses the fault for a request, or null to forward it. */
export type FaultPlan = (req: FaultRequest) => Fault | null;

export interface FaultProxy {
  readonly endpoint: string;
  readonly stats: { requests: number; forwarded: number; faults: Record<Fault, number> };
  stop(): Promise<void>;
}

/** A seeded plan failing about `rate` of requests, cycling through the kinds. */
export function seededFaults(
  seed: number,
  rate: number,
  kinds: readonly Fault[] = ['internal-error', 'slow-down', 'drop'],
): FaultPlan {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => (random() < rate ? (kinds[Math.floor(random() * kinds.length)] ?? null) : null);
}

const BODIES: Record<Exclude<Fault, 'drop' | 'lose-response'>, [number, string]> = {
  'access-denied': [403, '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'],
  'internal-error': [
    500,
    '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
  ],
  'slow-down': [
    503,
    '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
  ],
};

/** Starts the proxy on a free 127.0.0.1 port, forwarding to `target` (moto's endpoint). */
export async function startFaultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const upstream = new URL(target);
  const stats = {
    requests: 0,
    forwarded: 0,
    faults: { 'internal-error': 0, 'slow-down': 0, drop: 0, 'lose-response': 0, 'access-denied': 0 },
  };
  const server = createServer((req, res) => {
    stats.requests++;
    const range = req.headers.range;
    const fault = plan({ method: req.method ?? 'GET', url: req.url ?? '/', n: stats.requests, ...(range !== undefined && { range }) });
    if (fault) stats.faults[fault]++;
    if (!fault || fault === 'lose-response') {
      stats.forwarded++;
      forward(upstream, req, res, fault === 'lose-response');
      return;
    }
    if (fault === 'drop') {
      // Let part of the body arrive, then cut the connection (a reset mid-upload).
      req.once('data', () => req.socket.destroy());
      req.once('end', () => req.socket.destroy());
      return;
    }
    const [status, body] = BODIES[fault];
    req.resume();
    req.once('end', () => res.writeHead(status, { 'content-type': 'application/xml' }).end(body));
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Forwards a request to `upstream` as it came (its Host header too, so a SigV4 signature still
 * holds). `onAnswer` sees the upstream's answer before it is relayed (a counting proxy's hook).
 */
export function forward(upstream: URL, req: IncomingMessage, res: ServerResponse, loseResponse = false, onAnswer?: (answer: IncomingMessage) => void): void {
  const out = httpRequest(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      onAnswer?.(answer);
      if (loseResponse) {
        answer.resume();
        answer.once('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => res.destroy());
  req.pipe(out);
}
