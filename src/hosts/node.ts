/**
 * edge-export on Node: the Worker's API, scheduler and export runner in one process — a Hono Node
 * server, SQLite (better-sqlite3) as D1, an in-process queue, and a minute ticker as the cron.
 *
 *   SECRETS_KEY=$(openssl rand -base64 32) ADMIN_TOKEN=… npm run host:node
 *
 * HOST (default 127.0.0.1), PORT (default 8787; 0 picks a free port), EDGE_EXPORT_DB (default
 * ./edge-export.sqlite), EDGE_EXPORT_SHARDS_DIR (the shard files of sharded organizations; default
 * `<EDGE_EXPORT_DB>.shards`), EDGE_EXPORT_CRON=off (no minute ticker); every other binding comes from
 * the environment as in wrangler.toml.
 */
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { installedPlugins } from '../../edge-export.plugins.ts';
import { withPlugins } from '../core/platform.ts';
import { createHost, maxValueBytes, testPlatformOverrides } from './host.ts';
import { nodePlatform } from './node/platform.ts';
import { MISSING_SQLITE, nodeShardFiles, openNodeDatabase } from './node/sqlite.ts';
import { shardsDir } from './shard-files.ts';
import { everyMinute } from './ticker.ts';

const migrations = fileURLToPath(new URL('../../migrations', import.meta.url));
// D1's limits hold here too (a value over 2,000,000 bytes is refused as D1 refuses it); tests lower it.
const dbPath = process.env.EDGE_EXPORT_DB ?? 'edge-export.sqlite';
const database = await openNodeDatabase(dbPath, migrations, maxValueBytes(process.env)).catch(
  (error: unknown) => {
    if (!(error instanceof Error && error.message === MISSING_SQLITE)) throw error;
    process.stderr.write(`${MISSING_SQLITE}\n`);
    process.exit(1);
  },
);
if (database.applied.length > 0) console.log(`migrations applied: ${database.applied.join(', ')}`);
// The same platform as the CLI: fetch without body copies, native hashing, zlib, snappy, zstd, and the
// deployment's installed plugins (edge-export.plugins.ts).
// Sharded organizations' profiles (docs/SCALE.md): a SQLite file per shard, opened on first use.
const shards = nodeShardFiles(shardsDir(process.env, dbPath));
const host = createHost(database.db, process.env, withPlugins(nodePlatform({}, testPlatformOverrides(process.env)), installedPlugins), {
  shards,
});
// EDGE_EXPORT_CRON=off leaves the ticks to something else (an external cron, or tests through
// POST /cdn-cgi/handler/scheduled with EDGE_EXPORT_TEST_TRIGGERS=1).
const stopTicker =
  process.env.EDGE_EXPORT_CRON === 'off'
    ? () => {}
    : everyMinute((time) => host.scheduled(time), {
        onError: (error) => console.error('edge-export tick failed', error),
      });
const server = serve(
  { fetch: host.fetch, hostname: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 8787) },
  (info) => console.log(`edge-export listening on http://${info.address}:${info.port}`),
);

/** Stops accepting requests, lets running exports finish, then closes the database and the shard files. */
async function shutdown(): Promise<void> {
  stopTicker();
  server.close();
  await host.close();
  shards.close();
  database.close();
  process.exit(0);
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
