/**
 * The web console in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
 * served by the real Worker in workerd, exporting to a real moto S3 with signatures and IAM enforced:
 * sign in, create an audience and a destination (after an inline validation error), test the
 * connection, read the policies, create a dataflow through its review step (summary and audience size
 * preview) and activate it, export now, and see the run succeed with its files; then the same review
 * and activation on a 375 px wide screen; then manage API tokens (create, rotate, revoke) at desktop
 * width and at 375 px; then create an Avro destination from the file types the server's plugins offer
 * (edge-export-avro) and export through it, read back by avsc; then edit a field's calculated-field
 * functions (export checked against node:crypto) and see a refused one at its field; then register a
 * snapshot source, test it, read it in a rule audience and delete it. Screenshots of
 * every step go to test-results/console/.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import Papa from 'papaparse';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAvro } from '../../packages/edge-export-avro/test/read-back.ts';
import { abortIncompleteUploadsRule, permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { createBucket, createUser, type Moto, s3Reader, startMoto } from '../harness/moto.ts';
import { customerParquet, customerRows } from '../support/snapshot-fixtures.ts';
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
  const box = await page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const wrap = el.closest('.table-wrap') as HTMLElement | null;
      return (
        wrap && {
          scroll: wrap.scrollWidth,
          width: wrap.clientWidth,
          overflow: getComputedStyle(wrap).overflowX,
        }
      );
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

/** Creates a dataflow through the API (the first destination, one audience by name) and opens its page. */
async function openApiDataflow(name: string, audience: string, fields: unknown[]): Promise<{ id: string }> {
  const destinationId = ((await api('/destinations')) as { items: { id: string }[] }).items[0]!.id;
  const audiences = (await api('/audiences')) as { items: { id: string; name: string }[] };
  const audienceIds = [audiences.items.find((a) => a.name === audience)!.id];
  const flow = (await api('/dataflows', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, destinationId, audienceIds, mapping: { fields } }),
  })) as { id: string };
  await page.getByRole('link', { name: 'Dataflows' }).click();
  await page.getByRole('link', { name }).click();
  await page.getByRole('heading', { name: `Dataflow: ${name}` }).waitFor();
  return flow;
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
        Action: [
          's3:PutObject',
          's3:GetObject',
          's3:DeleteObject',
          's3:GetBucketLocation',
          's3:ListMultipartUploadParts',
        ],
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
    const props = await page
      .locator('#review-summary')
      .evaluate((dl) =>
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

  it("routes a dataflow's alerts from its form: Slack, chosen events, lateness; bad values shown at their fields", async () => {
    const flows = (await api('/dataflows')) as { items: { id: string; name: string }[] };
    const id = flows.items.find((f) => f.name === 'Gold to S3')!.id;
    await page.goto(`${worker.url}/#/dataflows/${id}`);
    await page.getByRole('heading', { name: 'Dataflow: Gold to S3' }).waitFor();
    // Every event is chosen by default (today's behaviour).
    expect(await page.locator('input.alert-event:checked').count()).toBe(5);
    await page.getByLabel('Alert webhook (optional)').fill('https://hooks.example.com/slack-incoming');
    await page.getByLabel('Alert format').selectOption('slack');
    await page.getByLabel('Run started').uncheck();
    await page.getByLabel('Run succeeded').uncheck();
    expect(await page.getByLabel('Recovered (a success after a failure)').isChecked()).toBe(false);
    await page.getByLabel('Recovered (a success after a failure)').check();
    await page.getByLabel('Late after, minutes (optional)').fill('0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#df-late-error').filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator('#df-late-error').textContent()).toBe(
      'expected a whole number of minutes from 1 to 10080 (a week)',
    );
    expect(await page.locator('#df-late').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Late after, minutes (optional)').fill('45');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#status').filter({ hasText: 'Dataflow Gold to S3 saved' }).waitFor();
    const saved = (await api(`/dataflows/${id}`)) as Record<string, unknown>;
    expect(saved).toMatchObject({
      alertWebhook: 'https://hooks.example.com/slack-incoming',
      alertFormat: 'slack',
      alertEvents: ['run.failed', 'run.delayed', 'run.skipped_rate', 'run.recovered'],
      lateAfterMinutes: 45,
      schedule: expect.objectContaining({ frequency: 'daily', time: '06:30' }),
    });
    await shot('10b-dataflow-alerts');
    // The form shows what was saved; choosing no event at all is refused under the group.
    await page.reload();
    await page.getByRole('heading', { name: 'Dataflow: Gold to S3' }).waitFor();
    expect(await page.getByLabel('Alert format').inputValue()).toBe('slack');
    expect(await page.getByLabel('Late after, minutes (optional)').inputValue()).toBe('45');
    expect(await page.getByLabel('Run started').isChecked()).toBe(false);
    for (const label of [
      'Run failed',
      'Run delayed (missed slots, or late)',
      'Skipped rows above the threshold',
      'Recovered (a success after a failure)',
    ])
      await page.getByLabel(label).uncheck();
    await page.getByLabel('Late after, minutes (optional)').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#df-alert-events-error').filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator('#df-alert-events-error').textContent()).toContain('at least one event');
    expect(((await api(`/dataflows/${id}`)) as { alertEvents: string[] }).alertEvents).toEqual([
      'run.failed',
      'run.delayed',
      'run.skipped_rate',
      'run.recovered',
    ]);
  });

  it('creates a diff dataflow with the mode picker; its first run writes the added file', async () => {
    await newGoldDataflow('Gold diff');
    await page.getByLabel('Diff: added, changed and removed members as separate files (audiences)').check();
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    const mode = await page
      .locator('#review-summary dt', { hasText: 'Export mode' })
      .evaluate((dt) => dt.nextElementSibling?.textContent);
    expect(mode).toBe('Diff: added, changed and removed files');
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Gold diff' }).waitFor();
    const flows = (await api('/dataflows')) as { items: { name: string; exportMode: string }[] };
    expect(flows.items.find((f) => f.name === 'Gold diff')?.exportMode).toBe('diff');
    await page.getByRole('link', { name: 'Dataflows' }).click();
    await page.getByRole('button', { name: 'Export now: Gold diff' }).click();
    await page.getByRole('heading', { name: /^Run run_/ }).waitFor();
    await page.locator('#run-props .badge.succeeded').waitFor({ timeout: 60_000 });
    // A first diff run: every member is added, in one `_added` file; no changed or removed file.
    const names = await page.locator('#run-files tbody tr td:first-child').allTextContents();
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/_added\.csv$/);
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
        auth: {
          method: 'accessKey',
          accessKeyId: reference.accessKeyId,
          secretAccessKey: reference.secretAccessKey,
        },
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
    expect(warnings[2]).toMatch(
      /^Without s3:AbortMultipartUpload a failed multipart upload stays open .* until a lifecycle rule removes it/,
    );
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
      expect(await page.locator('#review-sizes tbody tr td').allInnerTexts()).toEqual([
        'Gold members',
        '3',
        '0',
        '3',
      ]);
      await expectNoPageOverflow();
      await expectScrollsInOwnBox('#review-sizes');
      // Terms above their values, one column.
      const [term, value] = await page
        .locator('#review-summary')
        .evaluate((dl) =>
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
    await page
      .locator('#tok-name-error')
      .filter({ hasText: /must not be empty/ })
      .waitFor();
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
    expect(
      await page
        .locator('table.stack td')
        .first()
        .evaluate((el) => getComputedStyle(el).display),
    ).toBe('grid');
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
    expect(await refusal.textContent()).toBe(
      'This token lacks the scope "tokens:manage" that GET /v1/tokens needs',
    );
    await page.getByRole('link', { name: 'Destinations' }).click();
    await refusal.filter({ hasText: 'destinations:read' }).waitFor();
    expect(await refusal.textContent()).toBe(
      'This token lacks the scope "destinations:read" that GET /v1/destinations needs',
    );
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
    await page.getByLabel('Template (optional)', { exact: true }).fill('{audiance.id}_{run.id}');
    await page.getByLabel('Partition by columns (optional)').fill('country');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    expect(await page.locator('#review-partition').textContent()).toBe('country=<value>/');
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.locator('#df-n-template-error').filter({ hasText: /\S/ }).waitFor();
    expect(await page.locator('#df-n-template-error').textContent()).toContain(
      'unknown token {audiance.id} (did you mean "{audience.id}"?)',
    );
    expect(await page.locator('#df-n-template').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Template (optional)', { exact: true }).fill('{audience.id}_{run.id}');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Partitioned' }).waitFor();
    const flows = (await api('/dataflows')) as {
      items: { id: string; name: string; naming: object; partitionBy: object }[];
    };
    const flow = flows.items.find((f) => f.name === 'Partitioned')!;
    expect(flow.naming).toMatchObject({ template: '{audience.id}_{run.id}' });
    expect(flow.partitionBy).toEqual({ columns: ['country'], maxPartitions: 1000 });

    await page.getByRole('button', { name: 'Export now: Partitioned' }).click();
    await page.locator('#run-props .badge.succeeded').waitFor({ timeout: 60_000 });
    const runId = ((await page.locator('h1').textContent()) ?? '').replace(/^Run /, '');
    const listedInConsole = await page
      .locator('#run-files tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) => `${row.children[1]?.textContent}/${row.children[0]?.textContent}`),
      );
    const audienceId = ((await api('/audiences')) as { items: { id: string; name: string }[] }).items.find(
      (a) => a.name === 'Gold members',
    )!.id;
    // p1 (FR), p3 (DE) and p4 (no country: the default partition), each in its own folder.
    const s3 = s3Reader(moto);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    s3.destroy();
    const keys = (listed.Contents ?? [])
      .map((o) => o.Key ?? '')
      .filter((k) => k.includes(runId) && !k.includes('manifest-'));
    expect(keys.map((k) => k.split('/').slice(-2).join('/')).sort()).toEqual(
      ['country=DE', 'country=FR', 'country=__HIVE_DEFAULT_PARTITION__'].map(
        (folder) => `${folder}/${audienceId}_${runId}.csv`,
      ),
    );
    expect(listedInConsole.sort()).toEqual(keys.sort());
  });

  it("keeps a field's calculated-field functions and type when a dataflow is edited, and offers zstd", async () => {
    const fields = [
      { source: 'identities.email', target: 'email_sha256', transforms: ['trim', 'lowercase', 'sha256'] },
      { source: 'attributes.country', type: 'string', transforms: [{ name: 'join', separator: '|' }] },
    ];
    const flow = await openApiDataflow('Hashed emails', 'Gold members', fields);
    await page.getByLabel('Header of column 1').fill('hashed_email');
    // Saving re-draws the page from the saved dataflow: wait for the new form, not the old one.
    await page.locator('#map-tgt-0').evaluate((input) => input.setAttribute('data-before-save', ''));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#status').filter({ hasText: 'Dataflow Hashed emails saved' }).waitFor();
    await page.locator('#map-tgt-0:not([data-before-save])').waitFor();
    expect(await page.getByLabel('Header of column 1').inputValue()).toBe('hashed_email');
    const saved = (await api(`/dataflows/${flow.id}`)) as { mapping: { fields: unknown[] } };
    expect(saved.mapping.fields).toEqual([{ ...fields[0], target: 'hashed_email' }, fields[1]]);
    await page.getByRole('link', { name: 'Destinations' }).click();
    await page.getByRole('link', { name: 'New destination' }).click();
    await page.getByRole('heading', { name: 'New destination' }).waitFor();
    expect(await page.getByLabel('Compression').locator('option').allInnerTexts()).toEqual([
      'None',
      'gzip',
      'zstd',
    ]);
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
    expect(pageErrors).toEqual([]);
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
  it('sets two audiences with their own schedules and file names in one dataflow, and sees each run on its own slot', async () => {
    await api('/audiences', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'rule', name: 'Silver members', rule: 'attributes.tier = "silver"' }),
    });
    const hour = 3_600_000;
    // Slots well after every other dataflow's first ones: the dataflow's (silver follows it) and gold's own, an hour later.
    const t1 = new Date(Math.ceil((Date.now() + 30 * hour) / hour) * hour);
    const t2 = new Date(t1.getTime() + hour);
    const day = (t: Date) => t.toISOString().slice(0, 10);
    const hhmm = (t: Date) => t.toISOString().slice(11, 16);
    await page.goto(`${worker.url}/#/dataflows/new`);
    await page.getByRole('heading', { name: 'New dataflow' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Per audience');
    await page.getByLabel('Destination', { exact: true }).selectOption({ label: `Moto bucket (${BUCKET})` });
    await page.getByLabel('Gold members (rule)').check();
    await page.getByLabel('Silver members (rule)').check();
    await page.getByLabel('Frequency').selectOption('daily');
    await page.getByLabel('Time of day (UTC)').fill(hhmm(t1));
    await page.getByLabel('Start date', { exact: true }).fill(day(t1));
    // Gold: its own daily slot an hour later, and its own file names.
    await page.getByRole('button', { name: 'Own schedule and file names for Gold members' }).click();
    await page.getByLabel('Gold members: schedule').selectOption('daily');
    await page.getByLabel('Gold members: time (UTC)').fill(hhmm(t2));
    await page.getByLabel('Gold members: start date').fill(day(t2));
    await page.getByLabel('Gold members: file names').selectOption('own');
    await page.getByLabel('Gold members: date and time').selectOption('unix');
    await page.getByLabel('Gold members: custom text').fill('goldfeed');
    // Silver: the dataflow's schedule, its own file names.
    await page.getByRole('button', { name: 'Own schedule and file names for Silver members' }).click();
    await page.getByLabel('Silver members: file names').selectOption('own');
    await page.getByLabel('Silver members: date and time').selectOption('none');
    await page.getByLabel('Silver members: custom text').fill('silverfeed');
    await shot('22-per-audience-form');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    const audiences = (await api('/audiences')) as { items: { id: string; name: string }[] };
    const idOf = (name: string) => audiences.items.find((a) => a.name === name)!.id;
    const [gold, silver] = [idOf('Gold members'), idOf('Silver members')];
    // In the order of the audience list (newest first).
    expect(await page.locator('#review-audiences li').allInnerTexts()).toEqual([
      `Silver members: files Moto_bucket_${silver}_silverfeed.csv`,
      `Gold members: daily at ${hhmm(t2)} UTC from ${day(t2)}; files Moto_bucket_${gold}_<unix_seconds>_goldfeed.csv`,
    ]);
    await shot('23-per-audience-review');
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Per audience' }).waitFor();
    const flowId = ((await api('/dataflows')) as { items: { id: string; name: string }[] }).items.find(
      (f) => f.name === 'Per audience',
    )!.id;

    // The runs page of this dataflow, after cron ticks at chosen times (the Worker's scheduled handler).
    const runsPage = async (rows: number) => {
      await page.goto(`${worker.url}/#/dataflows/${flowId}`);
      await page.getByRole('link', { name: 'Runs of this dataflow' }).click();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await expect
        .poll(() => page.locator('table tbody tr .badge').allTextContents(), { timeout: 30_000 })
        .toEqual(Array(rows).fill('succeeded'));
      return page
        .locator('table tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].slice(2).map((td) => td.textContent)),
        );
    };
    const utc = (t: Date) =>
      t
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
    await worker.tick(new Date(t1.getTime() - 60_000));
    await worker.tick(new Date(t1.getTime() + 60_000));
    // t1: silver alone, on the dataflow's slot (gold's slot is still ahead).
    const first = await runsPage(1);
    expect(first.map((r) => [r[0], r[2], r[6], r[7]])).toEqual([
      ['schedule', '1', utc(t1), 'Silver members'],
    ]);
    await worker.tick(new Date(t2.getTime() + 60_000));
    // t2: gold alone, on its own slot; the history lists both, newest first.
    const both = await runsPage(2);
    expect(both.map((r) => [r[0], r[2], r[6], r[7]])).toEqual([
      ['schedule', '3', utc(t2), 'Gold members'],
      ['schedule', '1', utc(t1), 'Silver members'],
    ]);
    await shot('24-per-audience-runs');
    // Each run's file is named by its audience's own options, as the bucket holds it.
    const runs = (await api(`/runs?dataflowId=${flowId}`)) as {
      items: { id: string; audienceIds: string[]; files: { key: string }[] }[];
    };
    const names = runs.items.map((r) => [r.audienceIds, r.files.map((f) => f.key.split('/').at(-1))]);
    expect(names).toEqual([
      [
        [gold],
        [
          `Moto_bucket_${gold}_${t2.getTime() / 1000}_goldfeed.csv`,
          expect.stringMatching(new RegExp(`^manifest-dst_[0-9a-f]+-${runs.items[0]!.id}[.]json$`)),
        ],
      ],
      [
        [silver],
        [
          `Moto_bucket_${silver}_silverfeed.csv`,
          expect.stringMatching(new RegExp(`^manifest-dst_[0-9a-f]+-${runs.items[1]!.id}[.]json$`)),
        ],
      ],
    ]);
    const s3 = s3Reader(moto);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    s3.destroy();
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    for (const run of runs.items) for (const file of run.files) expect(keys).toContain(file.key);

    // The saved settings, open on the dataflow's page, fit a 375 px screen.
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      await page.goto(`${worker.url}/#/dataflows/${flowId}`);
      await page.getByRole('heading', { name: 'Dataflow: Per audience' }).waitFor();
      await page.getByLabel('Gold members: time (UTC)').waitFor();
      expect(await page.getByLabel('Gold members: time (UTC)').inputValue()).toBe(hhmm(t2));
      expect(await page.getByLabel('Silver members: schedule').inputValue()).toBe('inherit');
      expect(await page.getByLabel('Silver members: custom text').inputValue()).toBe('silverfeed');
      await expectNoPageOverflow();
      await shot('25-per-audience-form-375');
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }
    expect(pageErrors).toEqual([]);
  });

  it("offers Avro from the server's registered plugins, checks its options, and exports files avsc reads", async () => {
    await page.goto(`${worker.url}/#/destinations/new`);
    await page.getByRole('heading', { name: 'New destination' }).waitFor();
    // The file types are the server's format plugins (edge-export-avro's among them), not a list of the console's.
    const registered = (
      (await api('/plugins?kind=format')) as { items: { destination: { value: string } }[] }
    ).items;
    const offered = await page
      .locator('#d-type option')
      .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual(registered.map((p) => p.destination.value));
    expect(offered).toContain('avro');
    await page.getByLabel('File type').selectOption('avro');
    expect(await page.locator('#d-options-hint').textContent()).toMatch(
      /Avro object container files.*codec \(null \| deflate \| snappy \| zstandard\)/,
    );
    await page.getByLabel('Name', { exact: true }).fill('Avro bucket');
    await page.getByLabel('Bucket', { exact: true }).fill(BUCKET);
    await page.getByLabel('Folder path (optional)').fill('exports/avro');
    await page.getByLabel('S3-compatible endpoint (optional)').fill(moto.endpoint);
    await page.getByLabel('Access key ID').fill(writer.accessKeyId);
    await page.getByLabel('Secret access key').fill(writer.secretAccessKey);
    // The plugin's own schema checks formatOptions; the error sits under the field.
    await page.getByLabel('Format options (JSON)').fill('{"codec": "lz4"}');
    await page.getByRole('button', { name: 'Create destination' }).click();
    await page
      .locator('#d-options-error')
      .filter({ hasText: /expected one of null, deflate, snappy/ })
      .waitFor();
    await page.getByLabel('Format options (JSON)').fill('{"codec": "snappy"}');
    await page.getByRole('button', { name: 'Create destination' }).click();
    await page.getByRole('heading', { name: 'Destination: Avro bucket' }).waitFor();
    await shot('26-avro-destination');

    await newGoldDataflow('Gold to Avro');
    await page.getByLabel('Header of column 1').fill('email');
    await page.getByLabel('Destination', { exact: true }).selectOption({ label: `Avro bucket (${BUCKET})` });
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Gold to Avro' }).waitFor();
    await page.getByRole('link', { name: 'Dataflows' }).click();
    await page.getByRole('button', { name: 'Export now: Gold to Avro' }).click();
    await page.locator('#run-props .badge.succeeded').waitFor({ timeout: 60_000 });
    const names = await page.locator('#run-files tbody tr td:first-child').allTextContents();
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^Avro_bucket_.*\.avro$/);

    // An independent reader (avsc) reads the file from the bucket: the gold members, snappy blocks.
    const s3 = s3Reader(moto);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `exports/avro/${names[0]}` }));
    const file = await readAvro(await got.Body!.transformToByteArray());
    s3.destroy();
    expect(file.codec).toBe('snappy');
    expect(file.records.map((r) => r.email).sort()).toEqual([
      'ada@example.com',
      'cy@example.com',
      'di@example.com',
    ]);
    await shot('27-avro-run');
    expect(pageErrors).toEqual([]);
  });
  it("edits a field's calculated-field functions (add, reorder, remove, join's separator) by keyboard, at 375 px too; the export holds them", async () => {
    await api('/profiles', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-ndjson' },
      body: [
        {
          id: 'h1',
          identities: { email: ['  Eve@Example.COM '] },
          attributes: { tier: 'hashed', interests: ['golf', 'wine'] },
        },
        {
          id: 'h2',
          identities: { email: ['FAY@example.org'] },
          attributes: { tier: 'hashed', interests: ['chess', null, 'go'] },
        },
      ]
        .map((p) => JSON.stringify(p))
        .join('\n'),
    });
    await api('/audiences', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'rule', name: 'Hashed members', rule: 'attributes.tier = "hashed"' }),
    });
    await page.getByRole('link', { name: 'Dataflows' }).click();
    await page.getByRole('link', { name: 'New dataflow' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Hashed by the console');
    await page.getByLabel('Hashed members (rule)').check();
    await page.getByLabel('Destination', { exact: true }).selectOption({ label: `Moto bucket (${BUCKET})` });
    await page.getByLabel('Header of column 1').fill('email_sha256');
    // The functions offered are the server's own list; each is added with the keyboard (select, Tab, Enter).
    expect(await page.locator('#map-add-0 option').allInnerTexts()).toEqual([
      'trim',
      'lowercase',
      'uppercase',
      'sha256',
      'phone',
      'join',
      'flatten',
    ]);
    for (const fn of ['lowercase', 'trim', 'sha256']) {
      await page.getByLabel('Function to add to column 1').focus();
      await page.getByLabel('Function to add to column 1').selectOption(fn);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
        'Add function to column 1',
      );
      await page.keyboard.press('Enter');
    }
    const chips = (column: number) => page.locator(`#map-fns-${column} > li > .mono`).allInnerTexts();
    expect(await chips(0)).toEqual(['lowercase', 'trim', 'sha256']);
    // Reordered: trim moves before lowercase, and focus stays on the moved chip.
    await page.getByRole('button', { name: 'Move trim (function 2 of column 1) earlier' }).focus();
    await page.keyboard.press('Enter');
    expect(await chips(0)).toEqual(['trim', 'lowercase', 'sha256']);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Remove trim (function 1 of column 1)',
    );
    await page.getByLabel('Source of column 2').fill('attributes.interests');
    await page.getByLabel('Header of column 2').fill('interests');
    await page.getByLabel('Function to add to column 2').selectOption('join');
    await page.getByRole('button', { name: 'Add function to column 2' }).click();
    await page.getByLabel('Separator of join (function 1 of column 2)').fill('|');
    // Every control of the form is labelled, the functions' ones included.
    const unlabelled = await page
      .locator('form')
      .evaluate((form) =>
        [...form.querySelectorAll('input, select, textarea, button')]
          .filter(
            (el) =>
              (el as HTMLInputElement).labels?.length === 0 &&
              !el.getAttribute('aria-label') &&
              !el.textContent?.trim(),
          )
          .map((el) => el.id || el.outerHTML),
      );
    expect(unlabelled).toEqual([]);
    await page.locator('#mapping').screenshot({ path: `${SHOTS}/28-mapping-functions.png` });

    await page.setViewportSize({ width: 375, height: 812 });
    try {
      await expectNoPageOverflow();
      // The functions wrap within the screen, even though the mapping table scrolls sideways.
      for (const box of ['#map-fn-0', '#map-fn-1']) {
        const right = await page
          .locator(box)
          .evaluate((el) =>
            Math.max(...[...el.querySelectorAll('*')].map((c) => c.getBoundingClientRect().right)),
          );
        expect(right).toBeLessThanOrEqual(375);
      }
      await page.locator('#mapping').screenshot({ path: `${SHOTS}/29-mapping-functions-375.png` });
    } finally {
      await page.setViewportSize({ width: 1200, height: 900 });
    }

    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('heading', { name: 'Review before activating' }).waitFor();
    expect(await page.locator('#review-mapping li').allInnerTexts()).toEqual([
      'email_sha256 ← identities.email → trim → lowercase → sha256',
      'interests ← attributes.interests → join',
    ]);
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Hashed by the console' }).waitFor();
    const flowId = ((await api('/dataflows')) as { items: { id: string; name: string }[] }).items.find(
      (f) => f.name === 'Hashed by the console',
    )!.id;
    expect(((await api(`/dataflows/${flowId}`)) as { mapping: unknown }).mapping).toEqual({
      fields: [
        { source: 'identities.email', target: 'email_sha256', transforms: ['trim', 'lowercase', 'sha256'] },
        {
          source: 'attributes.interests',
          target: 'interests',
          transforms: [{ name: 'join', separator: '|' }],
        },
      ],
    });

    // The export, read back from the bucket, holds what node:crypto and a join of its own compute.
    await page.getByRole('button', { name: 'Export now: Hashed by the console' }).click();
    await page.locator('#run-props .badge.succeeded').waitFor({ timeout: 60_000 });
    const [key] = await page
      .locator('#run-files tbody tr')
      .evaluateAll((rows) =>
        rows.map((row) => `${row.children[1]?.textContent}/${row.children[0]?.textContent}`),
      );
    const s3 = s3Reader(moto);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const csv = Papa.parse<Record<string, string>>(await got.Body!.transformToString(), {
      header: true,
      skipEmptyLines: true,
    });
    s3.destroy();
    const sha256 = (text: string) =>
      createHash('sha256').update(text.trim().toLowerCase(), 'utf8').digest('hex');
    expect(csv.data.sort((a, b) => a.interests!.localeCompare(b.interests!))).toEqual([
      { email_sha256: sha256('FAY@example.org'), interests: 'chess||go' },
      { email_sha256: sha256('  Eve@Example.COM '), interests: 'golf|wine' },
    ]);

    // Edited: lowercase removed, the separator changed; the saved mapping follows.
    await page.getByRole('link', { name: 'Dataflows' }).click();
    await page.getByRole('link', { name: 'Hashed by the console' }).click();
    await page.getByRole('heading', { name: 'Dataflow: Hashed by the console' }).waitFor();
    expect(await chips(0)).toEqual(['trim', 'lowercase', 'sha256']);
    await page.getByRole('button', { name: 'Remove lowercase (function 2 of column 1)' }).click();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Remove sha256 (function 2 of column 1)',
    );
    await page.getByLabel('Separator of join (function 1 of column 2)').fill('; ');
    await page.locator('#map-tgt-0').evaluate((input) => input.setAttribute('data-before-save', ''));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#status').filter({ hasText: 'Dataflow Hashed by the console saved' }).waitFor();
    await page.locator('#map-tgt-0:not([data-before-save])').waitFor();
    expect(await chips(0)).toEqual(['trim', 'sha256']);
    const edited = (await api(`/dataflows/${flowId}`)) as { mapping: { fields: { transforms: unknown }[] } };
    expect(edited.mapping.fields.map((f) => f.transforms)).toEqual([
      ['trim', 'sha256'],
      [{ name: 'join', separator: '; ' }],
    ]);
    expect(pageErrors).toEqual([]);
  });

  it("shows the server's refusal of a field's functions at that field", async () => {
    // A list column may hold hashed emails, but not once they are joined into one text.
    const fields = [{ source: 'identities.email', type: { list: 'string' }, transforms: ['sha256'] }];
    const flow = await openApiDataflow('All emails hashed', 'Hashed members', fields);
    await page.getByLabel('Function to add to column 1').selectOption('join');
    await page.getByRole('button', { name: 'Add function to column 1' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page
      .locator('#map-fn-0-error')
      .filter({ hasText: 'transforms make text; expected "string" (or no type)' })
      .waitFor();
    expect(await page.locator('#map-fn-0').getAttribute('aria-invalid')).toBe('true');
    // The summary's link takes focus to the field's functions.
    await page.locator('.summary a').filter({ hasText: 'Functions of column 1' }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('map-fn-0');
    await shot('30-mapping-functions-refused');
    expect(((await api(`/dataflows/${flow.id}`)) as { mapping: unknown }).mapping).toEqual({ fields });
    await page.getByRole('button', { name: 'Remove join (function 2 of column 1)' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#status').filter({ hasText: 'Dataflow All emails hashed saved' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
  it('registers a snapshot source (auth fields as destinations), tests it, reads it in a rule audience, and deletes it once unused', async () => {
    const s3 = s3Reader(moto);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'snapshots/crm/part-0.parquet', Body: customerParquet(customerRows(120), 50) }));
    s3.destroy();
    const reader = await createUser(moto, 'console-snapshot-reader', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${BUCKET}` },
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${BUCKET}/snapshots/*` },
      ],
    });
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'New source' }).click();
    await page.getByRole('heading', { name: 'New source', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('CRM snapshot');
    await page.getByLabel('Bucket', { exact: true }).fill(BUCKET);
    await page.getByLabel('Endpoint (optional)').fill(moto.endpoint);
    await page.getByLabel('Prefix (a folder of files)').fill('snapshots/crm/');
    await page.getByLabel('Access key ID').fill(reader.accessKeyId);
    // No secret yet: the API's refusal is shown at the field of location.auth.secretAccessKey.
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.locator('#d-secret-error').filter({ hasText: /secret access key/ }).waitFor();
    expect(await page.locator('#d-secret').getAttribute('aria-invalid')).toBe('true');
    await shot('31-source-errors');
    await page.getByLabel('Secret access key').fill(reader.secretAccessKey);
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('heading', { name: 'Source: CRM snapshot' }).waitFor();
    expect(await page.locator('#d-secret-hint').textContent()).toBe(`Stored as ****${reader.secretAccessKey.slice(-4)}. Leave empty to keep it.`);

    await page.getByRole('button', { name: 'Test source' }).click();
    const result = page.locator('#test-result > p');
    await result.waitFor();
    expect(await result.textContent()).toBe('1 file(s), 120 rows; columns: id, updatedAt, country, score, person.name, identities.email, notes');
    await shot('32-source-tested');
    // Saved again with the secret left empty: the stored one is kept, and the test still reads.
    await page.getByLabel('Prefix (a folder of files)').fill('snapshots/');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#status').filter({ hasText: 'Source CRM snapshot saved' }).waitFor();
    await page.getByRole('button', { name: 'Test source' }).click();
    await page.locator('#test-result > p').filter({ hasText: '1 file(s), 120 rows' }).waitFor();

    await page.getByRole('link', { name: 'Audiences' }).click();
    await page.getByRole('heading', { name: 'Audiences', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('French snapshot');
    await page.getByLabel('Rule', { exact: true }).fill('attributes.country = "FR"');
    await page.getByLabel('Profiles from').selectOption({ label: 'Source: CRM snapshot' });
    await page.getByRole('button', { name: 'Create audience' }).click();
    const row = page.getByRole('row').filter({ hasText: 'French snapshot' });
    await row.waitFor();
    expect(await row.locator('td').nth(3).textContent()).toBe('CRM snapshot');
    const audience = ((await api('/audiences')) as { items: { id: string; name: string; sourceId?: string }[] }).items.find((a) => a.name === 'French snapshot')!;
    const source = ((await api('/sources')) as { items: { id: string }[] }).items[0]!;
    expect(audience.sourceId).toBe(source.id);

    // Deleting is refused while the audience reads it, then done once it does not.
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByRole('link', { name: 'CRM snapshot' }).click();
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Delete source' }).click();
    await page.locator('#status').filter({ hasText: `read by audience(s) French snapshot (${audience.id})` }).waitFor();
    await api(`/audiences/${audience.id}`, { method: 'DELETE' });
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Delete source' }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    await page.locator('#status').filter({ hasText: 'Source CRM snapshot deleted' }).waitFor();
    expect(await page.getByRole('link', { name: 'CRM snapshot' }).count()).toBe(0);
    expect(await page.content()).not.toContain(reader.secretAccessKey);
    await shot('33-sources');
    expect(pageErrors).toEqual([]);
  });
});
