/**
 * Small, synchronous fingerprints of exported values. Incremental exports keep one per member
 * instead of the member's row, so state stays O(members) at ~16 bytes of hash each. The hash is
 * not cryptographic: two 32-bit multiplicative hashes (64 bits together), so a change goes
 * unnoticed only if both halves collide for the same member (about 1 in 1.8·10^19).
 */

/** A canonical text for any exported value: object keys sorted, dates as ISO, bytes as hex. */
export function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date)
    return `"${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}"`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array)
    return `b"${[...value].map((b) => b.toString(16).padStart(2, '0')).join('')}"`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** 64-bit hash of a string as 16 hex characters. */
export function hash64(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** Fingerprint of a list of values (a row's cells in column order). */
export function fingerprint(values: readonly unknown[]): string {
  return hash64(canonical(values));
}
