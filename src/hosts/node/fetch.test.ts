import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch } from './fetch.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server;
let base: string;
const seen: Seen[] = [];

/** A loopback server whose path picks the answer; it records every request it gets. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/echo') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-amz-request-id': 'R1' });
      res.end(Buffer.concat(chunks));
    } else if (path === '/empty') {
      res.writeHead(204, { etag: '"e"' }).end();
    } else if (path === '/redirect') {
      res.writeHead(307, { location: '/echo' }).end('moved');
    } else if (path === '/error') {
      res
        .writeHead(503, 'Slow Down', { 'content-type': 'application/xml' })
        .end('<Error><Code>SlowDown</Code></Error>');
    } else if (path === '/hang') {
      res.writeHead(200);
      res.write('partial');
      // never ends: the caller's signal has to
    } else if (path === '/silent') {
      // no answer at all
    } else if (path === '/reset') {
      req.socket.destroy();
    } else {
      res.writeHead(404).end();
    }
  });
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const last = () => seen[seen.length - 1]!;

describe('nodeFetch', () => {
  it('sends a byte body as it is, with its length, and streams the answer back', async () => {
    const body = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const part = body.subarray(5, body.length - 7); // a view: only its own bytes go
    const res = await nodeFetch(new URL(`${base}/echo?partNumber=1`), {
      method: 'PUT',
      headers: new Headers({ 'x-amz-content-sha256': 'abc', 'Content-Type': 'application/octet-stream' }),
      body: part,
      redirect: 'manual',
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('x-amz-request-id')).toBe('R1');
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), Buffer.from(part))).toBe(0);
    expect(last()).toMatchObject({ method: 'PUT', url: '/echo?partNumber=1' });
    expect(last().headers['content-length']).toBe(String(part.byteLength));
    expect(last().headers['x-amz-content-sha256']).toBe('abc');
    expect(last().headers['transfer-encoding']).toBeUndefined();
    expect(last().headers['accept-encoding']).toBeUndefined();
  });

  it('sends a string body as UTF-8 and gives it a text type unless one is set', async () => {
    await nodeFetch(`${base}/echo`, { method: 'POST', body: '<a>é</a>', redirect: 'manual' });
    expect(last().body.toString('utf8')).toBe('<a>é</a>');
    expect(last().headers['content-length']).toBe('9');
    expect(last().headers['content-type']).toBe('text/plain;charset=UTF-8');
    await nodeFetch(`${base}/echo`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
      redirect: 'manual',
    });
    expect(last().headers['content-type']).toBe('application/json');
  });

  it('sends Content-Length 0 for a POST without a body (CreateMultipartUpload) and none for a GET', async () => {
    await nodeFetch(`${base}/echo?uploads`, { method: 'POST', redirect: 'manual' });
    expect(last().headers['content-length']).toBe('0');
    expect(last().headers['transfer-encoding']).toBeUndefined();
    await nodeFetch(`${base}/echo`, { redirect: 'manual' });
    expect(last().method).toBe('GET');
    expect(last().headers['content-length']).toBeUndefined();
  });

  it('gives null-body statuses and HEAD answers no body', async () => {
    const empty = await nodeFetch(`${base}/empty`, { method: 'DELETE', redirect: 'manual' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(empty.headers.get('etag')).toBe('"e"');
    const head = await nodeFetch(`${base}/echo`, { method: 'HEAD', redirect: 'manual' });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it('returns error statuses and manual redirects as they are, with the status text', async () => {
    const error = await nodeFetch(`${base}/error`, {
      method: 'PUT',
      body: new Uint8Array(1),
      redirect: 'manual',
    });
    expect([error.status, error.statusText, error.ok]).toEqual([503, 'Slow Down', false]);
    expect(await error.text()).toContain('<Code>SlowDown</Code>');
    const moved = await nodeFetch(`${base}/redirect`, { redirect: 'manual' });
    expect(moved.status).toBe(307);
    expect(moved.headers.get('location')).toBe('/echo');
  });

  it('leaves what it does not handle to the built-in fetch: here a redirect to follow', async () => {
    const followed = await nodeFetch(`${base}/redirect`);
    expect(followed.status).toBe(200);
    expect(followed.redirected).toBe(true);
    const stream = await nodeFetch(`${base}/echo`, {
      method: 'PUT',
      body: new Blob(['from a blob']),
      redirect: 'manual',
    });
    expect(await stream.text()).toBe('from a blob');
  });

  it('rejects like fetch: a TypeError with the network cause, or the reason of an aborted signal', async () => {
    const reset = nodeFetch(`${base}/reset`, { method: 'PUT', body: new Uint8Array(10), redirect: 'manual' });
    await expect(reset).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { code: 'ECONNRESET' },
    });

    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(nodeFetch(`${closed}/x`, { redirect: 'manual' })).rejects.toMatchObject({
      name: 'TypeError',
      cause: { code: 'ECONNREFUSED' },
    });

    const silent = nodeFetch(`${base}/silent`, { redirect: 'manual', signal: AbortSignal.timeout(100) });
    await expect(silent).rejects.toMatchObject({ name: 'TimeoutError' });

    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(
      nodeFetch(`${base}/echo`, { redirect: 'manual', signal: controller.signal }),
    ).rejects.toThrow('stop now');
  });

  it('errors the body stream when the signal aborts after the headers came', async () => {
    const controller = new AbortController();
    const res = await nodeFetch(`${base}/hang`, { redirect: 'manual', signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('partial');
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('errors the body stream with "terminated" when the connection drops mid-body', async () => {
    const res = await nodeFetch(`${base}/hang`, { redirect: 'manual' });
    const reader = res.body!.getReader();
    await reader.read();
    server.closeAllConnections();
    await expect(reader.read()).rejects.toMatchObject({ name: 'TypeError', message: 'terminated' });
  });
});

/** A port nothing listens on: one the OS just gave out and took back. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
