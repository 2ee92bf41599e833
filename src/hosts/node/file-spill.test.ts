import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, ExternalSorter } from '../../core/data/spill.ts';
import { fileSpill, parseSortBudget } from './file-spill.ts';

let parent: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'file-spill-'));
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

interface Item {
  k: string;
  v: unknown;
}
const codec = {
  encode: (item: Item) => encodeValue([item.k, item.v]),
  decode: (line: string): Item => {
    const [k, v] = decodeValue(line) as [string, unknown];
    return { k, v };
  },
  key: (item: Item) => item.k,
};

describe('fileSpill', () => {
  it('makes no folder until a run is written', async () => {
    const spill = fileSpill(parent);
    spill.store('a');
    expect(await readdir(parent)).toEqual([]);
    expect(spill.directory).toBeUndefined();
    await spill.dispose();
  });

  it('writes each run as one file, read back in order over chunk boundaries, and removes the folder', async () => {
    const spill = fileSpill(parent);
    const store = spill.store('partition:a/b');
    // Lines longer than a read chunk, text beyond ASCII, and a run written in two calls.
    const long = 'ü'.repeat(70_000);
    await store.write(0, ['a', long, 'ç"\\n']);
    await store.write(0, ['z']);
    await store.write(1, ['only']);
    const files = await readdir(spill.directory!);
    expect(files.sort()).toEqual(['1-partition_a_b-0.txt', '1-partition_a_b-1.txt']);
    expect(await readFile(join(spill.directory!, files[0]!), 'utf8')).toBe(`a\n${long}\nç"\\n\nz\n`);
    const lines: string[] = [];
    for await (const chunk of store.read(0)) lines.push(...chunk);
    expect(lines).toEqual(['a', long, 'ç"\\n', 'z']);
    expect(spill.written).toEqual({ files: 2, bytes: Buffer.byteLength(`a\n${long}\nç"\\n\nz\nonly\n`) });
    // A second store under one key has its own files: nothing of the first is read through it.
    const other = spill.store('partition:a/b');
    await other.write(0, ['other']);
    const read: string[] = [];
    for await (const chunk of other.read(0)) read.push(...chunk);
    expect(read).toEqual(['other']);
    await store.drop();
    expect(await readdir(spill.directory!)).toEqual(['2-partition_a_b-0.txt']);
    await spill.dispose();
    expect(await readdir(parent)).toEqual([]);
  });

  it('sorts through an ExternalSorter with a tiny budget: many runs on disk, every item in key order', async () => {
    const spill = fileSpill(parent);
    const sorter = new ExternalSorter(spill.store('dedup'), codec, 512, 7);
    const keys = Array.from({ length: 2000 }, (_, i) => `k${String((i * 7919) % 2000).padStart(4, '0')}`);
    for (const k of keys) await sorter.add({ k, v: k === 'k0001' ? new Date(5) : 1n });
    expect(sorter.runs).toBeGreaterThan(50);
    const sorted: Item[] = [];
    for await (const item of sorter.sorted()) sorted.push(item);
    expect(sorted.map((s) => s.k)).toEqual([...keys].sort());
    expect(sorted[1]!.v).toEqual(new Date(5));
    expect(spill.written.files).toBe(sorter.runs);
    await spill.dispose();
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('parseSortBudget', () => {
  it('reads bytes and KiB/MiB/GiB, and nothing from an absent value', () => {
    expect(parseSortBudget('4096', 'x')).toBe(4096);
    expect(parseSortBudget('16MiB', 'x')).toBe(16 * 1024 * 1024);
    expect(parseSortBudget('1 gib', 'x')).toBe(1024 ** 3);
    expect(parseSortBudget(undefined, 'x')).toBeUndefined();
    expect(parseSortBudget('', 'x')).toBeUndefined();
  });

  it('refuses anything else, naming the field', () => {
    for (const bad of ['0', '-1', '1.5', '64MB', 'lots']) {
      expect(() => parseSortBudget(bad, '--sort-budget')).toThrow(`--sort-budget: expected a positive number of bytes (e.g. 67108864 or 64MiB), got "${bad}"`);
    }
  });
});
