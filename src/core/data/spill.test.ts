import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, ExternalSorter, memorySpill, type SpillStore } from './spill.ts';

const codec = {
  key: (item: { k: string; v: number }) => item.k,
  encode: (item: { k: string; v: number }) => JSON.stringify(item),
  decode: (line: string) => JSON.parse(line) as { k: string; v: number },
};

/** A spill store that counts what went through it. */
function counted(): SpillStore & { lines: number; runs: Set<number> } {
  const inner = memorySpill();
  const store = {
    lines: 0,
    runs: new Set<number>(),
    write: async (run: number, lines: readonly string[]) => {
      store.lines += lines.length;
      store.runs.add(run);
      await inner.write(run, lines);
    },
    read: (run: number) => inner.read(run),
    drop: () => inner.drop(),
  };
  return store;
}

async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('ExternalSorter', () => {
  it('yields every item in key order, spilled in runs or not, whatever the budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ k: fc.string({ maxLength: 6 }), v: fc.integer() }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 4000 }),
        async (items, budget) => {
          const store = counted();
          const sorter = new ExternalSorter(store, codec, budget, 7);
          for (const item of items) await sorter.add(item);
          const out = await drain(sorter.sorted());
          expect(out.map((i) => i.k)).toEqual(items.map((i) => i.k).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
          expect([...out].sort((a, b) => a.v - b.v || (a.k < b.k ? -1 : 1))).toEqual(
            [...items].sort((a, b) => a.v - b.v || (a.k < b.k ? -1 : 1)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('spills once the buffer passes its budget and reads runs back a chunk at a time', async () => {
    const store = counted();
    const sorter = new ExternalSorter(store, codec, 2_000, 5);
    for (let i = 0; i < 200; i++) await sorter.add({ k: `k${(i * 37) % 200}`, v: i });
    expect(sorter.runs).toBeGreaterThan(5);
    const spilled = store.lines;
    const out = await drain(sorter.sorted());
    expect(out).toHaveLength(200);
    // The last buffer is merged from memory: nothing more went to the store.
    expect(store.lines).toBe(spilled);
    expect(spilled).toBeLessThan(200);
    expect(spilled).toBeGreaterThan(150);
  });

  it('spills the buffer when a caller stops halfway through the merge, and a resumed sorter reads it all', async () => {
    const store = counted();
    const items = Array.from({ length: 500 }, (_, i) => ({ k: `k${String((i * 7919) % 500).padStart(3, '0')}`, v: i }));
    const sorter = new ExternalSorter(store, codec, 5_000);
    for (const item of items) await sorter.add(item);
    const runsBefore = sorter.runs;
    const seen: string[] = [];
    for await (const batch of sorter.sortedBatches(50)) {
      seen.push(...batch.map((i) => i.k));
      if (seen.length >= 100) {
        await sorter.spill();
        break;
      }
    }
    expect(sorter.runs).toBe(runsBefore + 1);
    expect(store.lines).toBe(500);
    const decided = seen.at(-1)!;
    const resumed = new ExternalSorter(store, codec, 5_000, undefined, sorter.runs);
    const rest = (await drain(resumed.sorted())).map((i) => i.k).filter((k) => k > decided);
    const all = items.map((i) => i.k).sort();
    expect([...seen.filter((k) => k <= decided), ...rest]).toEqual(all);
  });
});

describe('encodeValue', () => {
  it('round-trips what JSON alone would lose', () => {
    const values = [
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      5e-324,
      2n ** 70n,
      -(2n ** 63n),
      new Date('2026-01-02T03:04:05.678Z'),
      new Uint8Array([0, 255, 7]),
      { $b: 'not a bigint' },
      [1, 'two', null, { nested: [new Date(0), 3n] }],
      'text with "quotes" and \u2028',
      // Tag-like keys beside others, and tag-like text: kept as they are on either path.
      { $d: 5, other: 1 },
      { $n: 'NaN', when: new Date(1) },
      ['"$n', '$b', { '"$': 1 }],
      Object.assign(Object.create(null), { a: 1 }),
    ];
    for (const value of values) expect(decodeValue(encodeValue(value))).toEqual(value);
    expect(Object.is(decodeValue(encodeValue(-0)), -0)).toBe(true);
  });

  it('keeps a key named __proto__ as a key (JSON.parse gives one), also beside tagged values', () => {
    // Found by the property below: assigning out["__proto__"] set the prototype and lost the value.
    const value = JSON.parse('{"__proto__":false,"":[{"":["$"]}],"d":{"__proto__":{"$n":1}}}');
    const back = decodeValue(encodeValue(value)) as Record<string, unknown>;
    expect(back).toEqual(value);
    expect(Object.getOwnPropertyNames(back)).toEqual(['__proto__', '', 'd']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('round-trips any JSON-like value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const back = decodeValue(encodeValue(value));
        // JSON has no -0: fast-check's values may hold it, and so does ours after a round trip.
        expect(back).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });
});
