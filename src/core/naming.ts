/**
 * Object keys: folder-path templates with macros, file names from naming options, split suffixes,
 * and the proof that a rendered key stays under its folder.
 */
import * as v from 'valibot';
import { parseTemplate } from './name-template.ts';
import { didYouMean } from './suggest.ts';
import { ExportError } from './errors.ts';
import type { NamingContext, NamingStage } from './types.ts';

/**
 * Characters a folder path may hold: the reference's list, `%` for macros, and `=` for Hive-style
 * `key=value` segments (the reference's own dataset folders are `exportTime=YYYYMMDDHHMM`).
 */
const FOLDER_CHARS = /^[A-Za-z0-9/!\-_.'()"^[\]+$%*=]*$/;
const MACRO = /%([A-Z][A-Z0-9_]*)%/g;
/** Macros the reference allows only at the end of a folder path. */
const TRAILING_ONLY = new Set(['SEGMENT_NAME', 'SEGMENT_ID']);
export const MAX_FILE_NAME = 255;

/** Validates a folder path template: allowed characters, segment macros only at the end, no `..`. */
export const folderPath = v.pipe(
  v.string(),
  v.maxLength(1024, 'folderPath: at most 1024 characters'),
  v.regex(FOLDER_CHARS, `folderPath: only A-Z a-z 0-9 and / ! - _ . ' ( ) " ^ [ ] + $ % * = are allowed`),
  v.check((path) => !path.split('/').some((s) => s === '..' || s === '.'), 'folderPath: `.` and `..` segments are not allowed'),
  v.check(segmentMacrosTrail, 'folderPath: %SEGMENT_NAME% and %SEGMENT_ID% may only appear at the end (e.g. exports/%SEGMENT_NAME%/%SEGMENT_ID%)'),
);

function segmentMacrosTrail(path: string): boolean {
  const segments = path.split('/').filter(Boolean);
  let seenSegmentMacro = false;
  for (const segment of segments) {
    const isSegmentMacro = segment === '%SEGMENT_NAME%' || segment === '%SEGMENT_ID%';
    if (isSegmentMacro) seenSegmentMacro = true;
    else if (seenSegmentMacro || [...segment.matchAll(MACRO)].some((m) => TRAILING_ONLY.has(m[1]!))) return false;
  }
  return true;
}

/** The file-name options of a destination (destination name and audience id are always present). */
export const fileNameOptions = v.strictObject({
  audienceName: v.optional(v.boolean(), false),
  /** `datetime` → `YYYYMMDD_HHMMSS`, `unix` → seconds, `none` → overwrite the previous export. */
  dateTime: v.optional(v.picklist(['datetime', 'unix', 'none']), 'datetime'),
  customText: v.optional(v.pipe(v.string(), v.maxLength(100), v.regex(/^[A-Za-z0-9_\-.]*$/, 'customText: letters, digits, _ - . only'))),
  destinationId: v.optional(v.boolean(), false),
  organization: v.optional(v.boolean(), false),
  sandbox: v.optional(v.boolean(), false),
  /**
   * A file-name template (`{destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}`, see
   * name-template.ts) used instead of the parts above; its tokens are checked against the pipeline.
   */
  template: v.optional(
    v.pipe(
      v.string('template: expected a string'),
      v.description('A file-name template used instead of the parts above, e.g. {destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id} (tokens: docs/NAMING.md)'),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        for (const problem of parseTemplate(dataset.value).problems) addIssue({ message: `template: ${problem.message}` });
      }),
    ),
  ),
});
export type FileNameOptions = v.InferOutput<typeof fileNameOptions>;

/** The macro names a folder template uses, in order: `a/%YYYY%/%SEGMENT_ID%` → `['YYYY', 'SEGMENT_ID']`. */
export function folderMacros(template: string): string[] {
  return [...template.matchAll(MACRO)].map((m) => m[1]!);
}

/** Macros whose value depends on the exported subject (audience or dataset), not on the run. */
const SUBJECT_MACROS = new Set(['SEGMENT_NAME', 'SEGMENT_ID', 'DATASET_ID']);

/**
 * The part of a folder template every subject of a run shares: everything before the first
 * segment of it that names the subject (`exports/%YYYY%/%SEGMENT_NAME%` → `exports/%YYYY%`).
 * A run's manifest goes there.
 */
export function runFolderTemplate(template: string): string {
  const segments = template.split('/');
  const cut = segments.findIndex((segment) => folderMacros(segment).some((m) => SUBJECT_MACROS.has(m)));
  return (cut < 0 ? segments : segments.slice(0, cut)).join('/');
}

/** Merges macro maps from naming stages; two stages defining one macro is a configuration error. */
export function mergeMacros(stages: readonly NamingStage[]): Record<string, (ctx: NamingContext) => string> {
  const macros: Record<string, (ctx: NamingContext) => string> = {};
  const owner: Record<string, string> = {};
  for (const stage of stages) {
    for (const [name, fn] of Object.entries(stage.macros)) {
      if (owner[name]) {
        throw new ExportError('CONFIG_INVALID', `Macro %${name}% is defined by both ${owner[name]} and ${stage.name}`, {
          plugin: stage.name,
          stage: 'naming',
        });
      }
      owner[name] = stage.name;
      macros[name] = fn;
    }
  }
  return macros;
}

/** Makes a value safe as one key segment: no separators, no control characters, never `.`/`..`. */
export function safeSegment(value: string): string {
  const cleaned = value.replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim();
  if (cleaned === '' || cleaned === '.' || cleaned === '..') return '_';
  return cleaned;
}

/**
 * Renders a folder template: `exports/%YYYY%/%SEGMENT_NAME%` → `exports/2026/vip_buyers`.
 * Unknown macros are an error; macro values never introduce new path segments.
 */
export function renderFolder(
  template: string,
  macros: Record<string, (ctx: NamingContext) => string>,
  ctx: NamingContext,
): string {
  const rendered = template.replace(MACRO, (whole, name: string) => {
    const fn = macros[name];
    if (!fn) {
      throw new ExportError('CONFIG_INVALID', `folderPath: unknown macro ${whole}${didYouMean(whole, Object.keys(macros).map((m) => `%${m}%`))}; known: ${Object.keys(macros).map((m) => `%${m}%`).join(', ') || 'none'}`);
    }
    return safeSegment(fn(ctx));
  });
  return confine(rendered.split('/').filter(Boolean).join('/'));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYYMMDD_HHMMSS` in UTC. */
export function compactDateTime(date: Date): string {
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}_` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

/**
 * The base file name (no extension): destination name, audience (or dataset) id, then the optional
 * parts in the reference's order, joined by `_`.
 */
export function baseFileName(options: FileNameOptions, ctx: NamingContext): string {
  const subject = ctx.audience ?? (ctx.dataset && { id: ctx.dataset.id, name: ctx.dataset.id });
  const parts = [ctx.destination.name, subject?.id ?? 'export'];
  if (options.audienceName && ctx.audience) parts.push(ctx.audience.name);
  if (options.dateTime === 'datetime') parts.push(compactDateTime(ctx.scheduledTime));
  if (options.dateTime === 'unix') parts.push(String(Math.floor(ctx.scheduledTime.getTime() / 1000)));
  if (options.customText) parts.push(options.customText);
  if (options.destinationId) parts.push(ctx.destination.id);
  if (options.organization && ctx.destination.organization) parts.push(ctx.destination.organization);
  if (options.sandbox && ctx.destination.sandbox) parts.push(ctx.destination.sandbox);
  return parts.map((p) => safeSegment(p).replace(/\s+/g, '_')).join('_');
}

/** `name.csv.gz` for the first file of a split series, `name_2.csv.gz` for the second, … */
export function splitFileName(base: string, extensions: readonly string[], index: number): string {
  const suffix = index > 1 ? `_${index}` : '';
  const name = [base + suffix, ...extensions.filter(Boolean)].join('.');
  if (name.length > MAX_FILE_NAME) {
    throw new ExportError(
      'NAME_TOO_LONG',
      `File name is ${name.length} characters; at most ${MAX_FILE_NAME} are allowed. Shorten the destination name, audience name or custom text.`,
      { stage: 'naming', details: { length: name.length } },
    );
  }
  return name;
}

/**
 * Proves a key stays under its folder: no empty, `.` or `..` segment, no leading `/`, no backslash.
 * Returns the key unchanged.
 */
export function confine(key: string): string {
  const bad =
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    (key !== '' && key.split('/').some((s) => s === '' || s === '.' || s === '..'));
  if (bad) {
    throw new ExportError('KEY_UNSAFE', `Object key "${key}" would escape its folder (., .., empty segment, leading / or backslash)`, {
      stage: 'naming',
    });
  }
  return key;
}

/** Joins a folder and a file name into a confined key. */
export function joinKey(folder: string, name: string): string {
  return confine(folder ? `${folder}/${name}` : name);
}
