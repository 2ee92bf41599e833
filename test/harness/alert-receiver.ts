/**
 * A loopback HTTP server standing in for an alert webhook (a Slack incoming webhook, a receiver that
 * verifies signatures): it answers 204 and keeps every POST, so a test can wait for the next alert at
 * a path without sleeping, and see everything that arrived.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface AlertReceiver {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Every post received at `path`, in order. */
  at(path: string): ReceivedAlert[];
  /** The next post at `path` not yet taken (waits for it: the test's timeout bounds the wait). */
  next(path: string): Promise<ReceivedAlert>;
  stop(): Promise<void>;
}

export async function startAlertReceiver(): Promise<AlertReceiver> {
  const received: ReceivedAlert[] = [];
  const taken = new Map<string, number>();
  const waiters: { path: string; resolve: (alert: ReceivedAlert) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const alert = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(alert);
      res.writeHead(204).end();
      const i = waiters.findIndex((w) => w.path === alert.path);
      if (i >= 0) {
        taken.set(alert.path, (taken.get(alert.path) ?? 0) + 1);
        waiters.splice(i, 1)[0]!.resolve(alert);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const at = (path: string) => received.filter((a) => a.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    at,
    next: (path) => {
      const n = taken.get(path) ?? 0;
      const ready = at(path)[n];
      if (ready) {
        taken.set(path, n + 1);
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiters.push({ path, resolve }));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
