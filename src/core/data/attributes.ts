/**
 * Which profile attributes and identity namespaces exist, so that a rule or a mapping naming one that
 * no profile has (`contry = "FR"`) is flagged with the closest real name, instead of validating and
 * then exporting nothing. Names are top-level: `attributes.address.city` is checked as `address`.
 * The CLI learns them from the first profiles of its source file (or `source.attributes`); the API
 * from every profile ingested into the organization.
 */
import type { ConfigIssue } from '../errors.ts';
import { parseRule } from '../rules/index.ts';
import { didYouMean } from '../suggest.ts';

/** The names profiles have: top-level attribute keys and identity namespaces. */
export interface ProfileNames {
  readonly attributes: Set<string>;
  readonly identities: Set<string>;
}

/** A name a rule or mapping reads, and where (the field path of the issue it would cause). */
export interface NameUse {
  readonly kind: 'attribute' | 'identity';
  readonly name: string;
  readonly path: string;
}

export function emptyNames(): ProfileNames {
  return { attributes: new Set(), identities: new Set() };
}

/** Adds the names one profile has to `names` (cheap: the keys of two objects). */
export function learnNames(names: ProfileNames, profile: { attributes?: unknown; identities?: unknown }): void {
  if (isObject(profile.attributes)) for (const key of Object.keys(profile.attributes)) names.attributes.add(key);
  if (isObject(profile.identities)) for (const key of Object.keys(profile.identities)) names.identities.add(key);
}

/**
 * The attributes and namespaces a rule reads: bare names and `attributes.x` are attributes,
 * `identities.x` a namespace; `id` and `updatedAt` are always there. A rule that does not parse reads
 * nothing here (its syntax error is reported on its own).
 */
export function ruleNames(rule: string, path: string): NameUse[] {
  let ast: unknown;
  try {
    ast = parseRule(rule);
  } catch {
    return [];
  }
  const uses: NameUse[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) walk(item);
    else if (isObject(node) && node.type === 'field' && Array.isArray(node.path)) {
      const use = nameOf(node.path as string[], path);
      if (use) uses.push(use);
    } else if (isObject(node)) for (const value of Object.values(node)) if (typeof value === 'object') walk(value);
  };
  walk(ast);
  return uses;
}

/** The attributes and namespaces a mapping reads: its fields' sources and its dedup key. */
export function mappingNames(
  mapping: { fields: readonly { source: string }[]; dedup?: { identity?: string; attributes?: readonly string[] } | undefined },
  path: string,
): NameUse[] {
  const uses: NameUse[] = [];
  mapping.fields.forEach((field, i) => {
    const use = nameOf(field.source.split('.'), `${path}.fields[${i}].source`, false);
    if (use) uses.push(use);
  });
  const dedup = mapping.dedup;
  if (dedup?.identity) uses.push({ kind: 'identity', name: dedup.identity, path: `${path}.dedup.identity` });
  dedup?.attributes?.forEach((attribute, i) => {
    const use = nameOf(attribute.split('.'), `${path}.dedup.attributes[${i}]`, false);
    if (use) uses.push(use);
  });
  return uses;
}

/**
 * One issue per name used that no profile has, with the closest known name; `basis` says where the
 * names were learnt ("no profile of this organization has it").
 *
 * @example unknownNames(ruleNames('contry = "FR"', 'rule'), names, 'no profile has it')
 * // [{ path: 'rule', message: 'unknown attribute "contry" (did you mean "country"?) in rule: no profile has it' }]
 */
export function unknownNames(uses: readonly NameUse[], names: ProfileNames, basis: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const use of uses) {
    const known = use.kind === 'attribute' ? names.attributes : names.identities;
    const key = `${use.path}\u0000${use.kind}\u0000${use.name}`;
    if (known.has(use.name) || seen.has(key)) continue;
    seen.add(key);
    const what = use.kind === 'attribute' ? 'attribute' : 'identity namespace';
    issues.push({
      path: use.path,
      message: `unknown ${what} ${JSON.stringify(use.name)}${didYouMean(use.name, known)} in ${use.path}: ${basis}`,
      expected: `an ${what} profiles have`,
      received: JSON.stringify(use.name),
    });
  }
  return issues;
}

/** What a field path reads: rules take bare attribute names, mappings always say `attributes.`. */
function nameOf(segments: readonly string[], path: string, bare = true): NameUse | undefined {
  const [root, name] = segments;
  if (root === 'attributes' && name) return { kind: 'attribute', name, path };
  if (root === 'identities' && name) return { kind: 'identity', name, path };
  if (!bare || root === undefined || root === 'id' || root === 'updatedAt' || root === 'attributes' || root === 'identities') return undefined;
  return { kind: 'attribute', name: root, path };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
