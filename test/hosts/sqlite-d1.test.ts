/** The D1 contract on Node: better-sqlite3 behind the adapter (Deno runs it on node:sqlite). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNodeDatabase } from '../../src/hosts/node/sqlite.ts';
import { d1Contract } from './d1-contract.ts';

const migrations = fileURLToPath(new URL('../../migrations', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edge-export-d1-'));
let n = 0;

d1Contract(
  'Node (better-sqlite3)',
  (path) => openNodeDatabase(path, migrations),
  () => join(dir, `db-${++n}.sqlite`),
);
