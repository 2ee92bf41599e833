import { describe, expect, it } from 'vitest';
import { generateToken } from '../../src/core/security/tokens.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

describe('bearer-token auth', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a token of the right shape that was never issued', 'unknown'],
    ['a malformed token', 'eex_short'],
  ])('answers 401 to %s, with a JSON error and no stack', async (_name, token) => {
    const e = testEnv();
    const presented = token === 'unknown' ? (await generateToken()).token : token;
    const res = await call(e, 'GET', '/destinations', presented ? { token: presented } : {});
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer');
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    expect(res.text).not.toMatch(/at .*\.ts:\d+|stack/i);
  });

  it('stores only the SHA-256 of a token', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const rows = await e.DB.prepare('SELECT token_hash FROM api_tokens WHERE org_id = ?')
      .bind(org.id)
      .all<{ token_hash: string }>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows.results)).not.toContain(org.token);
  });

  it('creates organizations only with the admin token', async () => {
    const e = testEnv();
    expect((await call(e, 'POST', '/admin/organizations', { body: { name: 'X' } })).status).toBe(401);
    expect(
      (
        await call(e, 'POST', '/admin/organizations', {
          token: 'wrong-admin-token-000000',
          body: { name: 'X' },
        })
      ).status,
    ).toBe(401);
    const created = await call(e, 'POST', '/admin/organizations', {
      token: e.ADMIN_TOKEN!,
      body: { name: 'Globex' },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^eex_/);
    expect((await call(e, 'GET', '/destinations', { token: created.body.token })).status).toBe(200);
  });
});

describe('organization isolation', () => {
  it("never shows, changes, deletes or triggers another organization's resources (404, no leak)", async () => {
    const e = testEnv();
    const a = await newOrg(e, 'A');
    const b = await newOrg(e, 'B');
    const dest = await call(e, 'POST', '/destinations', {
      token: a.token,
      body: destinationBody({ name: 'A-private-destination' }),
    });
    expect(dest.status).toBe(201);
    const aud = await call(e, 'POST', '/audiences', {
      token: a.token,
      body: { kind: 'rule', name: 'A-vips', rule: 'attributes.tier = "gold"' },
    });
    expect(aud.status).toBe(201);
    const flow = await call(e, 'POST', '/dataflows', {
      token: a.token,
      body: {
        name: 'A-flow',
        destinationId: dest.body.id,
        audienceIds: [aud.body.id],
        mapping: { fields: [{ source: 'id' }] },
      },
    });
    expect(flow.status).toBe(201);
    const run = await call(e, 'POST', `/dataflows/${flow.body.id}/run`, { token: a.token });
    expect(run.status).toBe(202);

    const attempts = [
      ['GET', `/destinations/${dest.body.id}`],
      ['PUT', `/destinations/${dest.body.id}`, destinationBody()],
      ['DELETE', `/destinations/${dest.body.id}`],
      ['GET', `/audiences/${aud.body.id}`],
      ['DELETE', `/audiences/${aud.body.id}`],
      ['GET', `/dataflows/${flow.body.id}`],
      [
        'PUT',
        `/dataflows/${flow.body.id}`,
        {
          name: 'x',
          destinationId: dest.body.id,
          audienceIds: [aud.body.id],
          mapping: { fields: [{ source: 'id' }] },
        },
      ],
      ['DELETE', `/dataflows/${flow.body.id}`],
      ['POST', `/dataflows/${flow.body.id}/run`],
      ['GET', `/runs/${run.body.id}`],
    ] as const;
    const queued = e.EXPORTS.sent.length;
    for (const [method, path, body] of attempts) {
      const res = await call(e, method, path, { token: b.token, ...(body && { body }) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.text).not.toContain('A-private-destination');
      expect(res.text).not.toContain('acme-exports');
    }
    expect(e.EXPORTS.sent.length).toBe(queued);

    for (const list of ['/destinations', '/audiences', '/dataflows', '/runs']) {
      const res = await call(e, 'GET', list, { token: b.token });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    }
    // B cannot reference A's destination or audience in its own dataflow either.
    const sneaky = await call(e, 'POST', '/dataflows', {
      token: b.token,
      body: {
        name: 'B-flow',
        destinationId: dest.body.id,
        audienceIds: [aud.body.id],
        mapping: { fields: [{ source: 'id' }] },
      },
    });
    expect(sneaky.status).toBe(400);
    expect(sneaky.body.error.issues.map((i: { path: string }) => i.path)).toEqual([
      'destinationId',
      'audienceIds[0]',
    ]);
    expect(sneaky.body.error.issues[1].message).toMatch(/^no such audience in this organization/);
    // A still sees everything it owns.
    expect((await call(e, 'GET', `/destinations/${dest.body.id}`, { token: a.token })).status).toBe(200);
    expect((await call(e, 'GET', `/runs/${run.body.id}`, { token: a.token })).body.status).toBe('queued');
  });
});
