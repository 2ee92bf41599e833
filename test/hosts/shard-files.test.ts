/** The shard contract on Node (a better-sqlite3 file per shard), and how the host keeps its shard files. */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeShardFiles } from '../../src/hosts/node/sqlite.ts';
import { type ShardFiles, shardFileName, shardsDir } from '../../src/hosts/shard-files.ts';
import { shardContract } from './shard-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'edge-export-shards-'));
const opened: ShardFiles[] = [];
let n = 0;
const files = (dir = join(root, `ns-${++n}`)) => {
  const shards = nodeShardFiles(dir);
  opened.push(shards);
  return shards;
};
afterAll(() => {
  for (const shards of opened) shards.close();
});

shardContract('Node (better-sqlite3 file)', () => files().shard('org_x', 's0'));

describe('shard files on the Node host', () => {
  it('opens one file per organization and shard, named safely, on the first call only', async () => {
    const dir = join(root, 'named');
    const shards = files(dir);
    const s0 = shards.shard('org_1', 's0');
    const odd = shards.shard('../org 2/é', 's1');
    expect(readdirSync(dir)).toEqual([]);
    await s0.upsertProfiles('org_1', [{ id: 'a', json: '{}', updatedAt: '2026-01-01T00:00:00.000Z' }]);
    await odd.split('../org 2/é', { from: 0, to: 4096 }, 10);
    const sqlite = readdirSync(dir).filter((f) => f.endsWith('.sqlite')).sort();
    expect(sqlite).toEqual(['%2E%2E%2Forg%202%2F%C3%A9.s1.sqlite', 'org_1.s0.sqlite']);
    expect(shardFileName('org_1', 's0')).toBe('org_1.s0.sqlite');
    expect(shardFileName('a.b', 'c')).not.toBe(shardFileName('a', 'b.c'));
  });

  it('keeps profiles in the file: a host started again on the folder reads them', async () => {
    const dir = join(root, 'reopen');
    const first = files(dir);
    await first.shard('org_1', 's2').upsertProfiles('org_1', [{ id: 'kept', json: '{"a":1}', updatedAt: 'u' }]);
    first.close();
    const again = files(dir);
    const read = await again.shard('org_1', 's2').profiles('org_1', { from: 0, to: 4096 }, { after: null, through: null }, 10);
    expect(read).toEqual([{ id: 'kept', json: '{"a":1}', updatedAt: 'u' }]);
    expect(await again.shard('org_1', 's3').split('org_1', { from: 0, to: 4096 }, 1)).toEqual({ count: 0, bounds: [] });
  });

  it('puts the folder beside the database unless EDGE_EXPORT_SHARDS_DIR says where', () => {
    expect(shardsDir({}, '/data/edge-export.sqlite')).toBe('/data/edge-export.sqlite.shards');
    expect(shardsDir({ EDGE_EXPORT_SHARDS_DIR: '/elsewhere' }, '/data/edge-export.sqlite')).toBe('/elsewhere');
  });
});
