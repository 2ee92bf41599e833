/**
 * A profile id's bucket computed by the tests themselves, not by the code under test: FNV-1a (32 bits)
 * of the id's UTF-8 bytes, in BigInt arithmetic, modulo 4,096 (docs/SCALE.md, "Layout").
 */
export function fnvBucket(id: string): number {
  let h = 2166136261n;
  for (const byte of new TextEncoder().encode(id)) h = ((h ^ BigInt(byte)) * 16777619n) % 4294967296n;
  return Number(h % 4096n);
}

/** The name of the owner of `id`'s bucket among `owners` (ranges [from, to)). */
export function fnvOwner(owners: readonly { name: string; from: number; to: number }[], id: string): string {
  const bucket = fnvBucket(id);
  const owner = owners.find((o) => o.from <= bucket && bucket < o.to);
  if (!owner) throw new Error(`no owner of bucket ${bucket}`);
  return owner.name;
}
