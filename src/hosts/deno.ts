/**
 * edge-export on Deno: the Worker's API, scheduler and export runner in one process — `Deno.serve`,
 * `Deno.cron` every minute, SQLite (node:sqlite, built in) as D1 and an in-process queue.
 *
 *   SECRETS_KEY=$(openssl rand -base64 32) ADMIN_TOKEN=… npm run host:deno
 *   (= deno run --unstable-cron --allow-net --allow-read --allow-write --allow-env src/hosts/deno.ts)
 *
 * HOST (default 127.0.0.1), PORT (default 8787; 0 picks a free port), EDGE_EXPORT_DB (default
 * ./edge-export.sqlite), EDGE_EXPORT_SHARDS_DIR (the shard files of sharded organizations; default
 * `<EDGE_EXPORT_DB>.shards`), EDGE_EXPORT_CRON=off (no cron); every other binding comes from the
 * environment as in wrangler.toml.
 */
import { installedPlugins } from '../../edge-export.plugins.ts';
import { withPlugins } from '../core/platform.ts';
import { denoPlatform } from './deno/platform.ts';
import { denoShardFiles, openDenoDatabase } from './deno/sqlite.ts';
import { shardsDir } from './shard-files.ts';
import { createHost, maxValueBytes, testPlatformOverrides } from './host.ts';

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    options: { hostname: string; port: number; onListen(addr: { hostname: string; port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): { shutdown(): Promise<void> };
  cron(name: string, schedule: string, handler: () => Promise<void>): Promise<void>;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
};
const vars = Deno.env.toObject();
const migrations = new URL('../../migrations', import.meta.url).pathname;
const dbPath = vars.EDGE_EXPORT_DB ?? 'edge-export.sqlite';
const database = await openDenoDatabase(dbPath, migrations, maxValueBytes(vars));
if (database.applied.length > 0) console.log(`migrations applied: ${database.applied.join(', ')}`);
// With the deployment's installed plugins (edge-export.plugins.ts), as every host.
// Sharded organizations' profiles (docs/SCALE.md): a SQLite file per shard, opened on first use.
const shards = await denoShardFiles(shardsDir(vars, dbPath));
const host = createHost(database.db, vars, withPlugins(denoPlatform({}, testPlatformOverrides(vars)), installedPlugins), { shards });
// Deno.cron gives no scheduled time: the minute it fires in stands for it, as a Cron Trigger's would.
// EDGE_EXPORT_CRON=off leaves the ticks to something else (as on Node).
if (vars.EDGE_EXPORT_CRON !== 'off') {
  Deno.cron('edge-export tick', '* * * * *', () =>
    host.scheduled(new Date(Math.floor(Date.now() / 60_000) * 60_000)),
  );
}
const server = Deno.serve(
  {
    hostname: vars.HOST ?? '127.0.0.1',
    port: Number(vars.PORT ?? 8787),
    onListen: ({ hostname, port }) => console.log(`edge-export listening on http://${hostname}:${port}`),
  },
  host.fetch,
);

/** Stops accepting requests, lets running exports finish, then closes the database and the shard files. */
async function shutdown(): Promise<void> {
  await server.shutdown();
  await host.close();
  shards.close();
  database.close();
  Deno.exit(0);
}
Deno.addSignalListener('SIGTERM', shutdown);
Deno.addSignalListener('SIGINT', shutdown);
