/**
 * File-name templates: `{destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}` → a base file name.
 * A superset of the reference's naming options (every part they offer is a token, custom text is
 * literal text) and of the folder macros (every macro of the naming plugins is a token too, as
 * `{SEGMENT_NAME}`, `{DT}` …). Split suffixes (`_2`) and the stages' extensions are added after it.
 */
import { ExportError } from './errors.ts';
import { compactDateTime, safeSegment } from './naming.ts';
import { didYouMean } from './suggest.ts';
import type { NamingContext } from './types.ts';

/** Characters literal text of a template may hold (a file name: no `/`, nothing to quote). */
export const TEMPLATE_LITERAL = /^[A-Za-z0-9_\-.=+]$/;
/** A template is at most this long (room for `_<n>` and extensions under the 255 of a file name). */
export const MAX_TEMPLATE = 200;

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The scheduled time's UTC parts, rendered once for both syntaxes that name them: the folder macros
 * of naming/date (`%YYYY%`, `%DATE%` …) and the file-name template tokens (`{YYYY}`, `{date}` …).
 */
export const TIME_PARTS = {
  YYYY: (ctx: NamingContext) => String(ctx.scheduledTime.getUTCFullYear()),
  MM: (ctx: NamingContext) => pad(ctx.scheduledTime.getUTCMonth() + 1),
  DD: (ctx: NamingContext) => pad(ctx.scheduledTime.getUTCDate()),
  HH: (ctx: NamingContext) => pad(ctx.scheduledTime.getUTCHours()),
  MI: (ctx: NamingContext) => pad(ctx.scheduledTime.getUTCMinutes()),
  SS: (ctx: NamingContext) => pad(ctx.scheduledTime.getUTCSeconds()),
  /** `YYYY-MM-DD`. */
  DATE: (ctx: NamingContext) => ctx.scheduledTime.toISOString().slice(0, 10),
} as const;

const subjectOf = (ctx: NamingContext) => ctx.audience ?? (ctx.dataset && { id: ctx.dataset.id, name: ctx.dataset.id });

/** The tokens every template may use, with what each renders (UTC times from the scheduled time). */
export const TEMPLATE_TOKENS: Readonly<Record<string, { readonly about: string; readonly render: (ctx: NamingContext) => string }>> = {
  destination: { about: 'destination name', render: (ctx) => ctx.destination.name },
  'destination.name': { about: 'destination name', render: (ctx) => ctx.destination.name },
  'destination.id': { about: 'destination id', render: (ctx) => ctx.destination.id },
  'audience.id': { about: 'audience id (a dataset export: the dataset id)', render: (ctx) => subjectOf(ctx)?.id ?? 'export' },
  'audience.name': { about: 'audience name (a dataset export: the dataset id)', render: (ctx) => subjectOf(ctx)?.name ?? 'export' },
  'dataset.id': { about: 'dataset id (an audience export: the audience id)', render: (ctx) => ctx.dataset?.id ?? ctx.audience?.id ?? 'export' },
  organization: { about: 'organization name', render: (ctx) => ctx.destination.organization ?? '' },
  sandbox: { about: 'sandbox name', render: (ctx) => ctx.destination.sandbox ?? '' },
  'run.id': { about: 'the run id (unique per run: two runs never share a name)', render: (ctx) => ctx.runId },
  datetime: { about: 'YYYYMMDD_HHMMSS', render: (ctx) => compactDateTime(ctx.scheduledTime) },
  unix: { about: 'Unix seconds', render: (ctx) => String(Math.floor(ctx.scheduledTime.getTime() / 1000)) },
  date: { about: 'YYYY-MM-DD', render: TIME_PARTS.DATE },
  YYYY: { about: 'year', render: TIME_PARTS.YYYY },
  MM: { about: 'month 01–12', render: TIME_PARTS.MM },
  DD: { about: 'day 01–31', render: TIME_PARTS.DD },
  HH: { about: 'hour 00–23', render: TIME_PARTS.HH },
  MI: { about: 'minute 00–59', render: TIME_PARTS.MI },
  SS: { about: 'second 00–59', render: TIME_PARTS.SS },
};

/** A parsed template: literal text and token names, in order. */
export type TemplatePart = { readonly text: string } | { readonly token: string };

/** A problem of a template's syntax or characters (tokens are checked against what a pipeline knows). */
export interface TemplateProblem {
  readonly message: string;
}

/**
 * Splits a template into literal text and tokens, with every syntax problem found.
 *
 * @example parseTemplate('{destination}_x') // { parts: [{token: 'destination'}, {text: '_x'}], problems: [] }
 */
export function parseTemplate(template: string): { parts: TemplatePart[]; problems: TemplateProblem[] } {
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === '{') {
      const end = template.indexOf('}', i + 1);
      if (end < 0) {
        problems.push({ message: `"{" at position ${i + 1} has no closing "}"` });
        break;
      }
      const name = template.slice(i + 1, end);
      if (!/^[A-Za-z][A-Za-z0-9_.]*$/.test(name)) problems.push({ message: `"{${name}}" at position ${i + 1} is not a token name (letters, digits, _ and .)` });
      if (text) parts.push({ text });
      text = '';
      parts.push({ token: name });
      i = end + 1;
      continue;
    }
    if (c === '}') problems.push({ message: `"}" at position ${i + 1} has no opening "{"` });
    else if (!TEMPLATE_LITERAL.test(c)) problems.push({ message: `character ${JSON.stringify(c)} at position ${i + 1} is not allowed; literal text may hold A-Z a-z 0-9 _ - . = +` });
    text += c;
    i++;
  }
  if (text) parts.push({ text });
  if (template.length === 0) problems.push({ message: 'must not be empty' });
  if (template.length > MAX_TEMPLATE) problems.push({ message: `at most ${MAX_TEMPLATE} characters (it has ${template.length})` });
  if (template.startsWith('.')) problems.push({ message: 'must not start with "."' });
  return { parts, problems };
}

/** Every token name a template can use: the built-in ones, then the naming plugins' macros. */
export function knownTokens(macros: Readonly<Record<string, unknown>>): string[] {
  return [...new Set([...Object.keys(TEMPLATE_TOKENS), ...Object.keys(macros)])];
}

/** Tokens of `template` that neither the built-ins nor `macros` define, each with a did-you-mean. */
export function unknownTokens(template: string, macros: Readonly<Record<string, unknown>>): { token: string; message: string }[] {
  const known = knownTokens(macros);
  const wrapped = known.map((k) => `{${k}}`);
  const seen = new Set<string>();
  const found: { token: string; message: string }[] = [];
  for (const part of parseTemplate(template).parts) {
    if (!('token' in part) || known.includes(part.token) || seen.has(part.token)) continue;
    seen.add(part.token);
    const hint = didYouMean(`{${part.token}}`, wrapped) || `; known: ${wrapped.join(' ')}`;
    found.push({ token: part.token, message: `unknown token {${part.token}}${hint}` });
  }
  return found;
}

/**
 * Renders a template into a base file name: token values become one safe name part (no separators,
 * whitespace as `_`); literal text stays as written.
 *
 * @example renderTemplate('{destination}_{run.id}', {}, ctx) // 'crm_3f2a…'
 */
export function renderTemplate(template: string, macros: Readonly<Record<string, (ctx: NamingContext) => string>>, ctx: NamingContext): string {
  return parseTemplate(template)
    .parts.map((part) => {
      if ('text' in part) return part.text;
      const render = TEMPLATE_TOKENS[part.token]?.render ?? macros[part.token];
      if (!render) throw new ExportError('CONFIG_INVALID', `fileName.template: unknown token {${part.token}}`, { stage: 'naming' });
      return safeSegment(render(ctx)).replace(/\s+/g, '_');
    })
    .join('');
}
