import { describe, expect, it } from 'vitest';
import type { AuthStage } from './types.ts';
import { credentialProvider } from './auth.ts';

const ctx = { now: () => new Date(0), uuid: () => 'u', fetch, runId: 'r', scheduledTime: new Date(0) };
const stage = (name: string, id: string | null, seen: unknown[] = []): AuthStage => ({
  kind: 'auth',
  name,
  credentials: async (_ctx, opts) => {
    seen.push(opts);
    return id === null ? null : { accessKeyId: id, secretAccessKey: 's' };
  },
});

describe('credentialProvider', () => {
  it('uses the first stage that applies and passes forceRefresh through', async () => {
    const seen: unknown[] = [];
    const provider = credentialProvider(
      [stage('none', null), stage('role', 'ASIA1', seen), stage('key', 'AKIA2')],
      ctx,
    );
    expect((await provider({ forceRefresh: true })).accessKeyId).toBe('ASIA1');
    expect(seen).toEqual([{ forceRefresh: true }]);
  });

  it('fails with AUTH_FAILED when no stage applies', async () => {
    await expect(credentialProvider(stage('none', null), ctx)()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
  });
});
