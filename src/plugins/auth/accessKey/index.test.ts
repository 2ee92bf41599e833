import { describe, expect, it } from 'vitest';
import { parse } from '../../../core/validate.ts';
import { accessKey, accessKeyOptions, plugin } from './index.ts';
import { configError } from '../../../../test/support/config-error.ts';
import { webPlatform } from '../../../core/platform.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
const ctx = { now: () => new Date(0), uuid: () => 'u', fetch, runId: 'r', scheduledTime: new Date(0) };

const issuesOf = (input: unknown) => configError(() => parse(accessKeyOptions, input, 'auth/accessKey options'));

describe('auth/accessKey', () => {
  it('returns the configured key pair', async () => {
    const stage = plugin.create(
      parse(accessKeyOptions, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET }),
      webPlatform(),
    );
    expect(stage).toMatchObject({ kind: 'auth', name: 'accessKey' });
    const creds = await (stage as ReturnType<typeof accessKey>).credentials(ctx);
    expect(creds).toEqual({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET });
  });

  it('passes a session token through', async () => {
    const creds = await accessKey({
      accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: 'tok',
    }).credentials(ctx);
    expect(creds?.sessionToken).toBe('tok');
  });

  it('reports every bad field at once, naming field, expectation and what was received', () => {
    const error = issuesOf({ accessKeyId: 'akia-lower', secretAccessKey: '  ' });
    expect(error.issues.map((i) => i.path).sort()).toEqual(['accessKeyId', 'secretAccessKey']);
    const id = error.issues.find((i) => i.path === 'accessKeyId');
    expect(id).toMatchObject({ expected: '/^[A-Z0-9]{16,128}$/', received: 'a 10-character string' });
    expect(id?.message).toContain('access key id');
  });

  it('never echoes a secret, even one pasted into the key id field', () => {
    const error = issuesOf({ accessKeyId: SECRET, secretAccessKey: '' });
    const text = JSON.stringify(error.toJSON()) + error.message;
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('wJalr');
    expect(
      JSON.stringify(accessKey({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET })),
    ).not.toContain(SECRET);
  });

  it('rejects unknown fields and missing ones', () => {
    const error = issuesOf({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secret: SECRET });
    expect(error.issues.map((i) => i.path).sort()).toEqual(['secret', 'secretAccessKey']);
    expect(error.message).not.toContain(SECRET);
  });
});
