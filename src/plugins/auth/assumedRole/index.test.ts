import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { webPlatform } from '../../../core/platform.ts';
import type { AuthStage } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { ROLE_ARN, assumedRole, assumedRoleOptions, plugin } from './index.ts';

const ROLE = 'arn:aws:iam::123456789012:role/exports';
const ENV = {
  EDGE_EXPORT_AWS_ACCESS_KEY_ID: 'AKIAPLATFORM00000000',
  EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: 'platform-secret',
};

function issues(input: unknown) {
  try {
    parse(assumedRoleOptions, input);
  } catch (error) {
    return (error as ConfigError).issues;
  }
  return [];
}

describe('auth/assumedRole options', () => {
  it.each([
    [ROLE, true],
    ['arn:aws:iam::123456789012:role/path/to/destinations-role_customer+=,.@-', true],
    [`arn:aws:iam::123456789012:role/${'r'.repeat(64)}`, true],
    [`arn:aws:iam::123456789012:role/${'r'.repeat(65)}`, false],
    ['arn:aws:iam::12345678901:role/exports', false],
    ['arn:aws:iam::123456789012:user/exports', false],
    ['arn:aws:iam::123456789012:role/bad name', false],
    ['arn:aws:iam::123456789012:role/', false],
  ])('role ARN %s valid=%s', (arn, valid) => {
    expect(ROLE_ARN.test(arn)).toBe(valid);
  });

  it('defaults session name, duration and skew', () => {
    expect(parse(assumedRoleOptions, { roleArn: ROLE, externalId: 'dest-1' })).toEqual({
      roleArn: ROLE,
      externalId: 'dest-1',
      roleSessionName: 'edge-export',
      durationSeconds: 3600,
      refreshSkewSeconds: 300,
      stsRegion: 'us-east-1',
    });
  });

  it('reports every bad field at once with what was expected', () => {
    const found = issues({ roleArn: 'arn:aws:iam::1:role/x', externalId: 'x', durationSeconds: 600 });
    expect(found.map((i) => i.path).sort()).toEqual(['durationSeconds', 'externalId', 'roleArn']);
    expect(found.find((i) => i.path === 'roleArn')?.message).toContain('<12-digit account>');
    expect(found.find((i) => i.path === 'durationSeconds')?.message).toContain('900');
    expect(
      issues({ roleArn: ROLE, externalId: 'dest-1', durationSeconds: 43201 }).map((i) => i.path),
    ).toEqual(['durationSeconds']);
  });

  it('needs platform credentials from the environment or options, without echoing secrets', async () => {
    // Built without them (policies need none); the check and the first credentials call say what is missing.
    const bare = assumedRole({ roleArn: ROLE, externalId: 'dest-1' }, {});
    expect((await bare.check!(webPlatform())).map((i) => i.message).join()).toMatch(/EDGE_EXPORT_AWS_ACCESS_KEY_ID/);
    await expect(bare.credentials({ ...webPlatform(), runId: 'r', scheduledTime: new Date() })).rejects.toThrow(
      /EDGE_EXPORT_AWS_ACCESS_KEY_ID/,
    );
    const stage = plugin.create(parse(assumedRoleOptions, { roleArn: ROLE, externalId: 'dest-1' }), webPlatform({ env: ENV }));
    expect(await (stage as AuthStage).check!(webPlatform())).toEqual([]);
    expect(stage).toMatchObject({ kind: 'auth', name: 'assumedRole' });
    expect(JSON.stringify(stage)).not.toContain('platform-secret');
    const bad = issues({
      roleArn: ROLE,
      externalId: 'dest-1',
      platformCredentials: { accessKeyId: 'platform-secret', secretAccessKey: '' },
    });
    expect(bad.map((i) => i.path).sort()).toEqual([
      'platformCredentials.accessKeyId',
      'platformCredentials.secretAccessKey',
    ]);
    expect(JSON.stringify(bad)).not.toContain('platform-secret');
  });

  it('throws a ConfigError (not a raw valibot error) for bad options given to the factory', () => {
    expect(() => assumedRole({ roleArn: 'nope', externalId: 'dest-1' }, ENV)).toThrow(ConfigError);
  });
});
