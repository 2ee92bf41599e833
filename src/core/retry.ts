/**
 * Retry as a policy wrapped around one request: which failures are transient, how long to wait
 * (exponential backoff with full jitter), and when to give up (attempts and total time).
 * Time, randomness and sleeping are injected so tests run instantly and deterministically.
 */

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No new attempt starts after this much time since the first one. */
  readonly maxElapsedMs: number;
  /** Each attempt is aborted (and counted as a timeout) after this long. */
  readonly attemptTimeoutMs: number;
  random(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
}

/** S3 error codes worth another attempt whatever their HTTP status. */
const RETRYABLE_CODES = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequests',
]);

/** Sleeps unless the signal aborts first. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The production policy (6 attempts, 100 ms base, 20 s cap, 5 min total); override any part. */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxAttempts: 6,
    baseDelayMs: 100,
    maxDelayMs: 20_000,
    maxElapsedMs: 300_000,
    attemptTimeoutMs: 120_000,
    random: Math.random,
    sleep: abortableSleep,
    now: Date.now,
    ...overrides,
  };
}

/** Full jitter: a uniform wait between 0 and min(cap, base · 2^(attempt-1)). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(policy.random() * ceiling);
}

/** Whether an S3 answer (status and error code) is transient; 501 Not Implemented never is. */
export function isRetryableResponse(status: number, code?: string): boolean {
  if (status === 501 || code === 'NotImplemented') return false;
  return status >= 500 || status === 429 || (code !== undefined && RETRYABLE_CODES.has(code));
}

/** Whether a thrown fetch failure is transient: network errors, resets and attempt timeouts. */
export function isRetryableFailure(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed, socket closed, connection reset
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError') return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code);
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the policy's attempts or
 * time run out; the last error is rethrown. `retryable` decides per error.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  retryable: (error: unknown) => boolean,
  signal?: AbortSignal,
): Promise<T> {
  const started = policy.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted || n >= policy.maxAttempts || !retryable(error)) throw error;
      const delay = backoffDelay(policy, n);
      if (policy.now() - started + delay > policy.maxElapsedMs) throw error;
      await policy.sleep(delay, signal);
    }
  }
}
