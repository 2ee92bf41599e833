/**
 * Security through the API in workerd: cross-organization access on every resource route answers
 * exactly like a missing id, webhook replays and forged signatures are refused, SSRF endpoints are
 * refused, and hostile names and folder paths cannot move an exported object out of its folder.
 */
import { describe, expect, inject, it } from 'vitest';
import { signWebhook } from '../../src/core/security/webhook.ts';
import worker from '../../src/worker/index.ts';
import type { RunMessage } from '../../src/worker/env.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/worker/routes/webhooks.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');
const rule = { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' };

async function owned(e: ReturnType<typeof testEnv>, token: string) {
  const post = (path: string, body: unknown) => call(e, 'POST', path, { token, body });
  const dest = (await post('/destinations', destinationBody({ name: 'A-secret-dest' }))).body.id as string;
  const aud = (await post('/audiences', { ...rule, name: 'A-secret-aud' })).body.id as string;
  const upload = (await post('/audiences', { kind: 'upload', name: 'A-upload' })).body.id as string;
  const flowRes = await post('/dataflows', {
    name: 'A-flow',
    destinationId: dest,
    audienceIds: [aud],
    mapping: { fields: [{ source: 'id' }] },
  });
  await post('/datasets', { id: 'a-orders', name: 'A-orders', schema: [{ name: 'sku', type: 'string' }] });
  const run = (await call(e, 'POST', `/dataflows/${flowRes.body.id}/run`, { token })).body.id as string;
  return {
    dest,
    aud,
    upload,
    flow: flowRes.body.id as string,
    secret: flowRes.body.webhookSecret as string,
    run,
  };
}

describe('cross-organization access', () => {
  it('every resource route answers for another org exactly as for a missing id', async () => {
    const e = testEnv();
    const a = await newOrg(e, 'A');
    const b = await newOrg(e, 'B');
    const r = await owned(e, a.token);
    const flowBody = {
      name: 'x',
      destinationId: r.dest,
      audienceIds: [r.aud],
      mapping: { fields: [{ source: 'id' }] },
    };
    const routes: [string, string, string, unknown?, string?][] = [
      ['GET', '/destinations/ID', r.dest],
      ['PUT', '/destinations/ID', r.dest, destinationBody()],
      ['DELETE', '/destinations/ID', r.dest],
      ['POST', '/destinations/ID/test', r.dest],
      ['GET', '/destinations/ID/policies', r.dest],
      ['GET', '/audiences/ID', r.aud],
      ['PUT', '/audiences/ID', r.aud, rule],
      ['DELETE', '/audiences/ID', r.aud],
      ['POST', '/audiences/ID/members', r.upload, undefined, 'namespace,value\nemail,a@x.com\n'],
      ['GET', '/dataflows/ID', r.flow],
      ['PUT', '/dataflows/ID', r.flow, flowBody],
      ['DELETE', '/dataflows/ID', r.flow],
      ['POST', '/dataflows/ID/run', r.flow],
      ['GET', '/runs/ID', r.run],
      ['GET', '/datasets/ID', 'a-orders'],
      [
        'POST',
        '/datasets/ID/records',
        'a-orders',
        undefined,
        'id,updatedAt,sku\no1,2026-04-01T00:00:00Z,x\n',
      ],
    ];
    const queued = e.EXPORTS.sent.length;
    const refuse = async (method: string, shape: string, id: string, body?: unknown, csv?: string) => {
      const opts = csv ? { raw: csv, headers: { 'Content-Type': 'text/csv' } } : body ? { body } : {};
      const res = await call(e, method, shape.replace('ID', id), { token: b.token, ...opts });
      return { status: res.status, text: res.text.replaceAll(id, '<id>') };
    };
    for (const [method, shape, id, body, csv] of routes) {
      const theirs = await refuse(method, shape, id, body, csv);
      const missing = await refuse(method, shape, `${id.slice(0, -3)}zzz`, body, csv);
      expect([403, 404], `${method} ${shape}`).toContain(theirs.status);
      // Same answer as for an id that does not exist: the response does not reveal existence.
      expect(theirs, `${method} ${shape}`).toEqual(missing);
      expect(theirs.text).not.toMatch(/A-secret|A-upload|A-flow|A-orders|acme-exports/);
    }
    for (const list of [
      '/destinations',
      '/audiences',
      '/dataflows',
      '/runs',
      '/datasets',
      `/runs?dataflowId=${r.flow}`,
    ]) {
      const res = await call(e, 'GET', list, { token: b.token });
      expect(res.body.items, list).toEqual([]);
    }
    expect(e.EXPORTS.sent.length).toBe(queued);
    // A's resources are all intact.
    for (const path of [
      `/destinations/${r.dest}`,
      `/audiences/${r.aud}`,
      `/dataflows/${r.flow}`,
      '/datasets/a-orders',
    ])
      expect((await call(e, 'GET', path, { token: a.token })).status, path).toBe(200);
    // B signing a delivery for A's dataflow with B's own webhook secret is refused like a bad signature.
    const own = await owned(e, b.token);
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: await signWebhook(own.secret, ts, '{}') };
    const res = await call(e, 'POST', `/webhooks/${r.flow}`, { raw: '{}', headers });
    expect(res.status).toBe(401);
  });
});

describe('webhooks', () => {
  it('refuses forged signatures, stale and future timestamps, replays and tampered bodies', async () => {
    const e = testEnv();
    const a = await newOrg(e);
    const r = await owned(e, a.token);
    const now = Math.floor(Date.now() / 1000);
    const send = async (ts: string, signature: string, body: string, key?: string) =>
      call(e, 'POST', `/webhooks/${r.flow}`, {
        raw: body,
        headers: {
          [TIMESTAMP_HEADER]: ts,
          [SIGNATURE_HEADER]: signature,
          ...(key && { 'Idempotency-Key': key }),
        },
      });
    const body = '{"event":"audience.evaluated"}';
    const good = await signWebhook(r.secret, String(now), body);
    const forged = [
      await send(String(now), await signWebhook('wrong-secret-0123456789abcdef', String(now), body), body),
      await send(String(now), good, `${body} `), // tampered body
      await send(String(now + 1), good, body), // timestamp not the one signed
      await send(String(now - 3600), await signWebhook(r.secret, String(now - 3600), body), body), // stale
      await send(String(now + 3600), await signWebhook(r.secret, String(now + 3600), body), body), // future
      await send(String(now), good.slice(0, -2), body), // truncated
      await send(String(now), '', body),
    ];
    for (const res of forged) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('WEBHOOK_REFUSED');
      expect(res.text).not.toContain(r.secret);
    }
    const before = e.EXPORTS.sent.length;
    expect((await send(String(now), good, body)).status).toBe(202);
    const replays = [await send(String(now), good, body), await send(String(now), good, body)];
    for (const res of replays) expect(res.body.error.code).toBe('REPLAYED');
    // The delivery resent with an Idempotency-Key added: the signature does not cover it.
    expect((await send(String(now), good, body, 'k-new')).status).toBe(401);
    // Same Idempotency-Key (signed) re-signed later: still one delivery.
    const later = String(now + 5);
    const keyed = (ts: string) => signWebhook(r.secret, ts, body, 'hex', 'k-1');
    expect((await send(String(now), await keyed(String(now)), body, 'k-1')).status).toBe(202);
    expect((await send(later, await keyed(later), body, 'k-1')).status).toBe(409);
    expect(e.EXPORTS.sent.length - before).toBe(2);
  });
});

describe('SSRF', () => {
  const refusedAlways = [
    'http://s3.example.com',
    'ftp://s3.example.com',
    'file:///etc/passwd',
    'https://169.254.169.254',
    'https://[fe80::1]',
    'https://10.0.0.1',
    'https://172.16.5.4',
    'https://192.168.1.1',
    'https://100.64.0.1',
    'https://user:pass@s3.example.com',
  ];
  const loopback = [
    'https://127.0.0.1',
    'https://localhost',
    'https://[::1]',
    'https://127.1',
    'https://2130706433',
    'https://0x7f.0.0.1',
    'https://[::ffff:127.0.0.1]',
    'http://127.0.0.1:5000',
    'https://0.0.0.0',
  ];

  it('refuses private, link-local, loopback and non-https endpoints and alert webhooks', async () => {
    const tally = { refused: 0, accepted: [] as string[] };
    for (const allow of [false, true]) {
      const e = testEnv(allow ? { ALLOW_LOOPBACK_ENDPOINTS: 'true' } : {});
      const a = await newOrg(e);
      const r = await owned(e, a.token);
      const cases = allow ? refusedAlways : [...refusedAlways, ...loopback];
      for (const url of cases) {
        const created = await call(e, 'POST', '/destinations', {
          token: a.token,
          body: destinationBody({ endpoint: url }),
        });
        const updated = await call(e, 'PUT', `/destinations/${r.dest}`, {
          token: a.token,
          body: destinationBody({ endpoint: url }),
        });
        const flow = {
          name: 'f',
          destinationId: r.dest,
          audienceIds: [r.aud],
          mapping: { fields: [{ source: 'id' }] },
          alertWebhook: url,
        };
        const alert = await call(e, 'POST', '/dataflows', { token: a.token, body: flow });
        for (const [what, res, field] of [
          ['create', created, 'endpoint'],
          ['update', updated, 'endpoint'],
          ['alert', alert, 'alertWebhook'],
        ] as const) {
          if (res.status === 400 && res.body.error.issues?.[0]?.path === field) tally.refused++;
          else tally.accepted.push(`${what} ${url} allow=${allow} → ${res.status}`);
        }
      }
    }
    console.log(`RELIABILITY | worker SSRF | refused ${tally.refused}; accepted ${tally.accepted.length}`);
    expect(tally.accepted).toEqual([]);
  });
});

/** A batch of one message whose ack/retry are recorded. */
function batchOf(body: RunMessage) {
  return {
    queue: 'edge-export-runs',
    messages: [{ id: 'm', body, attempts: 1, ack: () => {}, retry: () => {} }],
  };
}

describe('object-key traversal through names, macros and folder paths', () => {
  it('refuses traversing folder paths and keeps hostile audience names inside the folder', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const a = await newOrg(e);
    for (const folderPath of ['../x', 'exports/../../x', 'exports\\..\\x', 'exports/./x', '%2e%2e/x/..']) {
      const res = await call(e, 'POST', '/destinations', {
        token: a.token,
        body: destinationBody({ folderPath }),
      });
      expect(res.status, folderPath).toBe(400);
      expect(
        res.body.error.issues.map((i: { path: string }) => i.path),
        folderPath,
      ).toContain('folderPath');
    }
    const folder = `${moto.folder}traversal/`;
    await call(e, 'POST', '/profiles', {
      token: a.token,
      raw: '{"id":"p1","identities":{"email":["a@x.com"]},"attributes":{"tier":"gold"}}',
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    const dest = await call(e, 'POST', '/destinations', {
      token: a.token,
      body: motoDestinationBody(folder, { name: 'm' }),
    });
    expect(dest.status, dest.text).toBe(201);
    const outcomes: string[] = [];
    for (const name of ['..', '.', '...', '%2e%2e', '..%2f..', 'a..b', ' .. ']) {
      const aud = await call(e, 'POST', '/audiences', { token: a.token, body: { ...rule, name } });
      if (aud.status !== 201) {
        outcomes.push(`${name}: refused ${aud.status}`);
        continue;
      }
      const flow = await call(e, 'POST', '/dataflows', {
        token: a.token,
        body: {
          name: `f${outcomes.length}`,
          destinationId: dest.body.id,
          audienceIds: [aud.body.id],
          mapping: { fields: [{ source: 'id' }] },
          naming: { audienceName: true, customText: '..' },
        },
      });
      expect(flow.status, name).toBe(201);
      const run = await call(e, 'POST', `/dataflows/${flow.body.id}/run`, { token: a.token });
      await worker.queue(batchOf({ runId: run.body.id, orgId: a.id }), e);
      const done = (await call(e, 'GET', `/runs/${run.body.id}`, { token: a.token })).body;
      outcomes.push(`${name}: ${done.status}${done.error ? ` ${done.error.code}` : ''}`);
      expect(['succeeded', 'failed']).toContain(done.status);
      if (done.status === 'failed') expect(['CONFIG_INVALID', 'KEY_UNSAFE']).toContain(done.error.code);
      for (const file of done.files ?? []) {
        expect(file.key.startsWith(folder)).toBe(true);
        expect(file.key.split('/')).not.toContain('..');
        expect(file.key.split('/')).not.toContain('.');
      }
    }
    const everything = await motoAdmin().list('');
    expect(everything.filter((k) => !k.startsWith(moto.folder))).toEqual([]);
    const written = await motoAdmin().list(folder);
    outcomes.push(`keys ${written.join(' ')}`);
    for (const key of written)
      expect(key.split('/').filter((s) => s === '..' || s === '.' || s === '')).toEqual([]);
    console.log(`RELIABILITY | worker traversal | ${outcomes.join('; ')}`);
  });
});
