/**
 * The core's runtime-agnostic unit tests (the same files Node and Deno run, see
 * test/hosts/core-tests.ts) inside workerd, through @cloudflare/vitest-pool-workers. No Worker entry
 * and no bindings: the tests exercise the core with workerd's own Web APIs. Offline: `cf: false`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { selectCoreTests } from './test/hosts/core-tests.ts';

// Offline machine and CI: wrangler must not try to report usage.
process.env.WRANGLER_SEND_METRICS ??= 'false';

const list = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative('.', join(entry.parentPath, entry.name)).split(sep).join('/'));
const read = (path: string): string | undefined => {
  for (const candidate of [path, `${path}.ts`]) {
    try {
      return readFileSync(candidate, 'utf8');
    } catch {
      // not this candidate
    }
  }
  return undefined;
};
const { run } = selectCoreTests({ list, read });

export default defineConfig({
  plugins: [
    cloudflareTest({
      miniflare: { cf: false, compatibilityDate: '2026-04-20', compatibilityFlags: ['nodejs_compat'] },
    }),
  ],
  test: {
    include: run,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
