/** The shard contract on Deno: a node:sqlite file per shard. Run by test/hosts/deno/run-core-tests.ts. */
import { denoShardFiles } from '../../../src/hosts/deno/sqlite.ts';
import { shardContract } from '../shard-contract.ts';

declare const Deno: { makeTempDirSync(options: { prefix: string }): string };

const dir = Deno.makeTempDirSync({ prefix: 'edge-export-shards-' });
let n = 0;

shardContract('Deno (node:sqlite file)', async () => (await denoShardFiles(`${dir}/ns-${++n}`)).shard('org_x', 's0'));
