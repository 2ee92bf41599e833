import { describe, expect, it } from 'vitest';
import { call, newOrg, testEnv } from './helpers.ts';

const NDJSON = { 'Content-Type': 'application/x-ndjson' };
const CSV = { 'Content-Type': 'text/csv' };

async function setup() {
  const e = testEnv();
  const org = await newOrg(e);
  const post = (path: string, raw: string, headers: Record<string, string>) =>
    call(e, 'POST', path, { token: org.token, raw, headers });
  const profiles = async () =>
    (
      await e.DB.prepare('SELECT id, json, updated_at FROM profiles WHERE org_id = ? ORDER BY id')
        .bind(org.id)
        .all<{ id: string; json: string; updated_at: string }>()
    ).results.map((r) => ({ id: r.id, ...JSON.parse(r.json), updatedAt: r.updated_at }));
  return { e, org, post, profiles };
}

describe('POST /v1/profiles', () => {
  it('stores an NDJSON batch (upsert by id) and a CSV batch with typed attribute columns', async () => {
    const s = await setup();
    const ndjson = [
      '{"id":"p1","identities":{"email":["a@x.com"]},"attributes":{"tier":"gold","spend":10},"updatedAt":"2026-04-01T00:00:00Z"}',
      '',
      '{"id":"p2","attributes":{"tier":"silver"}}',
    ].join('\n');
    const first = await s.post('/profiles', ndjson, NDJSON);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ stored: 2 });
    const csv = [
      'id,identities.email,attributes.tier,attributes.spend:number,attributes.vip:boolean,attributes.address.city',
      'p2,b@x.com|b2@x.com,gold,12.5,true,"Paris, FR"',
      'p3,,bronze,,false,',
    ].join('\r\n');
    expect((await s.post('/profiles', csv, CSV)).body).toEqual({ stored: 2 });
    const stored = await s.profiles();
    expect(stored).toHaveLength(3);
    expect(stored[0]).toEqual({
      id: 'p1',
      identities: { email: ['a@x.com'] },
      attributes: { tier: 'gold', spend: 10 },
      updatedAt: '2026-04-01T00:00:00.000Z',
    });
    expect(stored[1]).toMatchObject({
      id: 'p2',
      identities: { email: ['b@x.com', 'b2@x.com'] },
      attributes: { tier: 'gold', spend: 12.5, vip: true, address: { city: 'Paris, FR' } },
    });
    expect(stored[2]).toMatchObject({ id: 'p3', identities: {}, attributes: { tier: 'bronze', vip: false } });
  });

  it('refuses a batch with bad records, listing every bad line, and stores nothing', async () => {
    const s = await setup();
    const ndjson = [
      '{"id":"ok1","attributes":{}}',
      '{"id":"bad id!","attributes":[]}',
      '{not json',
      '{"id":"ok2","identities":{"email":"a@x.com"}}',
    ].join('\n');
    const res = await s.post('/profiles', ndjson, NDJSON);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ROWS_INVALID');
    expect(res.body.error.details.errorCount).toBe(3);
    const errors = res.body.error.details.errors as { line: number; path?: string; message: string }[];
    expect(errors.map((e) => [e.line, e.path])).toEqual([
      [2, 'id'],
      [2, 'attributes'],
      [3, undefined],
      [4, 'identities.email'],
    ]);
    expect(errors[2]!.message).toMatch(/not valid JSON/);
    const csv = 'id,attributes.spend:number,colour\np1,12,red\np2,lots,\n';
    const bad = await s.post('/profiles', csv, CSV);
    expect(bad.body.error.details.errors).toEqual([
      expect.objectContaining({ line: 2, path: 'colour', message: expect.stringMatching(/unknown column/) }),
      expect.objectContaining({
        line: 3,
        path: 'attributes.spend:number',
        message: expect.stringMatching(/"lots"/),
      }),
    ]);
    expect(await s.profiles()).toEqual([]);
  });

  it('refuses an unknown content type', async () => {
    const s = await setup();
    const res = await s.post('/profiles', '<xml/>', { 'Content-Type': 'application/xml' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/Content-Type: expected application\/x-ndjson or text\/csv/);
  });
});

describe('datasets', () => {
  const schema = [
    { name: 'sku', type: 'string', nullable: false },
    { name: 'qty', type: 'integer' },
    { name: 'price', type: 'double' },
    { name: 'day', type: 'date' },
    { name: 'tags', type: { list: 'string' } },
  ];

  it('creates a dataset and ingests NDJSON and CSV records checked against its schema', async () => {
    const s = await setup();
    const created = await call(s.e, 'POST', '/datasets', {
      token: s.org.token,
      body: { id: 'orders', name: 'Orders', schema },
    });
    expect(created.status).toBe(201);
    expect((await call(s.e, 'GET', '/datasets/orders', { token: s.org.token })).body.schema).toEqual(schema);
    const ndjson =
      '{"id":"o1","updatedAt":"2026-04-01T00:00:00Z","values":{"sku":"A","qty":2,"price":9.5,"tags":["x"]}}\n';
    expect((await s.post('/datasets/orders/records', ndjson, NDJSON)).body).toEqual({ stored: 1 });
    const csv =
      'id,updatedAt,sku,qty,price,day,tags\no2,2026-04-02T00:00:00Z,B,3,1.25,2026-04-02,"[""y""]"\n';
    expect((await s.post('/datasets/orders/records', csv, CSV)).body).toEqual({ stored: 1 });
    const rows = (
      await s.e.DB.prepare('SELECT id, json FROM dataset_records WHERE org_id = ? ORDER BY id')
        .bind(s.org.id)
        .all<{ id: string; json: string }>()
    ).results;
    expect(rows.map((r) => [r.id, JSON.parse(r.json)])).toEqual([
      ['o1', { sku: 'A', qty: 2, price: 9.5, tags: ['x'] }],
      ['o2', { sku: 'B', qty: 3, price: 1.25, day: '2026-04-02', tags: ['y'] }],
    ]);
  });

  it('reports each value that does not fit its column, with the line', async () => {
    const s = await setup();
    await call(s.e, 'POST', '/datasets', {
      token: s.org.token,
      body: { id: 'orders', name: 'Orders', schema },
    });
    const csv = [
      'id,updatedAt,sku,qty,price,day,tags',
      'o1,2026-04-01T00:00:00Z,,1.5,x,01/02/2026,[]',
      'o2,yesterday,A,1,1,,',
    ].join('\n');
    const res = await s.post('/datasets/orders/records', csv, CSV);
    expect(res.status).toBe(400);
    expect(
      res.body.error.details.errors.map((e: { line: number; path: string }) => [e.line, e.path]),
    ).toEqual([
      [2, 'values.sku'],
      [2, 'values.qty'],
      [2, 'values.price'],
      [2, 'values.day'],
      [3, 'updatedAt'],
    ]);
    const unknown = await s.post(
      '/datasets/orders/records',
      '{"id":"o3","updatedAt":"2026-04-01T00:00:00Z","values":{"sku":"A","colour":"red"}}',
      NDJSON,
    );
    expect(unknown.body.error.details.errors).toEqual([
      expect.objectContaining({ line: 1, path: 'values.colour' }),
    ]);
  });
});

describe('POST /v1/audiences/:id/members', () => {
  it('replaces the members all-or-nothing and reports every bad line', async () => {
    const s = await setup();
    const aud = await call(s.e, 'POST', '/audiences', {
      token: s.org.token,
      body: { kind: 'upload', name: 'list' },
    });
    const path = `/audiences/${aud.body.id}/members`;
    const good = 'namespace,value,tier\nemail,a@x.com,gold\ncrmId,42,silver\n';
    expect((await s.post(path, good, CSV)).body).toEqual({ imported: 2, rows: 2, evaluationId: expect.stringMatching(/^evl_/) });
    const bad =
      'namespace,value,tier\nemail,not-an-email,gold\nfax,1,x\nemail,c@x.com,gold\nemail,c@x.com,gold\n';
    const res = await s.post(path, bad, CSV);
    expect(res.status).toBe(400);
    expect(res.body.error.details.errors.map((e: { line: number }) => e.line)).toEqual([2, 3, 5]);
    // The previous upload stays in place.
    const read = await call(s.e, 'GET', `/audiences/${aud.body.id}`, { token: s.org.token });
    expect(read.body.members).toBe(2);
    const members = (
      await s.e.DB.prepare(
        'SELECT namespace, value FROM audience_members WHERE audience_id = ? ORDER BY value',
      )
        .bind(aud.body.id)
        .all()
    ).results;
    expect(members).toEqual([
      { namespace: 'crmId', value: '42' },
      { namespace: 'email', value: 'a@x.com' },
    ]);
    const rule = await call(s.e, 'POST', '/audiences', {
      token: s.org.token,
      body: { kind: 'rule', name: 'r', rule: 'attributes.tier = "gold"' },
    });
    expect((await s.post(`/audiences/${rule.body.id}/members`, good, CSV)).status).toBe(409);
  });

  it("cannot upload into another organization's audience", async () => {
    const s = await setup();
    const other = await newOrg(s.e, 'Other');
    const aud = await call(s.e, 'POST', '/audiences', {
      token: other.token,
      body: { kind: 'upload', name: 'x' },
    });
    const res = await s.post(`/audiences/${aud.body.id}/members`, 'namespace,value\nemail,a@x.com\n', CSV);
    expect(res.status).toBe(404);
  });
});
