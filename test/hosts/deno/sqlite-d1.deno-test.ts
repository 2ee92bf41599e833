/** The D1 contract on Deno: node:sqlite behind the adapter. Run by test/hosts/deno/run-core-tests.ts. */
import { openDenoDatabase } from '../../../src/hosts/deno/sqlite.ts';
import { d1Contract } from '../d1-contract.ts';

declare const Deno: { makeTempDirSync(options: { prefix: string }): string };

const migrations = new URL('../../../migrations', import.meta.url).pathname;
const dir = Deno.makeTempDirSync({ prefix: 'edge-export-d1-' });
let n = 0;

d1Contract(
  'Deno (node:sqlite)',
  (path) => openDenoDatabase(path, migrations),
  () => `${dir}/db-${++n}.sqlite`,
);
