/**
 * Worker tests, run inside workerd by @cloudflare/vitest-pool-workers: the real D1 (with our
 * migrations applied), real Hono routing and Web Crypto of the Workers runtime. Offline: `cf: false`.
 * S3 is moto with auth enforced, started in Node by the global setup (workerd may fetch 127.0.0.1).
 */
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Offline machine and CI: wrangler must not try to report usage.
process.env.WRANGLER_SEND_METRICS ??= 'false';

export default defineConfig(async () => {
  const migrations = await readD1Migrations('migrations');
  return {
    plugins: [
      cloudflareTest({
        main: './src/worker/index.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          cf: false,
          // An R2 bucket for snapshot sources read through their binding (test/worker/sources.test.ts, r2-store.test.ts).
          r2Buckets: ['SNAPSHOTS'],
          bindings: {
            TEST_MIGRATIONS: migrations,
            // A test-only key (32 zero-padded bytes would also do); never a real deployment's.
            SECRETS_KEY: 'dGVzdC1vbmx5LWtleS1mb3Itd29ya2VyLXRlc3RzISE=',
            ADMIN_TOKEN: 'test-admin-token-0123456789',
          },
        },
      }),
    ],
    test: {
      include: ['test/worker/**/*.test.ts'],
      setupFiles: ['./test/worker/setup.ts'],
      // Node side: moto with auth enforced; endpoint and keys reach the tests through inject('moto').
      globalSetup: ['./test/worker/global-setup.ts'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  };
});
