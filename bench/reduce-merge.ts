/**
 * The fan-out reduce's merge memory (docs/SNAPSHOTS.md, "The reduce's memory is bounded"): `tasks`
 * map tasks each scan their share of the profiles into one sorted run (`scanAudience`), written in
 * rows as D1 would store them; the reduce merges them (`planAudienceExport` over `unionSpill`). The
 * live heap the merge adds over the stored runs (after a full collection, every 16 batches) is
 * sampled while it runs, with rows of D1's full 1.8 MB and with `taskRowBytes(tasks)`.
 *
 *   node --expose-gc bin/run-ts.js bench/reduce-merge.ts [tasks=100] [profilesPerTask=4000]
 */
import { ruleMembership } from '../src/core/data/audience.ts';
import { planAudienceExport, scanAudience } from '../src/core/data/export-plan.ts';
import { reduceStart, taskRowBytes, unionSpill } from '../src/core/data/fanout.ts';
import { compileMapping } from '../src/core/data/mapping.ts';
import type { Profile } from '../src/core/data/model.ts';
import type { SpillStore } from '../src/core/data/spill.ts';
import { fromIterable } from '../src/core/streams.ts';

const tasks = Number(process.argv[2] ?? 100);
const perTask = Number(process.argv[3] ?? 4000);
const D1_ROW = 1_800_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/**
 * A store keeping rows of at most `rowBytes` (lines packed as d1Spill packs them), read a row at a
 * time as D1 answers: a new string decoded from bytes (kept encoded here, off the V8 heap's strings).
 */
function rowStore(rowBytes: number): SpillStore {
  const rows: Uint8Array[] = [];
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    write: async (_run, lines) => {
      let row = '';
      for (const line of lines) {
        if (row && row.length + line.length + 1 > rowBytes) {
          rows.push(encoder.encode(row));
          row = '';
        }
        row = row ? `${row}\n${line}` : line;
      }
      if (row) rows.push(encoder.encode(row));
    },
    read: () =>
      (async function* () {
        for (const row of rows) yield decoder.decode(row).split('\n');
      })(),
    drop: async () => {},
  };
}

const mapping = compileMapping({
  fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }, { source: 'attributes.country', target: 'country' }, { source: 'attributes.score', target: 'score' }, { source: 'attributes.person.name', target: 'name' }],
});
const membership = ruleMembership((p) => p.attributes.country !== 'XX');
const now = new Date('2026-03-01T00:00:00Z');
function profile(i: number): Profile {
  return {
    id: `c${String(i).padStart(9, '0')}`,
    identities: { email: [`customer${i}@example.com`] },
    attributes: { country: ['FR', 'US', 'DE'][i % 3], score: i / 4, person: { name: `Person number ${i}` } },
    updatedAt: '2026-01-01T00:00:00Z',
  };
}

async function measure(rowBytes: number): Promise<{ heldMiB: number; rows: number }> {
  const outputs: SpillStore[] = [];
  const scans = [];
  for (let t = 0; t < tasks; t++) {
    const share = Array.from({ length: perTask }, (_, k) => profile(k * tasks + t));
    const output = rowStore(rowBytes);
    scans.push(await scanAudience({ membership, profiles: fromIterable([share]), mapping, now, mode: 'full', state: false, output }));
    outputs.push(output);
  }
  gc!();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const plan = planAudienceExport({
    membership,
    profiles: () => {
      throw new Error('no profile is read by the reduce');
    },
    mapping,
    now,
    mode: 'full',
    sorted: true,
    spill: unionSpill(outputs),
    resume: reduceStart(scans),
  });
  let rows = 0;
  const reader = plan.rows.getReader();
  for (let batch = 0; ; batch++) {
    const { value, done } = await reader.read();
    if (done) break;
    rows += value.length;
    // Live heap (after a full collection) at regular points of the merge.
    if (batch % 16 === 0) {
      gc!();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
  }
  return { heldMiB: (peak - base) / 2 ** 20, rows };
}

const bounded = taskRowBytes(tasks, D1_ROW);
for (const [label, rowBytes] of [
  ['D1 rows (1.8 MB)', D1_ROW],
  [`taskRowBytes (${bounded} B)`, bounded],
] as const) {
  const { heldMiB, rows } = await measure(rowBytes);
  console.log(`${tasks} tasks × ${perTask} profiles, ${label}: the merge held at most ${heldMiB.toFixed(1)} MiB of live heap beyond the stored runs; ${rows} rows`);
  gc();
}
