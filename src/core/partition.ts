/**
 * Partitioning by column value: the option, and Hive-style `column=value` folder segments whose
 * values are escaped so that each stays one path segment (a value `../x` or `a/b` cannot escape).
 */
import * as v from 'valibot';
import { type ConfigIssue, ExportError } from './errors.ts';
import { didYouMean } from './suggest.ts';
import type { Row } from './types.ts';

/** The folder value of a missing, null or empty partition value (Hive's and Spark's name; DuckDB reads it as NULL). */
export const DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';
/** Partitions a run may write unless its dataflow says otherwise; and the most it may say. */
export const DEFAULT_MAX_PARTITIONS = 1000;
export const MAX_PARTITIONS = 10_000;
/** A partition segment (`column=value`, escaped) is at most this long, as a file system's name. */
export const MAX_PARTITION_SEGMENT = 255;

const columnName = v.pipe(
  v.string('partitionBy.columns: expected column names'),
  v.minLength(1, 'partitionBy.columns: a column name must not be empty'),
  v.maxLength(128, 'partitionBy.columns: a column name has at most 128 characters'),
);

/** `{columns: ['country'], maxPartitions?: 1000}`: one file set per value (pair) of one or two output columns. */
export const partitionOptions = v.pipe(
  v.strictObject({
    columns: v.pipe(
      v.array(columnName, 'partitionBy.columns: expected a list of one or two output column names'),
      v.minLength(1, 'partitionBy.columns: one or two output column names'),
      v.maxLength(2, 'partitionBy.columns: at most two columns'),
    ),
    maxPartitions: v.optional(
      v.pipe(
        v.number('partitionBy.maxPartitions: expected a whole number'),
        v.integer('partitionBy.maxPartitions: expected a whole number'),
        v.minValue(1, 'partitionBy.maxPartitions: at least 1'),
        v.maxValue(MAX_PARTITIONS, `partitionBy.maxPartitions: at most ${MAX_PARTITIONS}`),
      ),
      DEFAULT_MAX_PARTITIONS,
    ),
  }),
  v.forward(
    v.check((p) => new Set(p.columns).size === p.columns.length, 'partitionBy.columns: a column is named twice'),
    ['columns'],
  ),
);
export type PartitionOptions = v.InferInput<typeof partitionOptions>;

/**
 * Characters Hive escapes in partition paths (its `FileUtils.escapePathName` set): control
 * characters, `"` `#` `%` `'` `*` `/` `:` `=` `?` `\` DEL `{` `[` `]` `^`, as `%XX`. Readers that
 * understand Hive paths (Hive, Spark, DuckDB) read the value back unescaped.
 */
const HIVE_ESCAPED = /[\u0000-\u001f"#%'*/:=?\\\u007f{[\]^]/g;

/** A value escaped the way Hive does: `a/b` → `a%2Fb`, `50%` → `50%25`. Never holds `/`. */
export function escapePartitionValue(text: string): string {
  return text.replace(HIVE_ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The text a row's value partitions by, or null (the default partition) when missing or empty. */
export function partitionText(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * The folder segment of one column's value: `country=FR`, `country=__HIVE_DEFAULT_PARTITION__`.
 * Always exactly one path segment, never `.` or `..`, at most `MAX_PARTITION_SEGMENT` characters.
 *
 * @example partitionSegment('city', '../etc') // 'city=..%2Fetc'
 */
export function partitionSegment(column: string, text: string | null): string {
  const segment = `${escapePartitionValue(column)}=${text === null ? DEFAULT_PARTITION : escapePartitionValue(text)}`;
  if (segment.length > MAX_PARTITION_SEGMENT) {
    throw new ExportError(
      'NAME_TOO_LONG',
      `partitionBy: a value of column "${column}" makes a folder name of ${segment.length} characters; at most ${MAX_PARTITION_SEGMENT} are allowed`,
      { stage: 'naming', details: { column, length: segment.length } },
    );
  }
  return segment;
}

/** A row's partition: its values (as text, null for the default) and its folder path under the run's folder. */
export function partitionOf(row: Row, columns: readonly string[]): { values: (string | null)[]; path: string } {
  const values = columns.map((c) => partitionText(row[c]));
  return { values, path: columns.map((c, i) => partitionSegment(c, values[i]!)).join('/') };
}

/** The error of a run that would write more partitions than its bound. */
export function tooManyPartitions(max: number): ExportError {
  return new ExportError(
    'PARTITION_LIMIT',
    `partitionBy: this run would write more than ${max} partitions (partitionBy.maxPartitions); nothing was published. Partition by a column with fewer distinct values, or raise maxPartitions (at most ${MAX_PARTITIONS})`,
    { stage: 'naming', details: { maxPartitions: max } },
  );
}

/**
 * Partition columns that are not among the output columns (`at`: where the option sits), and a
 * partitioning that would leave no column in the files: found at configuration time when the
 * columns are known (a mapping), at run time otherwise.
 */
export function partitionColumnIssues(columns: readonly string[], available: readonly string[], at: string): ConfigIssue[] {
  const issues: ConfigIssue[] = columns
    .map((column, i) => ({ column, i }))
    .filter(({ column }) => !available.includes(column))
    .map(({ column, i }) => ({
      path: `${at}.columns[${i}]`,
      message: `partitionBy.columns: "${column}" is not an output column${didYouMean(column, available) || ` (columns: ${available.join(', ')})`}`,
      expected: 'a mapped output column (its header)',
      received: JSON.stringify(column),
    }));
  if (issues.length === 0 && available.every((c) => columns.includes(c))) {
    issues.push({ path: `${at}.columns`, message: 'partitionBy.columns: at least one output column must stay in the files', expected: 'fewer partition columns than output columns' });
  }
  return issues;
}
