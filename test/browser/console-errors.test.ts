/**
 * How the web console shows the API's errors and warnings, in real headless Chromium against the real
 * Worker in workerd: each field's label once ("Name: must not be empty", never "Name: name: …"), the
 * audience-list error at the list (labelled "Audiences", not the first checkbox), and a rule's
 * misspelt attribute as a warning that stays on screen after saving.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type WorkerServer } from './worker-server.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ADMIN_TOKEN = 'browser-errors-admin-token-0123456789';

let worker: WorkerServer;
let context: BrowserContext;
let page: Page;
let profileDir: string;
let token: string;

async function api(path: string, init: RequestInit & { auth?: string } = {}): Promise<unknown> {
  const res = await fetch(`${worker.url}/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${init.auth ?? token}`, 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: see test/browser/INSTALL.md`);
  await mkdir('test-results/console', { recursive: true });
  const secretsKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
  worker = await startWorker({ ADMIN_TOKEN, SECRETS_KEY: secretsKey });
  token = ((await api('/admin/organizations', { method: 'POST', auth: ADMIN_TOKEN, body: JSON.stringify({ name: 'Errors' }) })) as { token: string }).token;
  await api('/profiles', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body: '{"id":"p1","identities":{"email":["a@example.com"]},"attributes":{"country":"FR"}}',
  });
  await api('/destinations', {
    method: 'POST',
    body: JSON.stringify({
      name: 'Local',
      bucket: 'console-errors',
      endpoint: 'http://127.0.0.1:9',
      auth: { method: 'accessKey', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    }),
  });
  await api('/audiences', { method: 'POST', body: JSON.stringify({ kind: 'rule', name: 'First audience', rule: 'country = "FR"' }) });
  await api('/audiences', { method: 'POST', body: JSON.stringify({ kind: 'rule', name: 'Second audience', rule: 'country = "DE"' }) });
  profileDir = await mkdtemp(join(tmpdir(), 'edge-export-chromium-errors-'));
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1200, height: 900 } });
  context.setDefaultTimeout(15_000);
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(worker.url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Audiences' }).waitFor();
}, 180_000);

afterAll(async () => {
  await context?.close();
  await worker?.stop();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

describe('console error display (headless Chromium)', () => {
  it('says each field once: "Name: must not be empty"', async () => {
    await page.getByRole('link', { name: 'Audiences' }).click();
    await page.getByRole('button', { name: 'Create audience' }).click();
    const items = page.locator('.summary[role=alert] li');
    await items.first().waitFor();
    const texts = await items.allTextContents();
    expect(texts).toContain('Name: must not be empty');
    expect(texts).toContain('Rule: must not be empty');
    expect(await page.locator('#aud-name-error').textContent()).toBe('must not be empty');
    await page.screenshot({ path: 'test-results/console/errors-audience-form.png', fullPage: true });
  });

  it('keeps a warning about a misspelt attribute on screen after saving', async () => {
    await page.getByLabel('Name', { exact: true }).fill('French');
    await page.getByLabel('Rule', { exact: true }).fill('contry = "FR"');
    await page.getByRole('button', { name: 'Create audience' }).click();
    const status = page.locator('#status');
    await status.filter({ hasText: 'Audience French created' }).waitFor();
    expect(await status.textContent()).toMatch(/Warning: unknown attribute "contry" \(did you mean "country"\?\) in rule/);
  });

  it('puts the audience-list error at the list, labelled Audiences', async () => {
    await page.goto(`${worker.url}/#/dataflows/new`);
    await page.getByRole('heading', { name: 'New dataflow' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('No audience chosen');
    // A new dataflow is reviewed first; nothing to preview without audiences, so the API's refusal
    // comes with "Activate" and the form returns with it.
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Activate' }).click();
    const listError = page.locator('#part-audiences-error');
    await listError.filter({ hasText: /at least one/ }).waitFor();
    expect(await page.locator('#part-audiences').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('input.aud').first().getAttribute('aria-invalid')).toBeNull();
    const texts = await page.locator('.summary[role=alert] li').allTextContents();
    expect(texts).toEqual(['Audiences: at least one']);
    expect(texts.some((t) => t.startsWith('First audience'))).toBe(false);
    await page.screenshot({ path: 'test-results/console/errors-audience-list.png', fullPage: true });
    // The summary's link takes focus to the list.
    await page.locator('.summary[role=alert] li a', { hasText: 'Audiences: ' }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('part-audiences');
  });

  it('keeps a warning about a misspelt mapping source on screen after "Activate"', async () => {
    await page.getByLabel('First audience (rule)').check();
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.keyboard.type('attributes.contry');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: No audience chosen' }).waitFor();
    expect(await page.locator('#status').textContent()).toMatch(
      /^Dataflow No audience chosen activated\. Warning: unknown attribute "contry" \(did you mean "country"\?\) in mapping/,
    );
  });

  it('shows the page last asked for when an earlier page\'s data arrives after it', async () => {
    // The destinations list answers only when released: the user has gone on to Audiences by then.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/v1/destinations?*', async (r) => {
      await released;
      await r.continue();
    });
    await page.goto(`${worker.url}/#/runs`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    const asked = page.waitForRequest('**/v1/destinations?*');
    await page.getByRole('link', { name: 'Destinations' }).click();
    await asked;
    await page.getByRole('link', { name: 'Audiences' }).click();
    const answered = page.waitForResponse('**/v1/destinations?*');
    release();
    await answered;
    await page.getByRole('heading', { name: 'Audiences' }).waitFor();
    await page.waitForLoadState('networkidle');
    // Before renders were queued, the late destinations page replaced the Audiences page here.
    expect(await page.locator('main h1').textContent()).toBe('Audiences');
    expect(await page.getByRole('button', { name: 'Create audience' }).isVisible()).toBe(true);
    await page.unroute('**/v1/destinations?*');
  });
});
