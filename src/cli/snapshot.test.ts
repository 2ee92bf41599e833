import { describe, expect, it } from 'vitest';
import { memoryObjectStore } from '../core/snapshot/memory-store.ts';
import { planSnapshot } from '../core/snapshot/plan.ts';
import type { ObjectStore, SnapshotSource } from '../core/snapshot/types.ts';
import { type OpenedSnapshot, READ_AHEAD, snapshotRowStream } from './snapshot.ts';

/** Five NDJSON files of ten rows each under `crm/`, and a store that logs which objects it streamed. */
async function snapshot(): Promise<{ opened: OpenedSnapshot; streamed: string[] }> {
  const files: Record<string, string> = {};
  for (let k = 0; k < 5; k++) {
    files[`crm/part-${k}.ndjson`] = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `p${k * 10 + i}`, other: 'x' })).join('\n');
  }
  const base = memoryObjectStore(files);
  const streamed: string[] = [];
  const store: ObjectStore = {
    ...base,
    stream: (key) => {
      streamed.push(key);
      return base.stream(key);
    },
  };
  const source: SnapshotSource = { format: 'ndjson', prefix: 'crm/' };
  const plan = await planSnapshot(store, source);
  return { opened: { store, source, plan, stats: { bytesFetched: 0, requests: 0, rows: 0 } }, streamed };
}

describe('snapshotRowStream', () => {
  it('reads the units in order, opening at most READ_AHEAD units beyond the one being read', async () => {
    const { opened, streamed } = await snapshot();
    expect(opened.plan.units).toHaveLength(5);
    const reader = snapshotRowStream(opened, ['id']).getReader();
    const ids: unknown[] = [];
    const first = await reader.read();
    ids.push(...(first.value ?? []).map((row) => row.id));
    expect(streamed).toEqual(['crm/part-0.ndjson', 'crm/part-1.ndjson'].slice(0, 1 + READ_AHEAD));
    for (let batch = await reader.read(); !batch.done; batch = await reader.read()) {
      ids.push(...batch.value.map((row) => row.id));
      // Never more than READ_AHEAD units past the one the rows come from.
      const current = Number(String(batch.value[0]!.id).slice(1)) / 10;
      expect(streamed.length).toBeLessThanOrEqual(Math.floor(current) + 1 + READ_AHEAD);
    }
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => `p${i}`));
    expect(opened.stats.rows).toBe(50);
  });

  it('cancelled after its first batch, it stops the unit read ahead and opens no other', async () => {
    const { opened, streamed } = await snapshot();
    const reader = snapshotRowStream(opened, ['id']).getReader();
    await reader.read();
    await reader.cancel();
    expect(streamed).toHaveLength(1 + READ_AHEAD);
  });
});
