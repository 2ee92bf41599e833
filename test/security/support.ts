/**
 * The harness of the security suite: hosts started as users start them (test/journeys/hosts.ts),
 * an organization on each, and small servers on 127.0.0.1 standing in for what an attacker points
 * the platform at. Every socket a test opens is on loopback; names resolve only through the hosts'
 * test resolver table (EDGE_EXPORT_TEST_HOSTS), so no DNS query leaves the machine.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { type Api, apiClient, type HostKind, type JourneyHost, startJourneyHost } from '../journeys/hosts.ts';

export interface OrgHost {
  readonly host: JourneyHost;
  /** The /v1 API with the organization's token. */
  readonly api: Api;
  /** The /v1 API without any token. */
  readonly anonymous: Api;
  readonly token: string;
}

/** Starts a host with `bindings` and creates one organization on it. */
export async function orgHost(kind: HostKind, bindings: Record<string, string>): Promise<OrgHost> {
  const host = await startJourneyHost(kind, bindings);
  try {
    const created = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Security' });
    if (created.status !== 201) throw new Error(`organization: ${created.status} ${created.text}`);
    const token = created.body.token as string;
    return { host, api: apiClient(host.url, token), anonymous: apiClient(host.url, ''), token };
  } catch (error) {
    await host.stop();
    throw error;
  }
}

/** A destination on a loopback S3 stand-in, with access keys (the secret is test-only). */
export function destinationBody(endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'security-destination',
    bucket: 'security-bucket',
    endpoint,
    auth: {
      method: 'accessKey',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTONLYKEY',
    },
    ...extra,
  };
}

/** A destination, a rule audience and a dataflow exporting it; returns the dataflow and its webhook secret. */
export async function dataflow(api: Api, endpoint: string, extra: Record<string, unknown> = {}) {
  const destination = await api('POST', '/destinations', destinationBody(endpoint));
  if (destination.status !== 201) throw new Error(`destination: ${destination.status} ${destination.text}`);
  const audience = await api('POST', '/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
  const flow = await api('POST', '/dataflows', {
    name: 'security-flow',
    destinationId: destination.body.id,
    audienceIds: [audience.body.id],
    mapping: { fields: [{ source: 'id' }] },
    ...extra,
  });
  if (flow.status !== 201) throw new Error(`dataflow: ${flow.status} ${flow.text}`);
  return {
    destinationId: destination.body.id as string,
    flowId: flow.body.id as string,
    webhookSecret: flow.body.webhookSecret as string,
  };
}

/** Every run of a dataflow (the API lists 100 at most per page; tests make far fewer). */
export async function runsOf(api: Api, flowId: string): Promise<{ id: string; status: string; trigger: string; error?: { code: string; message: string } }[]> {
  const res = await api('GET', `/runs?dataflowId=${flowId}&limit=100`);
  return res.body.items;
}

/** Polls a run until it records an error (its first failed attempt), at most `ms`. */
export async function erroredRun(api: Api, runId: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = (await api('GET', `/runs/${runId}`)).body;
    if (run.error) return run as { status: string; error: { code: string; message: string } };
    if (Date.now() > deadline) throw new Error(`run ${runId} has no error after ${ms} ms: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Loopback {
  readonly url: string;
  readonly port: number;
  /** Connections (TCP) or requests (HTTP) received so far. */
  hits(): number;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering every request with `handler`, counting requests. */
export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  let hits = 0;
  const server = createHttpServer((req, res) => {
    hits++;
    req.resume();
    handler(req, res);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, hits: () => hits, close: () => close(server) };
}

/** A TCP server on 127.0.0.1 that counts connections and drops them. */
export async function tcpCounter(): Promise<Loopback> {
  let hits = 0;
  const server = createTcpServer((socket) => {
    hits++;
    socket.destroy();
  });
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}`, port, hits: () => hits, close: () => close(server) };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await close(server);
  return port;
}

function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function close(server: Server | ReturnType<typeof createHttpServer>): Promise<void> {
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** S3's answer to a request it refuses: ends a run at once (AccessDenied is not retried). */
export function accessDenied(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(403, { 'Content-Type': 'application/xml' });
  res.end('<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
}

/** Resident memory of a process in MiB: now and its peak since it started (Linux /proc). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

export interface Upload {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: asserted structurally by the tests
  readonly body: any;
  readonly text: string;
  /** Bytes written before the answer came (or the connection closed). */
  readonly sent: number;
  /** The server closed the connection before this side read an answer (`allowReset`). */
  readonly reset?: boolean;
}

/**
 * POSTs `size` bytes of `fill` without holding them (1 MiB chunks, written as the socket drains),
 * chunked, and stops writing as soon as the answer arrives — or after `pauseAt` bytes, then waits
 * for it without ending the body. With `declare`, the Content-Length says `size` but only the first
 * 64 KiB are written before waiting: a server that checks the declared length answers without the
 * rest. A server that waits for the rest never answers, and the test times out.
 *
 * Pausing matters: a server that answers early, reads a little more and closes while this side
 * still writes resets the connection, and a reset throws away the answer not yet read (Node's host
 * drains up to 64 MiB or 500 ms). A client that writes 200 MB flat out may therefore see a reset
 * instead of the 413 (`allowReset`).
 */
export function upload(
  url: string,
  options: {
    size: number;
    fill?: string;
    headers?: Record<string, string>;
    declare?: boolean;
    pauseAt?: number;
    /** Resolve with `reset: true` when the server closes the connection while this side still writes. */
    allowReset?: boolean;
  },
): Promise<Upload> {
  const chunk = Buffer.alloc(1024 * 1024, options.fill ?? 'x');
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    // A connection of its own: a refused upload's connection is closed by the server, never reused.
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { ...options.headers, ...(options.declare && { 'Content-Length': String(options.size) }) },
    });
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (text += part));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, text, sent });
        req.destroy();
      });
    });
    // A server that answers early and then closes may reset the connection while this side still
    // writes: the write error can come before the client parses the answer it already received, so
    // the raw bytes are kept and read here when that happens.
    let raw = '';
    req.on('socket', (socket) =>
      socket.on('data', (data: Buffer) => {
        if (raw.length < 65_536) raw += data.toString('latin1');
      }),
    );
    req.on('error', (error) => {
      if (answered) return;
      const early = earlyAnswer(raw);
      if (early) resolve({ ...early, sent });
      else if (options.allowReset && sent > 0 && /EPIPE|ECONNRESET/.test((error as NodeJS.ErrnoException).code ?? ''))
        resolve({ status: 0, body: undefined, text: '', sent, reset: true });
      else reject(error);
    });
    const stop = options.declare ? 64 * 1024 : Math.min(options.size, options.pauseAt ?? options.size);
    const pump = () => {
      while (!answered && sent < stop) {
        const part = stop - sent >= chunk.byteLength ? chunk : chunk.subarray(0, stop - sent);
        sent += part.byteLength;
        if (!req.write(part)) return void req.once('drain', pump);
      }
      if (!answered && sent === options.size && !options.declare) req.end();
    };
    pump();
  });
}

/** The status and body of a whole HTTP/1.1 answer (with a Content-Length) in `raw`, if it is there. */
function earlyAnswer(raw: string): { status: number; body: unknown; text: string } | undefined {
  const head = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(raw);
  const length = head && /^content-length:\s*(\d+)/im.exec(head[2]!);
  if (!head || !length) return undefined;
  const text = Buffer.from(raw.slice(head[0].length), 'latin1').subarray(0, Number(length[1])).toString('utf8');
  if (Buffer.byteLength(text) < Number(length[1])) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: Number(head[1]), body, text };
}
