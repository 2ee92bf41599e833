/**
 * The console as the API app serves it (in-process, no browser): the page, its headers (CSP, ETag,
 * 304 revalidation), every module parses as an ES module, and the whole payload stays small.
 */
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/worker/app.ts';
import { CONSOLE_ASSETS } from '../../src/worker/console/index.ts';

const app = createApp();

describe('console assets', () => {
  it('serves the page at / with a strict content security policy', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/console/app.js"></script>');
    expect(html).toContain('aria-live="polite"');
  });

  it('serves every module with an ETag and answers 304 when unchanged', async () => {
    for (const name of Object.keys(CONSOLE_ASSETS)) {
      const res = await app.request(`/console/${name}`);
      expect(res.status, name).toBe(200);
      const etag = res.headers.get('etag');
      expect(etag, name).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
      const again = await app.request(`/console/${name}`, { headers: { 'If-None-Match': etag! } });
      expect(again.status, name).toBe(304);
      expect(await again.text()).toBe('');
    }
    expect((await app.request('/console/nope.js')).status).toBe(404);
  });

  it('leaves /v1 to the API', async () => {
    const res = await app.request('/v1/openapi.json');
    expect(res.status).toBe(200);
    expect((await res.json()).openapi).toBe('3.1.0');
    expect((await app.request('/v1/destinations')).status).toBe(401);
  });

  it('ships modules that parse as ES modules, importing only each other', async () => {
    for (const [name, asset] of Object.entries(CONSOLE_ASSETS)) {
      if (!name.endsWith('.js')) continue;
      await expect(transform(asset.body, { loader: 'js', format: 'esm' }), name).resolves.toBeDefined();
      for (const [, fromStatement, dynamic] of asset.body.matchAll(
        /^import .* from '([^']+)';$|\bimport\('([^']+)'\)/gm,
      )) {
        const target = (fromStatement ?? dynamic)!;
        expect(target, name).toMatch(/^\.\/[a-z]+\.js$/);
        expect(CONSOLE_ASSETS[target.slice(2)], `${name} imports ${target}`).toBeDefined();
      }
    }
  });

  // 80 KB until per-audience schedules and naming (schedule.js) took the console from ~78 KB to ~85 KB.
  it('stays small: the whole console is under 88 KB before compression', () => {
    const total = Object.values(CONSOLE_ASSETS).reduce(
      (sum, a) => sum + new TextEncoder().encode(a.body).length,
      0,
    );
    expect(total).toBeLessThan(88 * 1024);
  });
});
