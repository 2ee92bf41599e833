/**
 * SSRF before connecting, on the Node host's own code in this process (createHost + nodePlatform,
 * SQLite as D1), with a resolver injected through the platform: a name accepted while it resolved
 * to a public address, then re-pointed at 127.0.0.1 (DNS rebinding), is refused as the connection
 * is made — for the S3 endpoint (test-connection, runs) and the alert webhook — and the loopback
 * listener it now points at sees no connection. A control host that allows loopback shows the same
 * name does reach the listener, so the count means something. The public address is only ever an
 * answer of the injected resolver: every connection attempted is to 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../src/hosts/host.ts';
import { nodePlatform } from '../../src/hosts/node/platform.ts';
import { openNodeDatabase } from '../../src/hosts/node/sqlite.ts';
import { destinationBody, type Loopback, tcpCounter } from './support.ts';

const NAME = 'rebind.acme-storage.com';
/** A public address; only ever an answer to a configuration check, never connected to. */
const PUBLIC = '8.8.8.8';
const ADMIN = 'egress-admin-token-0123456789';
const migrations = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * DNS rebinding, made safe: NAME answers PUBLIC to configuration checks only (the caller's stack
 * holds checkResolvedEndpoint) and 127.0.0.1 to everything else, a socket's lookup above all — so no
 * connection can ever go to PUBLIC. `mode: 'loopback'` answers 127.0.0.1 to everyone.
 */
function rebindingResolver() {
  const state = { mode: 'rebinding' as 'rebinding' | 'loopback', checks: 0, sockets: 0 };
  const resolveHost = async (name: string): Promise<string[]> => {
    if (name !== NAME) throw Object.assign(new Error(`no test address for ${name}`), { code: 'ENOTFOUND' });
    const stack = new Error().stack ?? '';
    if (/lookupAndConnect/.test(stack)) state.sockets++;
    if (state.mode === 'rebinding' && /checkResolvedEndpoint/.test(stack) && !/lookupAndConnect/.test(stack)) {
      state.checks++;
      return [PUBLIC];
    }
    return ['127.0.0.1'];
  };
  return { state, resolveHost };
}

interface InProcessHost {
  readonly host: Host;
  readonly resolver: ReturnType<typeof rebindingResolver>;
  // biome-ignore lint/suspicious/noExplicitAny: responses are asserted structurally by the tests
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

async function inProcessHost(allowLoopback: boolean): Promise<InProcessHost> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-export-egress-'));
  const database = await openNodeDatabase(join(dir, 'db.sqlite'), migrations);
  const resolver = rebindingResolver();
  const host = createHost(
    database.db,
    {
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
      ADMIN_TOKEN: ADMIN,
      ALLOW_LOOPBACK_ENDPOINTS: String(allowLoopback),
    },
    nodePlatform({}, { resolveHost: resolver.resolveHost }),
  );
  let token = ADMIN;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await host.fetch(
      new Request(`http://host${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }),
    );
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  token = (await call('POST', '/v1/admin/organizations', { name: 'Egress' })).body.token;
  return {
    host,
    resolver,
    call,
    close: async () => {
      await host.close();
      database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('SSRF before connecting (Node host, injected resolver)', () => {
  let listener: Loopback;
  let strict: InProcessHost;
  let control: InProcessHost;

  beforeAll(async () => {
    listener = await tcpCounter();
    [strict, control] = await Promise.all([inProcessHost(false), inProcessHost(true)]);
  });
  afterAll(async () => {
    await strict?.close();
    await control?.close();
    await listener?.close();
  });

  /** A destination on NAME, accepted while NAME answers the configuration check with a public address. */
  async function destination(h: InProcessHost): Promise<string> {
    h.resolver.state.mode = 'rebinding';
    const checks = h.resolver.state.checks;
    const created = await h.call('POST', '/v1/destinations', destinationBody(`https://${NAME}:${listener.port}`));
    expect(created.status, created.text).toBe(201);
    expect(h.resolver.state.checks).toBeGreaterThan(checks);
    return created.body.id;
  }

  it('test-connection: the configuration check passes on the public answer, the connection is refused on the loopback one', async () => {
    const id = await destination(strict);
    const before = { hits: listener.hits(), sockets: strict.resolver.state.sockets };
    const tested = await strict.call('POST', `/v1/destinations/${id}/test`);
    expect(tested.status, tested.text).toBe(200);
    const failed = tested.body.results.filter((r: { ok: boolean }) => !r.ok);
    expect(failed.length).toBe(tested.body.results.length);
    for (const result of failed) expect(result.message).toMatch(/refused by the endpoint policy: the host name resolves to a loopback address/);
    expect(tested.text).not.toMatch(/127\.0\.0\.1|8\.8\.8\.8/);
    // The sockets did look the name up (and were refused), and nothing reached the listener.
    expect(strict.resolver.state.sockets).toBeGreaterThan(before.sockets);
    expect(listener.hits() - before.hits).toBe(0);
  });

  it('control: with loopback allowed, the same name does reach the listener', async () => {
    const id = await destination(control);
    const before = listener.hits();
    const tested = await control.call('POST', `/v1/destinations/${id}/test`);
    expect(tested.status, tested.text).toBe(200);
    expect(listener.hits() - before).toBeGreaterThan(0);
  });

  it('a name re-pointed at loopback for good is refused at configuration time', async () => {
    const id = await destination(strict);
    strict.resolver.state.mode = 'loopback';
    const tested = await strict.call('POST', `/v1/destinations/${id}/test`);
    expect(tested.status).toBe(400);
    expect(tested.body.error.issues[0]).toMatchObject({ path: 'endpoint', message: expect.stringMatching(/resolves to a loopback address/) });
  });

  it('runs and alert deliveries to a re-pointed name are refused as they connect, and say so without the address', async () => {
    const destinationId = await destination(strict);
    const audience = await strict.call('POST', '/v1/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
    const flow = await strict.call('POST', '/v1/dataflows', {
      name: 'alerting',
      destinationId,
      audienceIds: [audience.body.id],
      mapping: { fields: [{ source: 'id' }] },
      alertWebhook: `https://${NAME}:${listener.port}/hook`,
    });
    expect(flow.status, flow.text).toBe(201);
    const before = listener.hits();
    const run = await strict.call('POST', `/v1/dataflows/${flow.body.id}/run`);
    expect(run.status).toBe(202);
    // The queue runs the export (refused as it connects: a final failure) and sends its alerts.
    await strict.host.queue.idle();
    const finished = await strict.call('GET', `/v1/runs/${run.body.id}`);
    expect(finished.body).toMatchObject({ status: 'failed', error: { code: 'ENDPOINT_REFUSED' } });
    expect(finished.body.error.message).toMatch(/refused by the endpoint policy: the host name resolves to a loopback address/);
    const alerts = await strict.host.env.DB.prepare('SELECT event, attempts, last_error FROM alerts WHERE dataflow_id = ? ORDER BY id')
      .bind(flow.body.id)
      .all<{ event: string; attempts: number; last_error: string }>();
    expect(alerts.results.map((a) => a.event)).toEqual(['run.started', 'run.failed']);
    for (const alert of alerts.results) {
      expect(alert.attempts).toBe(1);
      expect(alert.last_error).toBe('refused by the endpoint policy: the host name resolves to a loopback address');
    }
    expect(JSON.stringify([finished.body, alerts.results])).not.toMatch(/127\.0\.0\.1|8\.8\.8\.8/);
    expect(listener.hits() - before).toBe(0);
  });
});
