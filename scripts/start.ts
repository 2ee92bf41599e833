/**
 * `npm start`: edge-export's embedded default, with nothing but Node. Starts a local S3-compatible
 * store (s3rver, from npm) and the Worker (Miniflare, offline, state under `.state/`), loads the demo
 * profiles, a rule audience, a destination pointing at the local store and a dataflow through the
 * API, runs an export, prints where the files landed, then keeps serving the API (and the cron,
 * every minute) until Ctrl-C.
 *
 * Environment: PORT (API, default 8787), S3_PORT (default 4569), EDGE_EXPORT_STATE_DIR (default
 * .state), EDGE_EXPORT_START_ONCE=1 (export once, then stop and exit 0).
 */
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';
// s3rver 3.7.1 (pinned) knows one key id, "S3RVER", too short for edge-export's access-key check; it
// verifies no SigV4 signature, only that the key id is registered, so the demo registers its own.
import accounts from 's3rver/lib/models/account.js';
import { type DemoConnectionTest, type DemoRun, loadDemo } from './demo.ts';
import { type LocalWorker, startLocalWorker } from './local-worker.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BUCKET = 'edge-export-demo';
const CRON_INTERVAL_MS = 60_000;
/** The demo destination's key pair (a local store only: s3rver checks no signature). */
export const DEMO_KEY = { accessKeyId: 'S3RVERLOCALDEMOKEY', secretAccessKey: 'S3RVER' };

process.env.WRANGLER_SEND_METRICS ??= 'false';
const state = resolve(process.env.EDGE_EXPORT_STATE_DIR ?? join(ROOT, '.state'));
const once = process.env.EDGE_EXPORT_START_ONCE === '1';
const stops: (() => Promise<unknown>)[] = [];

/** Stops what this script started, newest first. */
async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}

/** A port conflict, said in one line naming the variable that moves it (no stack trace). */
class PortInUse extends Error {}

/** The port `variable` asks for, after checking that 127.0.0.1 has it free (0: any free port). */
async function freePort(variable: 'PORT' | 'S3_PORT', fallback: number): Promise<number> {
  const text = process.env[variable] ?? String(fallback);
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new PortInUse(`${variable}: expected a port number 0–65535, received ${JSON.stringify(text)}`);
  if (port === 0) return 0;
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => server.close(() => done()));
  }).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${error.code ?? error.message})`;
    throw new PortInUse(`port ${port} on 127.0.0.1 ${why}: set ${variable} to a free port (e.g. ${variable}=${port + 1} npm start, or ${variable}=0 for any)`);
  });
  return port;
}

async function main(): Promise<void> {
  accounts.DUMMY_ACCOUNT.createKeyPair(DEMO_KEY.accessKeyId, DEMO_KEY.secretAccessKey);
  // Both ports checked before anything starts: a busy one is one line, not a server's stack trace.
  const s3Port = await freePort('S3_PORT', 4569);
  const apiPort = await freePort('PORT', 8787);
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: s3Port,
    silent: true,
    directory: join(state, 's3'),
    configureBuckets: [{ name: BUCKET }],
  });
  const { port: s3Listening } = await s3.run();
  stops.push(() => s3.close());
  const s3Endpoint = `http://127.0.0.1:${s3Listening}`;

  const worker: LocalWorker = await startLocalWorker(ROOT, state, apiPort);
  stops.push(() => worker.stop());

  const demo = await loadDemo({
    root: ROOT,
    state,
    api: worker.url,
    adminToken: worker.adminToken,
    s3Endpoint,
    bucket: BUCKET,
    key: DEMO_KEY,
  });
  // The demo destination's own connection test: s3rver implements no multipart abort or listing, so
  // those come back "not supported by this store" (warnings), never "missing".
  const probe = await demo.testConnection();
  const run = await demo.exportNow();
  const lines = [
    '',
    'edge-export is running locally (no cloud account, no Python).',
    `  API          ${worker.url}/v1   token: ${demo.token}`,
    `  OpenAPI      ${worker.url}/v1/openapi.json`,
    `  Local S3     ${s3Endpoint} (s3rver), bucket ${BUCKET}, files under ${join(state, 's3', BUCKET)}`,
    `  Connection   ${connectionLine(probe)}`,
    `  Console      ${worker.url}/   (sign in with the API token above)`,
    `  Export run   ${run.id}: ${run.status}, ${run.rows ?? 0} rows, ${runSummary(run)}`,
    ...(run.files ?? []).flatMap((f) => [
      `    s3://${BUCKET}/${f.key}${isManifest(f.key) ? '   (manifest)' : ''}`,
      `      local file: ${join(state, 's3', BUCKET, `${f.key}._S3rver_object`)}`,
    ]),
  ];
  if (run.status !== 'succeeded') lines.push(`  Error: ${JSON.stringify(run.error)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (run.status !== 'succeeded') throw new Error('the demo export failed');
  if (once) return;

  process.stdout.write(
    `\nTry: curl -H "Authorization: Bearer ${demo.token}" ${worker.url}/v1/runs\nPress Ctrl-C to stop.\n`,
  );
  const cron = setInterval(() => {
    worker.tick().catch((error: unknown) => process.stderr.write(`cron tick failed: ${String(error)}\n`));
  }, CRON_INTERVAL_MS);
  stops.push(async () => clearInterval(cron));
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // Miniflare's own handlers would exit at once (killing workerd); stop everything in order instead.
      process.removeAllListeners(signal);
      process.once(signal, () => {
        process.once(signal, () => process.exit(130)); // a second Ctrl-C does not wait
        done();
      });
    }
  });
  process.stdout.write('Stopping…\n');
}

/** A run's manifest is listed with its files; the console counts it apart, and so does the banner. */
const isManifest = (key: string) => /(^|\/)manifest-[^/]*\.json$/.test(key);

/** "1 file(s) and a manifest", as the console shows the same run. */
function runSummary(run: DemoRun): string {
  const keys = (run.files ?? []).map((f) => f.key);
  const data = keys.filter((k) => !isManifest(k)).length;
  return `${data} file(s)${keys.length > data ? ' and a manifest' : ''}`;
}

/** One line for a connection test: ok or failing, and what is not ok, by status. */
function connectionLine(probe: DemoConnectionTest): string {
  const ok = probe.results.filter((r) => r.ok).length;
  const byStatus = new Map<string, string[]>();
  for (const r of probe.results.filter((r) => !r.ok)) {
    const status = r.status ?? 'missing';
    byStatus.set(status, [...(byStatus.get(status) ?? []), r.action]);
  }
  const rest = [...byStatus].map(([status, actions]) => `; ${status}: ${actions.join(', ')}`).join('');
  return `${probe.ok ? 'ok' : 'FAILING'} (${ok} of ${probe.results.length} permissions ok${rest}; POST /v1/destinations/{id}/test for details)`;
}

main()
  .then(async () => {
    await stopAll();
    process.exit(0);
  })
  .catch(async (error: unknown) => {
    // A port taken between the check and the listen still reads as a port conflict.
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const message =
      error instanceof PortInUse
        ? error.message
        : code === 'EADDRINUSE'
          ? 'a port is already in use: set PORT (API) or S3_PORT (local S3) to free ones'
          : error instanceof Error
            ? error.message
            : String(error);
    process.stderr.write(`npm start failed: ${message}\n`);
    await stopAll();
    process.exit(1);
  });
