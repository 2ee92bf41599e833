import * as v from 'valibot';

/**
 * The `level` option of a compression plugin: a whole number from `min` to `max`, every message
 * naming the codec's range.
 *
 * @example compressionLevel('zstd', 1, 19) // refuses 0, 20 and 2.5 with "level: expected a zstd level 1–19"
 */
export function compressionLevel(codec: string, min: number, max: number) {
  const expected = `level: expected a ${codec} level ${min}–${max}`;
  return v.pipe(
    v.number(expected),
    v.integer(`level: expected a whole number ${min}–${max}`),
    v.minValue(min, expected),
    v.maxValue(max, expected),
  );
}
