import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableFailure, isRetryableResponse, retryPolicy, withRetry } from './retry.ts';

describe('retry policy', () => {
  it('uses full jitter under an exponential, capped ceiling', () => {
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(p, n))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(retryPolicy({ random: () => 0 }), 3)).toBe(0);
  });

  it('classifies transient answers and failures', () => {
    expect(isRetryableResponse(500)).toBe(true);
    expect(isRetryableResponse(503, 'SlowDown')).toBe(true);
    expect(isRetryableResponse(429)).toBe(true);
    expect(isRetryableResponse(400, 'RequestTimeout')).toBe(true);
    expect(isRetryableResponse(403, 'AccessDenied')).toBe(false);
    // A store that does not implement an operation will not implement it on the next attempt.
    expect(isRetryableResponse(501, 'NotImplemented')).toBe(false);
    expect(isRetryableFailure(new TypeError('fetch failed'))).toBe(true);
    expect(isRetryableFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableFailure(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isRetryableFailure(new Error('boom'))).toBe(false);
  });

  it('stops after maxAttempts, sleeping the jittered delays in between', async () => {
    const sleeps: number[] = [];
    const p = retryPolicy({
      maxAttempts: 4,
      baseDelayMs: 10,
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
    });
    let calls = 0;
    await expect(
      withRetry(
        p,
        async () => {
          calls++;
          throw new Error('x');
        },
        () => true,
      ),
    ).rejects.toThrow('x');
    expect(calls).toBe(4);
    expect(sleeps).toEqual([5, 10, 20]);
  });

  it('does not retry what is not retryable, and respects the total time budget', async () => {
    let calls = 0;
    await expect(
      withRetry(
        retryPolicy({ sleep: async () => undefined }),
        async () => {
          calls++;
          throw new Error('no');
        },
        () => false,
      ),
    ).rejects.toThrow('no');
    expect(calls).toBe(1);
    let now = 0;
    const p = retryPolicy({
      maxAttempts: 100,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      maxElapsedMs: 2500,
      random: () => 1,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    calls = 0;
    await expect(
      withRetry(
        p,
        async () => {
          calls++;
          throw new Error('t');
        },
        () => true,
      ),
    ).rejects.toThrow('t');
    expect(calls).toBe(3);
  });

  it('returns the first success', async () => {
    let calls = 0;
    const out = await withRetry(
      retryPolicy({ sleep: async () => undefined }),
      async () => (++calls < 3 ? Promise.reject(new Error('e')) : 'ok'),
      () => true,
    );
    expect([out, calls]).toEqual(['ok', 3]);
  });
});
