/**
 * workerd's local D1 refuses a value too big, as D1 on Cloudflare does (docs/LIMITS.md). Its local
 * threshold is a little higher than the 2,000,000 bytes Cloudflare documents (a value of 2,199,995
 * bytes still went in when measured): edge-export sizes its chunks against the documented limit,
 * and its SQLite hosts refuse at exactly 2,000,000 (test/hosts/d1-contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { testEnv } from './helpers.ts';

describe("workerd's D1", () => {
  it('refuses a value over its limit with SQLITE_TOOBIG', async () => {
    const e = testEnv();
    await e.DB.prepare('CREATE TABLE IF NOT EXISTS limits_probe (v TEXT)').run();
    await e.DB.prepare('INSERT INTO limits_probe (v) VALUES (?)').bind('x'.repeat(2_000_000)).run();
    await expect(e.DB.prepare('INSERT INTO limits_probe (v) VALUES (?)').bind('x'.repeat(2_200_000)).run()).rejects.toThrow(/SQLITE_TOOBIG/);
  });
});
