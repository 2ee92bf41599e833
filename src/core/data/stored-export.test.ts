import { describe, expect, it } from 'vitest';
import { collectRows } from '../streams.ts';
import { compileMapping } from './mapping.ts';
import { MemoryStore } from './memory-store.ts';
import type { Profile } from './model.ts';
import { planStoredAudienceExport, planStoredDatasetExport } from './stored-export.ts';
import { importUpload } from './upload.ts';

const p = (id: string, email: string, tier: string): Profile => ({
  id,
  identities: { email: [email] },
  attributes: { tier },
  updatedAt: '2026-01-01T00:00:00Z',
});
/** Stands in for the rule engine: `tier=<value>`. */
const compileRule = (source: string) => (profile: Profile) =>
  profile.attributes.tier === source.split('=')[1];

describe('store-backed export plans', () => {
  it('exports rule and upload audiences and keeps their states apart', async () => {
    const store = new MemoryStore();
    await store.putProfiles([p('1', 'a@x.io', 'gold'), p('2', 'b@x.io', 'silver')]);
    await store.putAudience({ id: 'gold', name: 'Gold', kind: 'rule', rule: 'tier=gold' });
    await store.putAudience({ id: 'up', name: 'Upload', kind: 'upload' });
    await importUpload(store, 'up', 'namespace,value\nemail,b@x.io\n');
    const mapping = compileMapping({ fields: [{ source: 'id' }] });
    const base = {
      store,
      dataflowId: 'df',
      compileRule,
      mapping,
      mode: 'incremental' as const,
      now: new Date('2026-02-01T00:00:00Z'),
    };
    for (const [audienceId, expected] of [
      ['gold', '1'],
      ['up', '2'],
    ] as const) {
      const plan = await planStoredAudienceExport({ ...base, audienceId });
      expect(await collectRows(plan.rows)).toEqual([{ id: expected, segmentMembership_status: 'realized' }]);
      await plan.commit();
      const again = await planStoredAudienceExport({ ...base, audienceId });
      expect(await collectRows(again.rows)).toEqual([]);
      expect(again.incremental).toBe(true);
    }
    await expect(planStoredAudienceExport({ ...base, audienceId: 'nope' })).rejects.toThrow(
      'Audience nope does not exist',
    );
    await expect(
      planStoredDatasetExport({ store, dataflowId: 'df', datasetId: 'ds', mode: 'full', now: new Date() }),
    ).rejects.toThrow('Dataset ds does not exist');
  });
});
