/**
 * Property-based fuzzing of every /v1 endpoint in workerd (real Hono routing, real D1), seeded:
 * never a 5xx, never a stack trace, every error has code and message, validation issues name their
 * field, and no secret (destination keys, alert and webhook secrets, API tokens) reaches a response
 * body or a console line.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMITS } from '../../src/worker/http.ts';
import { ingestBodies, jsonBodies, rawText, recordConsole, Tally, contentType } from './fuzz-api.ts';
import { type Call, call, destinationBody, newOrg, SECRET, testEnv } from './helpers.ts';

const SEED = 20261126;
const SESSION = 'FQoGZXIvYXdzEFUZZSESSIONTOKENzzzz0123456789';
const ALERT_SECRET = 'alert-secret-FUZZ-0123456789abcdef';
const ADMIN = 'test-admin-token-0123456789';
const failing: typeof fetch = async () =>
  new Response('<Error><Code>AccessDenied</Code></Error>', { status: 403 });

const e = testEnv();
const tally = new Tally();
const texts: string[] = [];
let console_: ReturnType<typeof recordConsole>;
let org: { id: string; token: string };
let other: { id: string; token: string };
const ids = { destination: '', audience: '', upload: '', dataflow: '', webhookSecret: '', otherFlow: '' };

async function api(method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Call> {
  const res = await call(e, method, path, { fetch: failing, ...opts });
  texts.push(res.text);
  return res;
}

const dataflowBody = () => ({
  name: 'flow',
  destinationId: ids.destination,
  audienceIds: [ids.audience],
  mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }] },
  schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' },
  naming: {},
  alertWebhook: 'https://hooks.example.com/x',
  alertSecret: ALERT_SECRET,
  skippedRateThreshold: 0.5,
});
const destBody = () =>
  destinationBody({
    auth: {
      method: 'accessKey',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: SESSION,
    },
  });
const audienceBody = { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' };
const datasetBody = {
  id: 'orders',
  name: 'Orders',
  schema: [
    { name: 'sku', type: 'string' },
    { name: 'qty', type: 'integer' },
  ],
};

/** Ids a path may carry: real ones of this org, another org's, and hostile text. */
const anyId = () =>
  fc.oneof(
    fc.constantFrom(ids.destination, ids.audience, ids.dataflow, ids.otherFlow, 'orders', 'nope'),
    fc.string({ minLength: 1, maxLength: 300 }).map(encodeURIComponent),
    fc.constantFrom('..', '%2e%2e', '%00', 'a%2Fb', "1'%20OR%201=1", 'x'.repeat(5000)),
  );

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
const run = (property: fc.IAsyncPropertyWithHooks<never> | fc.IAsyncProperty<never>, numRuns: number) =>
  fc.assert(property as fc.IAsyncProperty<unknown>, { seed: SEED, numRuns });

beforeAll(async () => {
  console_ = recordConsole();
  org = await newOrg(e, 'Fuzz');
  other = await newOrg(e, 'Other');
  ids.destination = (await api('POST', '/destinations', { token: org.token, body: destBody() })).body.id;
  ids.audience = (await api('POST', '/audiences', { token: org.token, body: audienceBody })).body.id;
  ids.upload = (
    await api('POST', '/audiences', { token: org.token, body: { kind: 'upload', name: 'list' } })
  ).body.id;
  const flow = await call(e, 'POST', '/dataflows', { token: org.token, body: dataflowBody() });
  expect(flow.status).toBe(201);
  ids.dataflow = flow.body.id;
  ids.webhookSecret = flow.body.webhookSecret;
  expect((await api('POST', '/datasets', { token: org.token, body: datasetBody })).status).toBe(201);
  const od = await api('POST', '/destinations', { token: other.token, body: destinationBody({ name: 'o' }) });
  const oa = await api('POST', '/audiences', { token: other.token, body: audienceBody });
  const of = await call(e, 'POST', '/dataflows', {
    token: other.token,
    body: { ...dataflowBody(), destinationId: od.body.id, audienceIds: [oa.body.id] },
  });
  ids.otherFlow = of.body.id;
});

afterAll(() => console_?.restore());

describe('API fuzzing (fast-check, seeded)', () => {
  const jsonRoutes: [string, string, () => string, () => Record<string, unknown>, number][] = [
    ['POST', '/destinations', () => '/destinations', destBody, 400],
    ['PUT', '/destinations/:id', () => `/destinations/${ids.destination}`, destBody, 300],
    ['POST', '/dataflows', () => '/dataflows', dataflowBody, 400],
    ['PUT', '/dataflows/:id', () => `/dataflows/${ids.dataflow}`, dataflowBody, 300],
    ['POST', '/audiences', () => '/audiences', () => audienceBody, 250],
    ['PUT', '/audiences/:id', () => `/audiences/${ids.audience}`, () => audienceBody, 150],
    ['POST', '/datasets', () => '/datasets', () => datasetBody, 250],
  ];
  for (const [method, label, path, valid, numRuns] of jsonRoutes) {
    it(`${method} ${label} with mutated and arbitrary JSON bodies`, async () => {
      await run(
        fc.asyncProperty(jsonBodies(valid()), async (body) => {
          const res = await api(method, path(), { token: org.token, body });
          tally.check(`${method} ${path()} ${JSON.stringify(body).slice(0, 200)}`, res, isObject(body));
          if (res.status === 400 && res.body.error.code === 'CONFIG_INVALID')
            expect(res.body.error.issues.length).toBeGreaterThan(0);
        }) as never,
        numRuns,
      );
    });
  }

  it('JSON routes with raw garbage and wrong content types', async () => {
    const routes = ['/destinations', '/dataflows', '/audiences', '/datasets', '/admin/organizations'];
    await run(
      fc.asyncProperty(fc.constantFrom(...routes), contentType, rawText, async (route, type, raw) => {
        const token = route.startsWith('/admin') ? ADMIN : org.token;
        const res = await api('POST', route, { token, raw, headers: { 'Content-Type': type } });
        tally.check(`POST ${route} [${type}] ${raw.slice(0, 80)}`, res, false);
      }) as never,
      300,
    );
  });

  it('ingestion (profiles, dataset records, upload members) with garbage NDJSON and CSV', async () => {
    const targets = [
      [
        '/profiles',
        '{"id":"p1","identities":{"email":["a@x.com"]},"attributes":{"tier":"gold"}}',
        'id',
        'p1',
      ],
      [
        '/datasets/orders/records',
        '{"id":"o1","updatedAt":"2026-04-01T00:00:00Z","values":{"sku":"a","qty":1}}',
        'id,updatedAt,sku,qty',
        'o1,2026-04-01T00:00:00Z,a,1',
      ],
      [
        `/audiences/${ids.upload}/members`,
        '{"namespace":"email","value":"a@x.com"}',
        'namespace,value',
        'email,a@x.com',
      ],
    ] as const;
    await run(
      fc.asyncProperty(
        fc
          .integer({ min: 0, max: 2 })
          .chain((i) =>
            fc.tuple(fc.constant(i), ingestBodies(targets[i]![1], targets[i]![2], targets[i]![3])),
          ),
        async ([i, input]) => {
          const res = await api('POST', targets[i]![0], {
            token: org.token,
            raw: input.text,
            headers: { 'Content-Type': input.type },
          });
          tally.check(`POST ${targets[i]![0]} [${input.type}] ${input.text.slice(0, 120)}`, res, false);
          if (res.body?.error?.code === 'ROWS_INVALID')
            expect(res.body.error.details.errorCount).toBeGreaterThan(0);
        },
      ) as never,
      500,
    );
  });

  it('every route with bad ids, bad methods, bad query strings and bad tokens', async () => {
    const shapes = [
      '/destinations/ID',
      '/destinations/ID/test',
      '/destinations/ID/policies',
      '/dataflows/ID',
      '/dataflows/ID/run',
      '/audiences/ID',
      '/audiences/ID/members',
      '/datasets/ID',
      '/datasets/ID/records',
      '/runs/ID',
      '/runs?dataflowId=ID&limit=ID&cursor=ID',
      '/destinations?limit=ID&cursor=ID',
      '/ID',
    ];
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
    const token = fc.oneof(
      fc.constant(org.token),
      fc.constant(other.token),
      fc.constantFrom('', 'eex_', `${org.token}x`, ADMIN, 'Basic abc'),
      fc.string({ maxLength: 60 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
    );
    await run(
      fc.asyncProperty(fc.constantFrom(...shapes), anyId(), method, token, async (shape, id, m, t) => {
        const path = shape.replaceAll('ID', id);
        const res = await api(m, path, {
          ...(t && { token: t }),
          ...(m !== 'GET' && m !== 'OPTIONS' && { body: {} }),
        });
        tally.check(`${m} ${path.slice(0, 120)}`, res, true);
      }) as never,
      600,
    );
    // The seeded resources survived the random DELETEs of other organizations' tokens and bad ids only
    // if those never matched; a DELETE with this org's token and a real id may legitimately remove one.
  });

  it('webhooks with forged signatures, timestamps and bodies never create a run', async () => {
    const header = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    );
    await run(
      fc.asyncProperty(
        fc.constantFrom(ids.dataflow, ids.otherFlow, 'nope'),
        header,
        header,
        rawText,
        async (id, ts, sig, raw) => {
          const headers: Record<string, string> = { 'Content-Type': 'application/json' };
          if (ts !== undefined) headers['X-Edge-Export-Timestamp'] = ts;
          if (sig !== undefined) headers['X-Edge-Export-Signature'] = sig;
          const res = await api('POST', `/webhooks/${id}`, { raw, headers });
          tally.check(`webhook ${id} ts=${ts} sig=${sig}`, res, false);
          // A body over the webhook limit is refused before anything else is looked at.
          const oversize = new TextEncoder().encode(raw).byteLength > BODY_LIMITS.webhook;
          expect(oversize ? [413] : [400, 401]).toContain(res.status);
        },
      ) as never,
      300,
    );
    const runs = await e.DB.prepare("SELECT COUNT(*) AS n FROM runs WHERE trigger = 'webhook'").first<{
      n: number;
    }>();
    expect(runs!.n).toBe(0);
  });

  it('admin organizations with fuzzed bodies and tokens', async () => {
    await run(
      fc.asyncProperty(
        jsonBodies({ name: 'Org' }),
        fc.constantFrom(ADMIN, org.token, 'x'.repeat(20)),
        async (body, token) => {
          const res = await api('POST', '/admin/organizations', { token, body });
          tally.check(`admin ${JSON.stringify(body).slice(0, 100)}`, res, isObject(body));
          if (token !== ADMIN) expect(res.status).toBe(401);
        },
      ) as never,
      200,
    );
  });

  it('no secret in any response body or console line of the whole run', () => {
    const secrets = [
      SECRET,
      SESSION,
      ALERT_SECRET,
      ids.webhookSecret,
      org.token,
      other.token,
      ADMIN,
      e.SECRETS_KEY,
    ];
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(15);
      const responseHits = texts.filter((t) => t.includes(secret)).length;
      const logHits = console_.lines.filter((l) => l.includes(secret)).length;
      expect({ secret: secret.slice(0, 6), responseHits, logHits }).toEqual({
        secret: secret.slice(0, 6),
        responseHits: 0,
        logHits: 0,
      });
    }
    console_.restore();
    console.log(
      `RELIABILITY | worker API fuzz | ${tally.summary()}; responses scanned ${texts.length}; console lines ${console_.lines.length}`,
    );
  });
});
