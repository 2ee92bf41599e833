/**
 * The web console in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
 * served by the real Worker in workerd, exporting to a real moto S3 with signatures and IAM enforced:
 * sign in, create an audience and a destination (after an inline validation error), test the
 * connection, read the policies, create a dataflow through its review step (summary and audience size
 * preview) and activate it, export now, and see the run succeed with its files; then the same review
 * and activation on a 375 px wide screen; then manage API tokens (create, rotate, revoke) at desktop
 * width and at 375 px. Screenshots of every step go to test-results/console/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortIncompleteUploadsRule, permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { createBucket, createUser, type Moto, s3Reader, startMoto } from '../harness/moto.ts';
import { startWorker, type WorkerServer } from './worker-server.ts';

const CHROMIUM = '/usr/bin/chromium';
/** The flags this closed network needs (no background connections, no first-run, no GPU). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = 'test-results/console';
const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
const BUCKET = 'console-exports';
const FOLDER = 'exports/%SEGMENT_NAME%';

let moto: Moto;
let worker: WorkerServer;
let context: BrowserContext;
let page: Page;
let profileDir: string;
let token: string;
let writer: { accessKeyId: string; secretAccessKey: string };
let reference: { accessKeyId: string; secretAccessKey: string };
const pageErrors: string[] = [];

/** Opens a new dataflow's form from the Dataflows page, named, exporting the gold audience. */
async function newGoldDataflow(name: string): Promise<void> {
  await page.getByRole('link', { name: 'Dataflows' }).click();
  await page.getByRole('link', { name: 'New dataflow' }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Gold members (rule)').check();
}

/** The page itself never scrolls sideways. */
async function expectNoPageOverflow(): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  expect(scroll).toBeLessThanOrEqual(width);
}

/** The table holding `selector` is wider than its scroller, which scrolls (the page does not). */
async function expectScrollsInOwnBox(selector: string): Promise<void> {
  const box = await page.locator(selector).first().evaluate((el) => {
    const wrap = el.closest('.table-wrap') as HTMLElement | null;
    return wrap && { scroll: wrap.scrollWidth, width: wrap.clientWidth, overflow: getComputedStyle(wrap).overflowX };
  });
  expect(box).not.toBeNull();
  expect(box!.overflow).toBe('auto');
  expect(box!.scroll).toBeGreaterThan(box!.width);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** An API call from the test side (setup only: what the console itself does goes through the UI). */
async function api(path: string, init: RequestInit & { auth?: string } = {}): Promise<unknown> {
  const res = await fetch(`${worker.url}/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${init.auth ?? token}`, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), see test/browser/INSTALL.md`,
    );
  }
  await mkdir(SHOTS, { recursive: true });
  moto = await startMoto();
  await createBucket(moto, BUCKET);
  // The writer holds exactly the least-privilege policy the console will show for this destination.
  writer = await createUser(moto, 'console-writer', permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }));
  // The reference product's documented policy: it exports, without GetBucketLocation (granted on objects,
  // where it grants nothing), ListBucketMultipartUploads or AbortMultipartUpload.
  reference = await createUser(moto, 'console-reference', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:GetBucketLocation', 's3:ListMultipartUploadParts'],
        Resource: `arn:aws:s3:::${BUCKET}/reference/*`,
      },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` },
    ],
  });
  await moto.enableAuth();
  const secretsKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
  worker = await startWorker({ ADMIN_TOKEN, SECRETS_KEY: secretsKey });
  const org = (await api('/admin/organizations', {
    method: 'POST',
    auth: ADMIN_TOKEN,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Console test' }),
  })) as { token: string };
  token = org.token;
  const profiles = [
    { id: 'p1', identities: { email: ['ada@example.com'] }, attributes: { tier: 'gold', country: 'FR' } },
    { id: 'p2', identities: { email: ['bob@example.com'] }, attributes: { tier: 'silver', country: 'DE' } },
    { id: 'p3', identities: { email: ['cy@example.com'] }, attributes: { tier: 'gold', country: 'DE' } },
    // Gold, but without the country the dataflow makes mandatory: a member the export skips.
    { id: 'p4', identities: { email: ['di@example.com'] }, attributes: { tier: 'gold' } },
  ];
  await api('/profiles', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body: profiles.map((p) => JSON.stringify(p)).join('\n'),
  });
  profileDir = await mkdtemp(join(tmpdir(), 'edge-export-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 900 },
  });
  context.setDefaultTimeout(15_000);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await context?.close();
  await worker?.stop();
  await moto?.stop();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

describe('web console (headless Chromium)', () => {
  it('signs in with a token, refusing a wrong one inline', async () => {
    await page.goto(worker.url);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in to edge-export');
    await shot('01-sign-in');
    await page.getByLabel('API token').fill('eex_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error').filter({ hasText: 'not accepted' }).waitFor();
    expect(await page.getByLabel('API token').getAttribute('aria-invalid')).toBe('true');
    await shot('02-sign-in-refused');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Destinations', level: 1 }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('edge-export.token'))).toBe(token);
  });

  it('creates a rule audience', async () => {
    await page.getByRole('link', { name: 'Audiences' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Gold members');
    await page.getByLabel('Rule', { exact: true }).fill('attributes.tier = "gold"');
    await page.getByRole('button', { name: 'Create audience' }).click();
    await page.getByRole('cell', { name: 'Gold members' }).waitFor();
    await shot('03-audiences');
  });

  it('shows the API field errors next to the fields, then creates a destination on moto', async () => {
    await page.getByRole('link', { name: 'Destinations' }).click();
    await page.getByRole('link', { name: 'New destination' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Moto bucket');
    await page.getByLabel('Bucket', { exact: true }).fill('Bad_Bucket');
    await page.getByLabel('Folder path (optional)').fill(FOLDER);
    await page.getByLabel('S3-compatible endpoint (optional)').fill(moto.endpoint);
    await page.getByLabel('Access key ID').fill(writer.accessKeyId);
    await page.getByRole('button', { name: 'Create destination' }).click();
    const bucketError = page.locator('#d-bucket-error');
    await bucketError.filter({ hasText: /only lowercase letters, digits, dots and hyphens/ }).waitFor();
    expect(await page.locator('#d-bucket').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#d-secret-error').textContent()).toMatch(/non-empty secret access key/);
    expect(await page.locator('.summary[role=alert] li').count()).toBeGreaterThanOrEqual(2);
    await shot('04-destination-errors');

    await page.getByLabel('Bucket', { exact: true }).fill(BUCKET);
    await page.getByLabel('Secret access key').fill(writer.secretAccessKey);
    await page.getByRole('button', { name: 'Create destination' }).click();
    await page.getByRole('heading', { name: 'Destination: Moto bucket' }).waitFor();
    expect(await page.locator('.summary').count()).toBe(0);
    await page.getByRole('heading', { name: 'Permission policy' }).waitFor();
    await shot('05-destination-saved');
  });

  it('tests the connection: every permission ok', async () => {
    await page.getByRole('button', { name: 'Test connection' }).click();
    const summary = page.locator('#test-result > p').first();
    await summary.filter({ hasText: /permissions/ }).waitFor({ timeout: 30_000 });
    expect(await summary.textContent()).toMatch(/^All \d+ permissions are OK$/);
    const rows = page.locator('#test-result tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('#test-result .badge.missing').count()).toBe(0);
    expect(await page.locator('#test-result tbody').textContent()).toContain('s3:PutObject');
    await shot('06-test-connection');
  });

  it('shows the permission policy and copies it', async () => {
    const policy = page.locator('pre[aria-labelledby="policy-permissionPolicy"]');
    const text = (await policy.textContent()) ?? '';
    expect(JSON.parse(text)).toEqual(permissionPolicy({ bucket: BUCKET, folderPath: FOLDER }));
    await page.getByRole('button', { name: 'Copy permission policy' }).click();
    await page.locator('#status').filter({ hasText: 'Copied permission policy' }).waitFor();
    // Beside it, the lifecycle rule the bucket owner can add as a backstop, and how.
    const rule = page.locator('pre[aria-labelledby="policy-lifecycleConfiguration"]');
    expect(JSON.parse((await rule.textContent()) ?? '')).toEqual(abortIncompleteUploadsRule(FOLDER));
    expect(await rule.locator('xpath=following-sibling::p[1]').textContent()).toContain(
      `aws s3api put-bucket-lifecycle-configuration --bucket ${BUCKET}`,
    );
  });

  it('reviews a dataflow (audience, mapping, schedule, naming, mode, audience size) and activates it', async () => {
    await newGoldDataflow('Gold to S3');
    await page.getByLabel('Header of column 1').fill('email');
    await page.getByRole('button', { name: 'Add field' }).click();
    // Focus lands on the new row's source: the editor is keyboard-driven.
    await page.keyboard.type('attributes.country');
    await page.getByRole('button', { name: 'Move column 3 up' }).click();
    expect(await page.locator('#map-src-1').inputValue()).toBe('attributes.country');
    await page.getByLabel('Column 2 is mandatory').check();
    await page.getByLabel('Frequency').selectOption('daily');
    await page.getByLabel('Time of day (UTC)').fill('06:30');
    await page.getByLabel('Custom text (optional)').fill('gold');
    await page.getByLabel('Full files every time').check();
    await shot('07-dataflow-form');
    await page.getByRole('button', { name: 'Review' }).click();

    // The review: what was chosen, and the audience's size now (p1, p3, p4 are gold; p4 has no country).
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    expect(await page.locator('form[aria-label="Dataflow settings"]').isHidden()).toBe(true);
    const props = await page.locator('#review-summary').evaluate((dl) =>
      Object.fromEntries(
        [...dl.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]),
      ),
    );
    expect(props.Destination).toBe(`Moto bucket: s3://${BUCKET}/${FOLDER}`);
    expect(props.Exports).toBe('Gold members');
    expect(props.Schedule).toMatch(/^daily at 06:30 UTC from \d{4}-\d{2}-\d{2}$/);
    expect(props['Export mode']).toBe('Full files every time');
    expect(await page.locator('#review-mapping li').allInnerTexts()).toEqual([
      'email ← identities.email',
      'country ← attributes.country (mandatory)',
      'segmentMembership_status ← segmentMembership.status',
    ]);
    const audienceId = ((await api('/audiences')) as { items: { id: string; name: string }[] }).items.find(
      (a) => a.name === 'Gold members',
    )!.id;
    expect(props['File names']).toBe(`Moto_bucket_${audienceId}_YYYYMMDD_HHMMSS_gold.csv`);
    expect(props.Enabled).toMatch(/^Yes/);
    const sizes = await page.locator('#review-sizes tbody tr td').allInnerTexts();
    expect(sizes).toEqual(['Gold members', '3', '1', '2']);
    expect(await page.locator('#review-skips li').allInnerTexts()).toEqual([
      'Gold members: 1 without attributes.country (mandatory or deduplication key)',
    ]);
    await expectNoPageOverflow();
    await shot('08-dataflow-review');

    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Gold to S3' }).waitFor();
    expect(await page.locator('.notice').textContent()).toContain('whsec_');
    expect(await page.locator('#status').textContent()).toBe('Dataflow Gold to S3 activated');
    await shot('08b-dataflow-activated');
  });

  it('shows a bad mapping on the form instead of a review', async () => {
    await newGoldDataflow('Broken mapping');
    await page.getByLabel('Source of column 1').fill('attributes..country');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.locator('#map-src-0-error').filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator('#map-src-0').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#review').count()).toBe(0);
    // Nothing was created.
    const flows = (await api('/dataflows')) as { items: { name: string }[] };
    expect(flows.items.map((f) => f.name)).toEqual(['Gold to S3']);
    await page.getByRole('link', { name: 'Dataflows' }).click();
    await page.getByRole('heading', { name: 'Dataflows', level: 1 }).waitFor();
  });

  it('exports now and shows the succeeded run with its files and manifest', async () => {
    await page.getByRole('button', { name: 'Export now: Gold to S3' }).click();
    await page.getByRole('heading', { name: /^Run run_/ }).waitFor();
    await page.locator('#run-props .badge.succeeded').waitFor({ timeout: 60_000 });
    expect(await page.locator('#status').textContent()).toMatch(/Run succeeded: 2 rows in 1 file/);
    // What the review's preview said: 3 members, 1 skipped for want of a country, 2 exported.
    const runId = ((await page.locator('h1').textContent()) ?? '').replace(/^Run /, '');
    const run = (await api(`/runs/${runId}`)) as { rows: number; skipped: Record<string, number> };
    expect(run).toMatchObject({ rows: 2, skipped: { 'missing:attributes.country': 1 } });
    const names = await page.locator('#run-files tbody tr td:first-child').allTextContents();
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/gold.*\.csv$/);
    const manifestKey = (await page.locator('#manifest-key').textContent()) ?? '';
    expect(manifestKey).toMatch(/manifest-.*\.json$/);
    await shot('09-run-succeeded');

    // An independent reader sees exactly what the console lists.
    const s3 = s3Reader(moto);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    s3.destroy();
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    expect(keys.some((k) => k.endsWith(`/${names[0]}`))).toBe(true);
    expect(keys).toContain(manifestKey);
  });

  it('lists the run in the history with a chart of rows over time', async () => {
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    expect(await page.locator('svg.chart rect.bar-ok').count()).toBe(1);
    expect(await page.locator('svg.chart desc').textContent()).toContain('2 rows in all');
    const row = page.locator('table tbody tr').first();
    expect(await row.locator('.badge').textContent()).toBe('succeeded');
    expect(await row.locator('td').nth(4).textContent()).toBe('2');
    await shot('10-runs');
  });

  it("tests a destination under the reference page's policy: OK, with the shortfalls as warnings", async () => {
    const created = (await api('/destinations', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'Reference policy',
        bucket: BUCKET,
        folderPath: 'reference/',
        endpoint: moto.endpoint,
        auth: { method: 'accessKey', accessKeyId: reference.accessKeyId, secretAccessKey: reference.secretAccessKey },
      }),
    })) as { id: string };
    await page.goto(`${worker.url}/#/destinations/${created.id}`);
    await page.getByRole('heading', { name: 'Destination: Reference policy' }).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const summary = page.locator('#test-result > p').first();
    await summary.filter({ hasText: /permissions/ }).waitFor({ timeout: 30_000 });
    expect(await summary.textContent()).toBe(
      'Connection OK: 5 of 8 permissions OK, 3 warnings: s3:GetBucketLocation missing, s3:ListBucketMultipartUploads missing, s3:AbortMultipartUpload missing',
    );
    expect(await page.locator('#test-result .badge.warning').allTextContents()).toEqual([
      '⚠ Missing (warning)',
      '⚠ Missing (warning)',
      '⚠ Missing (warning)',
    ]);
    expect(await page.locator('#test-result .badge.ok').count()).toBe(5);
    const warnings = await page.getByRole('list', { name: 'Warnings' }).locator('li').allTextContents();
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toMatch(/^Without s3:AbortMultipartUpload a failed multipart upload stays open .* until a lifecycle rule removes it/);
    expect(await page.locator('#status').textContent()).toMatch(/^Connection OK/);
    await shot('11-test-connection-warnings');
    // The probe left nothing in the bucket under that folder (listed as admin).
    const s3 = s3Reader(moto);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reference/' }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    s3.destroy();
    expect(listed.Contents ?? []).toEqual([]);
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('reviews and activates a dataflow on a 375 px wide screen: forms stack, tables scroll in their own box', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      await page.goto(`${worker.url}/#/dataflows/new`);
      await page.getByRole('heading', { name: 'New dataflow' }).waitFor();
      await page.getByLabel('Name', { exact: true }).fill('Phone flow');
      await page.getByLabel('Gold members (rule)').check();
      await page.getByLabel('Frequency').selectOption('weekly');
      await expectNoPageOverflow();
      // The mapping editor keeps its columns and scrolls sideways inside its own region.
      await expectScrollsInOwnBox('#map-rows');
      await shot('12-dataflow-form-375');

      await page.getByRole('button', { name: 'Review' }).click();
      await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
      expect(await page.locator('#review-sizes tbody tr td').allInnerTexts()).toEqual(['Gold members', '3', '0', '3']);
      await expectNoPageOverflow();
      await expectScrollsInOwnBox('#review-sizes');
      // Terms above their values, one column.
      const [term, value] = await page.locator('#review-summary').evaluate((dl) =>
        [dl.querySelector('dt')!, dl.querySelector('dd')!].map((el) => el.getBoundingClientRect().left),
      );
      expect(value).toBe(term);
      await shot('13-dataflow-review-375');

      // Back to edit keeps what was typed; the second review activates.
      await page.getByRole('button', { name: 'Back to edit' }).click();
      expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Phone flow');
      await page.getByRole('button', { name: 'Review' }).click();
      await page.getByRole('button', { name: 'Activate' }).click();
      await page.getByRole('heading', { name: 'Dataflow: Phone flow' }).waitFor();
      await expectNoPageOverflow();
      await shot('14-dataflow-activated-375');

      await page.getByRole('link', { name: 'Runs', exact: true }).click();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await expectNoPageOverflow();
      await expectScrollsInOwnBox('table tbody');
      await shot('15-runs-375');
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }
  });

  it('manages API tokens: create (secret shown once), rotate, revoke, at desktop width and at 375 px', async () => {
    const status = async (secret: string, path: string) =>
      (await fetch(`${worker.url}/v1${path}`, { headers: { Authorization: `Bearer ${secret}` } })).status;
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
    const rows = page.locator('table.stack tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td').first().textContent()).toBe('default this token');

    // Nothing filled in: both fields say what is wrong, next to them.
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('#tok-name-error').filter({ hasText: /must not be empty/ }).waitFor();
    expect(await page.locator('#tok-scopes-error').textContent()).toMatch(/at least one/);
    expect(await page.locator('#tok-scopes').getAttribute('aria-invalid')).toBe('true');
    await shot('16-tokens-errors');

    await page.getByLabel('Name', { exact: true }).fill('ci ingest');
    await page.getByLabel('ingest', { exact: true }).check();
    await page.getByLabel('runs:read', { exact: true }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = page.locator('#new-secret');
    await secret.waitFor();
    const ci = (await secret.textContent()) ?? '';
    expect(ci).toMatch(/^eex_[A-Za-z0-9_-]{43}$/);
    expect(await page.locator('.notice.secret').textContent()).toContain('is not shown again');
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.locator('#status').filter({ hasText: 'Copied secret' }).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).locator('ul.scopes li').allTextContents()).toEqual(['ingest', 'runs:read']);
    expect(await status(ci, '/runs')).toBe(200);
    expect(await status(ci, '/destinations')).toBe(403);
    await shot('17-tokens-created');

    // At 375 px: rows become cards, nothing is wider than the screen (the secret wraps).
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = () =>
      page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        // What is painted: the header row of a stacked table is there for screen readers only (clipped).
        widest: Math.max(
          ...[...document.querySelectorAll('main *')]
            .filter((el) => !el.closest('table.stack thead'))
            .map((el) => el.getBoundingClientRect().right),
        ),
      }));
    expect((await overflow()).page).toBeLessThanOrEqual(375);
    expect((await overflow()).widest).toBeLessThanOrEqual(375);
    expect(await page.locator('table.stack td').first().evaluate((el) => getComputedStyle(el).display)).toBe('grid');
    await shot('18-tokens-375px');

    // Rotate: the old secret is refused at once, the new one shown once.
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Rotate ci ingest' }).click();
    await page.locator('.notice.secret').filter({ hasText: 'was rotated' }).waitFor();
    const rotated = (await secret.textContent()) ?? '';
    expect(rotated).toMatch(/^eex_/);
    expect(rotated).not.toBe(ci);
    expect(await status(ci, '/runs')).toBe(401);
    expect(await status(rotated, '/runs')).toBe(200);
    expect((await overflow()).widest).toBeLessThanOrEqual(375);
    await shot('19-tokens-rotated-375px');

    // Rotating the console's own token: the console carries on with the new secret.
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Rotate default' }).click();
    await page.locator('.notice.secret').filter({ hasText: '"default"' }).waitFor();
    const own = (await secret.textContent()) ?? '';
    expect(await page.evaluate(() => sessionStorage.getItem('edge-export.token'))).toBe(own);
    expect(await status(token, '/runs')).toBe(401);
    token = own;

    // Revoke: gone from the list, refused at once; a dismissed confirmation changes nothing.
    page.once('dialog', (dialog) => dialog.dismiss());
    await page.getByRole('button', { name: 'Revoke ci ingest' }).click();
    expect(await status(rotated, '/runs')).toBe(200);
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Revoke ci ingest' }).click();
    await page.locator('#status').filter({ hasText: 'Token ci ingest revoked' }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await status(rotated, '/runs')).toBe(401);
    expect(await page.locator('main').textContent()).not.toContain('eex_');
    await page.setViewportSize({ width: 1200, height: 900 });
    await shot('20-tokens-revoked');
  });

  it('signs in with a narrow token and says which scope a page needs', async () => {
    const narrow = (await api('/tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'runs only', scopes: ['runs:read'] }),
    })) as { token: string };
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').fill(narrow.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back on the page it was on (Tokens), which needs tokens:manage; then Destinations.
    const refusal = page.locator('main .error-text');
    await page.getByRole('heading', { name: 'Not allowed with this token', level: 1 }).waitFor();
    expect(await refusal.textContent()).toBe('This token lacks the scope "tokens:manage" that GET /v1/tokens needs');
    await page.getByRole('link', { name: 'Destinations' }).click();
    await refusal.filter({ hasText: 'destinations:read' }).waitFor();
    expect(await refusal.textContent()).toBe('This token lacks the scope "destinations:read" that GET /v1/destinations needs');
    await shot('21-not-allowed');
    // The run history needs runs:read only (dataflows are then shown by id).
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    expect(await page.locator('table tbody tr').first().locator('td').nth(1).textContent()).toMatch(/^dfl_/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
  });

  it('sets a file-name template and partitioning on a dataflow; a mistyped token is shown at its field', async () => {
    await newGoldDataflow('Partitioned');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.keyboard.type('attributes.country');
    await page.getByLabel('Header of column 3').fill('country');
    await page.getByLabel('Template (optional)').fill('{audiance.id}_{run.id}');
    await page.getByLabel('Partition by columns (optional)').fill('country');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    expect(await page.locator('#review-partition').textContent()).toBe('country=<value>/');
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.locator('#df-n-template-error').filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator('#df-n-template-error').textContent()).toContain('unknown token {audiance.id} (did you mean "{audience.id}"?)');
    expect(await page.locator('#df-n-template').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Template (optional)').fill('{audience.id}_{run.id}');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Partitioned' }).waitFor();
    const flows = (await api('/dataflows')) as { items: { id: string; name: string; naming: object; partitionBy: object }[] };
    const flow = flows.items.find((f) => f.name === 'Partitioned')!;
    expect(flow.naming).toMatchObject({ template: '{audience.id}_{run.id}' });
    expect(flow.partitionBy).toEqual({ columns: ['country'], maxPartitions: 1000 });

    await page.getByRole('button', { name: 'Export now: Partitioned' }).click();
    await page.locator('#run-props .badge.succeeded').waitFor({ timeout: 60_000 });
    const runId = ((await page.locator('h1').textContent()) ?? '').replace(/^Run /, '');
    const listedInConsole = await page.locator('#run-files tbody tr').evaluateAll((rows) =>
      rows.map((row) => `${row.children[1]?.textContent}/${row.children[0]?.textContent}`),
    );
    const audienceId = ((await api('/audiences')) as { items: { id: string; name: string }[] }).items.find((a) => a.name === 'Gold members')!.id;
    // p1 (FR), p3 (DE) and p4 (no country: the default partition), each in its own folder.
    const s3 = s3Reader(moto);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    s3.destroy();
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.includes(runId) && !k.includes('manifest-'));
    expect(keys.map((k) => k.split('/').slice(-2).join('/')).sort()).toEqual(
      ['country=DE', 'country=FR', 'country=__HIVE_DEFAULT_PARTITION__'].map((folder) => `${folder}/${audienceId}_${runId}.csv`),
    );
    expect(listedInConsole.sort()).toEqual(keys.sort());
  });

  it('is labelled and keyboard-operable', async () => {
    await page.goto(`${worker.url}/#/destinations/new`);
    await page.getByRole('heading', { name: 'New destination' }).waitFor();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => {
          const control = el as HTMLInputElement;
          return control.labels?.length === 0 && !control.getAttribute('aria-label');
        })
        .map((el) => el.id || el.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // After navigation focus is on the page heading; Tab reaches the first field, with a visible ring.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
      id: document.activeElement?.id,
      outline: getComputedStyle(document.activeElement as Element).outlineStyle,
    }));
    expect(focused).toEqual({ id: 'd-name', outline: 'solid' });
    expect(await page.getByRole('link', { name: 'Skip to content' }).getAttribute('href')).toBe('#main');
    expect(pageErrors).toEqual([]);
  });
});
