/**
 * The API half of the error-message table: bad requests through the real Worker (Hono routing, D1 in
 * workerd), each answered by an issue at the field's path saying what is wrong and — where a known
 * name is close — "did you mean"; misspelt attributes come back as warnings beside the created
 * resource. The CLI half is test/errors-cli.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { D1Database } from '../../src/worker/env.ts';
import { type Call, SECRET, call, destinationBody, newOrg, testEnv } from './helpers.ts';

const e = testEnv();
let token: string;
let destinationId: string;
let audienceId: string;

beforeAll(async () => {
  token = (await newOrg(e, 'Errors')).token;
  const profiles = [
    { id: 'p1', identities: { email: ['ada@example.com'] }, attributes: { country: 'FR', tier: 'gold' } },
    { id: 'p2', identities: { email: ['bob@example.com'], crmId: ['C-2'] }, attributes: { country: 'DE', totalSpend: 12 } },
  ];
  const stored = await call(e, 'POST', '/profiles', { token, raw: profiles.map((p) => JSON.stringify(p)).join('\n'), headers: { 'Content-Type': 'application/x-ndjson' } });
  expect(stored.status).toBe(200);
  destinationId = (await call(e, 'POST', '/destinations', { token, body: destinationBody() })).body.id;
  audienceId = (await call(e, 'POST', '/audiences', { token, body: { kind: 'rule', name: 'gold', rule: 'tier = "gold"' } })).body.id;
});

const dataflow = (extra: Record<string, unknown> = {}) => ({
  name: 'Daily gold',
  destinationId,
  audienceIds: [audienceId],
  mapping: { fields: [{ source: 'identities.email', target: 'email' }, { source: 'attributes.country' }] },
  schedule: { frequency: 'daily', time: '06:00', startDate: '2026-01-01' },
  ...extra,
});

/** [what, method, path, body, the issue's path, text its message must hold] */
const REFUSED: [string, string, string, () => unknown, string, string][] = [
  ['audience kind', 'POST', '/audiences', () => ({ kind: 'rul', name: 'x', rule: 'a = 1' }), 'kind', 'received "rul" (did you mean "rule"?)'],
  ['audience key typo', 'POST', '/audiences', () => ({ kind: 'rule', name: 'x', rlue: 'a = 1', rule: 'a = 1' }), 'rlue', 'unknown field "rlue" (did you mean "rule"?)'],
  ['empty name, label said once', 'POST', '/audiences', () => ({ kind: 'rule', name: ' ', rule: 'tier = "gold"' }), 'name', 'must not be empty'],
  ['missing rule', 'POST', '/audiences', () => ({ kind: 'rule', name: 'x' }), 'rule', 'required field "rule" is missing'],
  ['rule syntax', 'POST', '/audiences', () => ({ kind: 'rule', name: 'x', rule: 'tier = = 1' }), 'rule', 'line 1, column'],
  ['schedule kind', 'POST', '/dataflows', () => dataflow({ schedule: { frequency: 'dayly', startDate: '2026-01-01' } }), 'schedule.frequency', 'received "dayly" (did you mean "daily"?)'],
  ['schedule key typo', 'POST', '/dataflows', () => dataflow({ schedule: { frequency: 'daily', startdate: '2026-01-01', startDate: '2026-01-01' } }), 'schedule.startdate', 'did you mean "startDate"?'],
  ['export mode', 'POST', '/dataflows', () => dataflow({ exportMode: 'incremntal' }), 'exportMode', 'did you mean "incremental"?'],
  ['naming enum', 'POST', '/dataflows', () => dataflow({ naming: { dateTime: 'unx' } }), 'naming.dateTime', 'did you mean "unix"?'],
  ['naming key typo', 'POST', '/dataflows', () => dataflow({ naming: { audienceNme: true } }), 'naming.audienceNme', 'did you mean "audienceName"?'],
  ['dataflow top-level typo', 'POST', '/dataflows', () => dataflow({ shedule: {} }), 'shedule', 'unknown field "shedule" (did you mean "schedule"?)'],
  ['unknown audience, at its index', 'POST', '/dataflows', () => dataflow({ audienceIds: [audienceId, 'aud_nope'] }), 'audienceIds[1]', 'no such audience in this organization, received "aud_nope"'],
  ['mapping field type', 'POST', '/dataflows', () => dataflow({ mapping: { fields: [{ source: 'id', type: 'strng' }] } }), 'mapping.fields[0].type', 'received "strng"'],
  ['destination file type', 'POST', '/destinations', () => destinationBody({ fileType: 'parquett' }), 'fileType', 'did you mean "parquet"?'],
  ['destination auth method', 'POST', '/destinations', () => destinationBody({ auth: { method: 'accesKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET } }), 'auth.method', 'did you mean "accessKey"?'],
  ['destination compression', 'POST', '/destinations', () => destinationBody({ compression: 'gzp' }), 'compression', 'did you mean "gzip"?'],
  ['destination key typo', 'POST', '/destinations', () => destinationBody({ bukcet: 'x' }), 'bukcet', 'did you mean "bucket"?'],
  ['destination folder macro', 'POST', '/destinations', () => destinationBody({ folderPath: 'a/%SEGMENT_NAM%' }), 'folderPath', 'did you mean "%SEGMENT_NAME%"?'],
  ['CSV option typo', 'POST', '/destinations', () => destinationBody({ formatOptions: { delimter: ';' } }), 'formatOptions.delimter', 'did you mean "delimiter"?'],
  ['a secret in the wrong field', 'POST', '/destinations', () => destinationBody({ region: SECRET }), 'region', `received a ${SECRET.length}-character string`],
];

function issueAt(res: Call, path: string): { path: string; message: string } {
  expect(res.status, res.text).toBe(400);
  const issue = res.body.error.issues.find((i: { path: string }) => i.path === path);
  expect(issue, `${path} in ${res.text}`).toBeDefined();
  return issue;
}

describe('API errors name the field and suggest the fix', () => {
  it.each(REFUSED)('%s', async (_name, method, path, body, at, text) => {
    const res = await call(e, method, path, { token, body: body() });
    const issue = issueAt(res, at);
    expect(issue.message).toContain(text);
    // The summary says it too, the field's label once, and nothing secret comes back.
    expect(res.body.error.message).toContain(`${at}: ${issue.message}`);
    expect(issue.message.startsWith(`${at.split('.').at(-1)}: `)).toBe(false);
    expect(res.text).not.toContain('K7MDENG');
  });
});

describe('API warnings: names no profile has', () => {
  it('a rule naming a misspelt attribute is created, with a warning naming the closest real one', async () => {
    const res = await call(e, 'POST', '/audiences', { token, body: { kind: 'rule', name: 'FR', rule: 'contry = "FR"' } });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([
      { path: 'rule', message: expect.stringMatching(/^unknown attribute "contry" \(did you mean "country"\?\) in rule: no profile of this organization has it/) },
    ]);
    const put = await call(e, 'PUT', `/audiences/${res.body.id}`, { token, body: { kind: 'rule', name: 'FR', rule: 'identities.crmid exists' } });
    expect(put.status).toBe(200);
    expect(put.body.warnings[0].message).toMatch(/^unknown identity namespace "crmid" \(did you mean "crmId"\?\)/);
    const right = await call(e, 'PUT', `/audiences/${res.body.id}`, { token, body: { kind: 'rule', name: 'FR', rule: 'country = "FR" and identities.crmId exists and totalSpend > 1' } });
    expect(right.body.warnings).toBeUndefined();
  });

  it('a mapping naming a misspelt attribute or namespace gets a warning at its field', async () => {
    const res = await call(e, 'POST', '/dataflows', {
      token,
      body: dataflow({ mapping: { fields: [{ source: 'identities.emial' }, { source: 'attributes.countyr' }, { source: 'attributes.tier' }], dedup: { identity: 'email' } } }),
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.warnings.map((w: { path: string }) => w.path)).toEqual(['mapping.fields[0].source', 'mapping.fields[1].source']);
    expect(res.body.warnings[0].message).toContain('did you mean "email"?');
    expect(res.body.warnings[1].message).toContain('did you mean "country"?');
  });

  it('an organization without profiles is told its names were not checked, not refused', async () => {
    const empty = (await newOrg(e, 'Empty')).token;
    const res = await call(e, 'POST', '/audiences', { token: empty, body: { kind: 'rule', name: 'x', rule: 'country = "FR"' } });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([{ path: 'rule', message: expect.stringContaining('no profiles yet') }]);
    // Names become known with the first ingest.
    await call(e, 'POST', '/profiles', { token: empty, raw: '{"id":"a","attributes":{"country":"FR"}}', headers: { 'Content-Type': 'application/x-ndjson' } });
    const again = await call(e, 'POST', '/audiences', { token: empty, body: { kind: 'rule', name: 'y', rule: 'country = "FR"' } });
    expect(again.body.warnings).toBeUndefined();
  });
});

describe('profile names on ingest', () => {
  it('cost one statement in the profiles\' own batch per request, however many profiles and names', async () => {
    const queries: string[] = [];
    let batches = 0;
    const db: D1Database = {
      prepare: (query) => {
        queries.push(query);
        return e.DB.prepare(query);
      },
      batch: (statements) => {
        batches++;
        return e.DB.batch(statements);
      },
    };
    const counted = testEnv({ DB: db });
    const org = await newOrg(counted, 'Many names');
    queries.length = 0;
    const body = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: `p${i}`, identities: { [`ns${i % 7}`]: ['x'] }, attributes: { [`attr${i}`]: i } })).join('\n');
    const res = await call(counted, 'POST', '/profiles', { token: org.token, raw: body, headers: { 'Content-Type': 'application/x-ndjson' } });
    expect(res.status, res.text).toBe(200);
    expect(batches).toBe(1);
    expect(queries.filter((q) => q.includes('profile_names'))).toHaveLength(1);
    const names = await e.DB.prepare('SELECT kind, COUNT(*) AS n FROM profile_names WHERE org_id = ? GROUP BY kind ORDER BY kind').bind(org.id).all<{ kind: string; n: number }>();
    expect(names.results).toEqual([{ kind: 'attribute', n: 2000 }, { kind: 'identity', n: 7 }]);
  });
});
