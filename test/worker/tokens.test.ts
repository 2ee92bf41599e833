/**
 * /v1/tokens in workerd with the real D1: named tokens with scopes, the secret shown once, listed
 * without secrets, rotated (the old secret refused at once) and revoked; no token grants, rotates or
 * revokes beyond its own scopes; the last token able to manage tokens stays.
 */
import { describe, expect, it } from 'vitest';
import { call, newOrg, testEnv } from './helpers.ts';

const e = testEnv();

async function issue(token: string, name: string, scopes: string[]) {
  const res = await call(e, 'POST', '/tokens', { token, body: { name, scopes } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; token: string; name: string; scopes: string[] };
}

describe('POST /v1/tokens', () => {
  it('issues a named token with its scopes; the secret is in that response only, the database keeps its hash', async () => {
    const org = await newOrg(e);
    const res = await call(e, 'POST', '/tokens', {
      token: org.token,
      body: { name: 'reporting', scopes: ['runs:read', 'dataflows:read'] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'reporting', scopes: ['runs:read', 'dataflows:read'], current: false });
    expect(res.body.id).toMatch(/^tok_/);
    expect(res.body.token).toMatch(/^eex_[A-Za-z0-9_-]{43}$/);
    const stored = await e.DB.prepare('SELECT token_hash, scopes FROM api_tokens WHERE id = ?')
      .bind(res.body.id)
      .first<{ token_hash: string; scopes: string }>();
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(res.body.token);

    const list = await call(e, 'GET', '/tokens', { token: org.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual(['default', 'reporting']);
    expect(list.body.items[0]).toMatchObject({ scopes: ['all'], current: true });
    expect(Object.keys(list.body.items[1]).sort()).toEqual(['createdAt', 'current', 'id', 'name', 'scopes']);
    expect(list.text).not.toContain(res.body.token);
    expect(list.text).not.toContain(org.token);
    expect(list.text).not.toContain(stored!.token_hash);
  });

  it('lets the new token call exactly what its scopes allow', async () => {
    const org = await newOrg(e);
    const reader = await issue(org.token, 'reader', ['runs:read']);
    expect((await call(e, 'GET', '/runs', { token: reader.token })).status).toBe(200);
    const refused = await call(e, 'GET', '/destinations', { token: reader.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      code: 'FORBIDDEN',
      message: 'This token lacks the scope "destinations:read" that GET /v1/destinations needs',
      details: { scope: 'destinations:read' },
    });
    const me = await call(e, 'GET', '/tokens/current', { token: reader.token });
    expect(me.body).toMatchObject({ id: reader.id, name: 'reader', scopes: ['runs:read'], current: true });
  });

  it('never grants a scope the issuing token does not hold', async () => {
    const org = await newOrg(e);
    const manager = await issue(org.token, 'manager', ['tokens:manage', 'runs:read']);
    for (const scopes of [['destinations:read'], ['runs:read', 'ingest'], ['all']]) {
      const res = await call(e, 'POST', '/tokens', { token: manager.token, body: { name: 'x', scopes } });
      expect(res.status, scopes.join()).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      const missing = scopes.filter((s) => s !== 'runs:read');
      expect(res.body.error.details).toEqual({ scopes: missing });
      expect(res.body.error.message).toContain(`cannot grant "${missing[0]}"`);
    }
    // Within its own scopes it may issue (and pass on tokens:manage, still bounded the same way).
    const sub = await issue(manager.token, 'sub', ['runs:read', 'tokens:manage']);
    expect(sub.scopes).toEqual(['runs:read', 'tokens:manage']);
  });

  it('refuses bad bodies naming the field, and a name a live token already has', async () => {
    const org = await newOrg(e);
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'x', scopes: ['runs:write'] }, 'scopes[0]', /expected one of destinations:read, .*tokens:manage, all/],
      [{ name: 'x', scopes: [] }, 'scopes', /at least one/],
      [{ name: 'x' }, 'scopes', /scopes/],
      [{ name: '', scopes: ['runs:read'] }, 'name', /must not be empty/],
      [{ name: 'x', scopes: ['runs:read'], secret: 'mine' }, 'secret', /./],
    ];
    for (const [body, path, message] of cases) {
      const res = await call(e, 'POST', '/tokens', { token: org.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const issue = res.body.error.issues.find((i: { path: string }) => i.path === path);
      expect(issue, `${JSON.stringify(body)} → ${JSON.stringify(res.body.error.issues)}`).toBeDefined();
      expect(issue.message).toMatch(message);
    }
    const taken = await call(e, 'POST', '/tokens', { token: org.token, body: { name: 'default', scopes: ['runs:read'] } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.message).toMatch(/^name: a live token is already named "default"/);
  });
});

describe('POST /v1/tokens/{id}/rotate', () => {
  it('replaces the secret: the new one works, the old one is refused at once, id, name and scopes stay', async () => {
    const org = await newOrg(e);
    const ci = await issue(org.token, 'ci', ['ingest', 'runs:read']);
    const res = await call(e, 'POST', `/tokens/${ci.id}/rotate`, { token: org.token, now: () => new Date('2026-12-01T10:00:00Z') });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ci.id, name: 'ci', scopes: ['ingest', 'runs:read'], rotatedAt: '2026-12-01T10:00:00.000Z' });
    expect(res.body.token).toMatch(/^eex_/);
    expect(res.body.token).not.toBe(ci.token);
    expect((await call(e, 'GET', '/runs', { token: ci.token })).status).toBe(401);
    expect((await call(e, 'GET', '/runs', { token: res.body.token })).status).toBe(200);
  });

  it('rotates the calling token itself (the caller must switch to the new secret)', async () => {
    const org = await newOrg(e);
    const me = await call(e, 'GET', '/tokens/current', { token: org.token });
    const res = await call(e, 'POST', `/tokens/${me.body.id}/rotate`, { token: org.token });
    expect(res.status).toBe(200);
    expect(res.body.current).toBe(true);
    expect((await call(e, 'GET', '/tokens', { token: org.token })).status).toBe(401);
    expect((await call(e, 'GET', '/tokens', { token: res.body.token })).status).toBe(200);
  });

  it('refuses to rotate a token with scopes the caller lacks (its secret would widen the caller)', async () => {
    const org = await newOrg(e);
    const manager = await issue(org.token, 'manager', ['tokens:manage']);
    const me = await call(e, 'GET', '/tokens/current', { token: org.token });
    const res = await call(e, 'POST', `/tokens/${me.body.id}/rotate`, { token: manager.token });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      'This token cannot rotate a token with "all": a token only rotates tokens within the scopes it holds',
    );
    expect((await call(e, 'GET', '/runs', { token: org.token })).status).toBe(200);
  });
});

describe('DELETE /v1/tokens/{id}', () => {
  it('revokes: the token is refused, gone from the list, and its name free again', async () => {
    const org = await newOrg(e);
    const ci = await issue(org.token, 'ci', ['ingest']);
    expect((await call(e, 'DELETE', `/tokens/${ci.id}`, { token: org.token })).status).toBe(204);
    expect((await call(e, 'POST', '/profiles', { token: ci.token, raw: '', headers: { 'Content-Type': 'application/x-ndjson' } })).status).toBe(401);
    const list = await call(e, 'GET', '/tokens', { token: org.token });
    expect(list.body.items.map((t: { name: string }) => t.name)).toEqual(['default']);
    expect((await call(e, 'DELETE', `/tokens/${ci.id}`, { token: org.token })).status).toBe(404);
    expect((await call(e, 'POST', `/tokens/${ci.id}/rotate`, { token: org.token })).status).toBe(404);
    await issue(org.token, 'ci', ['ingest']);
  });

  it("keeps the organization's last token that can manage tokens, and revokes it once another can", async () => {
    const org = await newOrg(e);
    const me = (await call(e, 'GET', '/tokens/current', { token: org.token })).body;
    const refused = await call(e, 'DELETE', `/tokens/${me.id}`, { token: org.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/last token able to manage tokens; create another with "tokens:manage" first/);
    // A token without tokens:manage does not count.
    await issue(org.token, 'reader', ['runs:read']);
    expect((await call(e, 'DELETE', `/tokens/${me.id}`, { token: org.token })).status).toBe(409);
    const successor = await issue(org.token, 'successor', ['tokens:manage', 'runs:read']);
    expect((await call(e, 'DELETE', `/tokens/${me.id}`, { token: org.token })).status).toBe(204);
    expect((await call(e, 'GET', '/runs', { token: org.token })).status).toBe(401);
    expect((await call(e, 'DELETE', `/tokens/${successor.id}`, { token: successor.token })).status).toBe(409);
  });

  it("refuses to revoke a broader token, and never reaches another organization's tokens", async () => {
    const org = await newOrg(e);
    const other = await newOrg(e, 'Other');
    const manager = await issue(org.token, 'manager', ['tokens:manage']);
    const me = (await call(e, 'GET', '/tokens/current', { token: org.token })).body;
    const res = await call(e, 'DELETE', `/tokens/${me.id}`, { token: manager.token });
    expect(res.status).toBe(403);
    expect(res.body.error.details).toEqual({ scopes: ['all'] });
    const theirs = (await call(e, 'GET', '/tokens/current', { token: other.token })).body;
    expect((await call(e, 'DELETE', `/tokens/${theirs.id}`, { token: org.token })).status).toBe(404);
    expect((await call(e, 'POST', `/tokens/${theirs.id}/rotate`, { token: org.token })).status).toBe(404);
    expect((await call(e, 'GET', '/runs', { token: other.token })).status).toBe(200);
    const list = await call(e, 'GET', '/tokens', { token: org.token });
    expect(list.body.items.map((t: { id: string }) => t.id)).not.toContain(theirs.id);
  });
});

describe('last use', () => {
  it('records when a token was last used, at most once a minute', async () => {
    const org = await newOrg(e);
    const ci = await issue(org.token, 'ci', ['runs:read']);
    const at = (iso: string) => () => new Date(iso);
    await call(e, 'GET', '/runs', { token: ci.token, now: at('2026-12-01T10:00:00Z') });
    await call(e, 'GET', '/runs', { token: ci.token, now: at('2026-12-01T10:00:30Z') });
    const lastUsed = async () =>
      (await call(e, 'GET', '/tokens', { token: org.token })).body.items.find((t: { id: string }) => t.id === ci.id).lastUsedAt;
    expect(await lastUsed()).toBe('2026-12-01T10:00:00.000Z');
    await call(e, 'GET', '/runs', { token: ci.token, now: at('2026-12-01T10:01:00Z') });
    expect(await lastUsed()).toBe('2026-12-01T10:01:00.000Z');
  });
});
