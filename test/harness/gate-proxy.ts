/**
 * A loopback proxy in front of moto that holds every request while it is closed and forwards them
 * (and any later ones) once opened: a run whose uploads pass through it stays unfinished for exactly
 * as long as the test chooses, with no sleep and no timing guess.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward } from './fault-proxy.ts';

export interface GateProxy {
  readonly endpoint: string;
  /** Requests held so far (forwarded or not). */
  readonly held: () => number;
  /** Forwards every held request and all later ones. */
  open(): void;
  stop(): Promise<void>;
}

/** Starts a closed gate on a free 127.0.0.1 port, forwarding to `target` (moto's endpoint) once opened. */
export async function startGateProxy(target: string): Promise<GateProxy> {
  const upstream = new URL(target);
  let opened = false;
  let held = 0;
  const waiting: [IncomingMessage, ServerResponse][] = [];
  const server = createServer((req, res) => {
    held++;
    if (opened) forward(upstream, req, res);
    else waiting.push([req, res]);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    held: () => held,
    open: () => {
      opened = true;
      for (const [req, res] of waiting.splice(0)) forward(upstream, req, res);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
