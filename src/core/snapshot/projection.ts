/**
 * The columns a run needs from a snapshot, so Parquet fetches only their column chunks: the id and
 * update-time columns, and for every attribute a rule, a mapping or a dedup key names, its column
 * and its nested columns (`person` → `person`, `person.name`, …); identity namespace N →
 * `identities.N` (in a profile-shaped snapshot, whose rows are `{id, identities, attributes,
 * updatedAt}`, the `identities` and `attributes` struct columns). Hive partition columns are columns
 * like the others.
 */
import { type NameUse, mappingNames, ruleNames } from '../data/attributes.ts';
import type { Schema } from '../types.ts';
import type { SnapshotProfileColumns } from './types.ts';

/** What the run's audiences read. */
export interface ProjectionNeeds {
  /** Their rules (PQL-like text). */
  readonly rules?: readonly string[];
  /** Their mappings (fields' sources and dedup keys). */
  readonly mappings?: readonly Parameters<typeof mappingNames>[0][];
  /** Names already gathered (e.g. by a caller's own validation). */
  readonly uses?: readonly NameUse[];
}

/**
 * The snapshot columns a run needs, in schema order. With an empty schema (an NDJSON snapshot
 * without a declared one) it is the names themselves (`readUnit` also keeps their nested keys).
 *
 * @example projection(plan.schema, source, { rules: ['country = "FR"'], mappings: [mapping] }) // ['id', 'updatedAt', 'country', 'identities.email']
 */
export function projection(schema: Schema, columns: SnapshotProfileColumns, needs: ProjectionNeeds): string[] {
  const uses = [
    ...(needs.uses ?? []),
    ...(needs.rules ?? []).flatMap((rule, i) => ruleNames(rule, `rules[${i}]`)),
    ...(needs.mappings ?? []).flatMap((mapping, i) => mappingNames(mapping, `mappings[${i}]`)),
  ];
  const names = new Set<string>([columns.idColumn ?? 'id', columns.updatedAtColumn ?? 'updatedAt']);
  for (const use of uses) names.add(use.kind === 'identity' ? `identities.${use.name}` : use.name);
  // A profile-shaped snapshot keeps them in two struct columns, read whole when any is named.
  const shaped = new Set<string>();
  if (uses.some((u) => u.kind === 'identity')) shaped.add('identities');
  if (uses.some((u) => u.kind === 'attribute')) shaped.add('attributes');
  if (schema.length === 0) return [...names, ...shaped];
  return schema.map((c) => c.name).filter((name) => shaped.has(name) || wanted(name, names));
}

/** Whether a column is one of `names` or nested under one (`person.name` under `person`). */
export function wanted(column: string, names: ReadonlySet<string>): boolean {
  if (names.has(column)) return true;
  for (let dot = column.indexOf('.'); dot > 0; dot = column.indexOf('.', dot + 1)) if (names.has(column.slice(0, dot))) return true;
  return false;
}
