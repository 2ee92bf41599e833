/**
 * The web console: one HTML page, a stylesheet and a few small vanilla ES modules, all plain strings
 * in this folder, so every host (Worker, Node, Deno) serves them with no build step and no framework
 * download. The page talks to the /v1 API with the token the user signs in with.
 */
import type { Context, Env, Hono } from 'hono';
import { API_JS } from './client/api.ts';
import { APP_JS } from './client/app.ts';
import { CHART_JS } from './client/chart.ts';
import { DATAFLOWS_JS } from './client/dataflows.ts';
import { DESTINATIONS_JS } from './client/destinations.ts';
import { MAPPING_JS } from './client/mapping.ts';
import { REVIEW_JS } from './client/review.ts';
import { RUNS_JS } from './client/runs.ts';
import { SCHEDULE_JS } from './client/schedule.ts';
import { SOURCES_JS } from './client/sources.ts';
import { TOKENS_JS } from './client/tokens.ts';
import { UI_JS } from './client/ui.ts';
import { CONSOLE_CSS } from './styles.ts';
import { PAGE_HTML } from './page.ts';

interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

/** FNV-1a of the text: a cheap, synchronous validator computed once per asset. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `"${(hash >>> 0).toString(16)}-${text.length.toString(16)}"`;
}

const asset = (body: string, type: string): Asset => ({ body, type, etag: fnv1a(body) });
const JS = 'text/javascript; charset=utf-8';

/** Everything under /console/ by file name. */
export const CONSOLE_ASSETS: Readonly<Record<string, Asset>> = {
  'console.css': asset(CONSOLE_CSS, 'text/css; charset=utf-8'),
  'api.js': asset(API_JS, JS),
  'ui.js': asset(UI_JS, JS),
  'app.js': asset(APP_JS, JS),
  'destinations.js': asset(DESTINATIONS_JS, JS),
  'sources.js': asset(SOURCES_JS, JS),
  'dataflows.js': asset(DATAFLOWS_JS, JS),
  'mapping.js': asset(MAPPING_JS, JS),
  'review.js': asset(REVIEW_JS, JS),
  'runs.js': asset(RUNS_JS, JS),
  'schedule.js': asset(SCHEDULE_JS, JS),
  'chart.js': asset(CHART_JS, JS),
  'tokens.js': asset(TOKENS_JS, JS),
};
const PAGE = asset(PAGE_HTML, 'text/html; charset=utf-8');

/** Scripts and styles from this origin only; the page never runs inline code nor loads third parties. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function serve(c: Context, item: Asset): Response {
  const headers: Record<string, string> = {
    'Content-Type': item.type,
    ETag: item.etag,
    // Revalidate each time (304 when unchanged): a deploy is visible at once, bytes move only when changed.
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
  if (item === PAGE) {
    headers['Content-Security-Policy'] = CSP;
    headers['X-Frame-Options'] = 'DENY';
  }
  const match = c.req.header('If-None-Match');
  if (match?.split(',').some((tag) => tag.trim() === item.etag)) return c.body(null, 304, headers);
  return c.body(item.body, 200, headers);
}

/** Adds the console to a root app (`/` and `/console/*`), leaving every other path to the API. */
export function mountConsole<E extends Env>(app: Hono<E>): Hono<E> {
  app.get('/', (c) => serve(c, PAGE));
  app.get('/console/:file', (c) => {
    // An own-property lookup: `__proto__`, `constructor`, `toString` … are names, not assets (404, not 500).
    const file = c.req.param('file') ?? '';
    const item = Object.hasOwn(CONSOLE_ASSETS, file) ? CONSOLE_ASSETS[file] : undefined;
    return item ? serve(c, item) : c.text('Not found', 404);
  });
  return app;
}
