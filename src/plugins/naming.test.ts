import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { date } from './naming/date/index.ts';
import { segment } from './naming/segment/index.ts';
import { ExportError } from '../core/errors.ts';
import { baseFileName, confine, fileNameOptions, folderPath, mergeMacros, renderFolder, splitFileName } from '../core/naming.ts';
import type { NamingContext } from '../core/types.ts';

const ctx: NamingContext = {
  now: () => new Date('2026-03-04T05:06:07Z'),
  uuid: () => 'u',
  fetch,
  runId: 'run-1',
  scheduledTime: new Date('2026-03-04T05:06:07Z'),
  destination: { id: 'dest-9', name: 'Acme S3', organization: 'acme', sandbox: 'prod' },
  audience: { id: 'seg-1', name: 'VIP buyers/EU' },
};
const macros = mergeMacros([segment(), date()]);

describe('folderPath validation', () => {
  it.each([
    ['exports/daily', true],
    ['exports/%SEGMENT_NAME%', true],
    ['exports/%SEGMENT_NAME%/%SEGMENT_ID%', true],
    ["a/b!-_.'()\"^[]+$*", true],
    ['exports/%SEGMENT_ID%/more', false],
    ['exports/%SEGMENT_NAME%x/%DATE%', false],
    ['exports/../etc', false],
    ['exports/with space', false],
    ['exports/ü', false],
  ])('%s → %s', (path, ok) => {
    expect(v.safeParse(folderPath, path).success).toBe(ok);
  });
});

describe('renderFolder', () => {
  it('renders segment and date macros from the scheduled time', () => {
    expect(renderFolder('out/%YYYY%/%MM%/%DD%/%SEGMENT_NAME%/%SEGMENT_ID%', macros, ctx)).toBe('out/2026/03/04/VIP buyers_EU/seg-1');
    expect(renderFolder('%DT%/%HH%', macros, ctx)).toBe('dt=2026-03-04/05');
  });
  it('keeps macro values inside one segment and refuses dot segments', () => {
    const evil = { ...ctx, audience: { id: '..', name: '../../etc' } };
    expect(renderFolder('a/%SEGMENT_ID%/%SEGMENT_NAME%', macros, evil)).toBe('a/_/.._.._etc');
  });
  it('names an unknown macro', () => {
    expect(() => renderFolder('a/%NOPE%', macros, ctx)).toThrow(/unknown macro %NOPE%/);
  });
  it('refuses two stages defining one macro', () => {
    expect(() => mergeMacros([segment(), segment()])).toThrow(/defined by both/);
  });
});

describe('file names', () => {
  const opts = (o: object) => v.parse(fileNameOptions, o);
  it('always has destination name and audience id, date-time by default', () => {
    expect(baseFileName(opts({}), ctx)).toBe('Acme_S3_seg-1_20260304_050607');
  });
  it('adds optional parts in order', () => {
    const all = opts({ audienceName: true, dateTime: 'unix', customText: 'v2', destinationId: true, organization: true, sandbox: true });
    expect(baseFileName(all, ctx)).toBe(`Acme_S3_seg-1_VIP_buyers_EU_${Date.parse('2026-03-04T05:06:07Z') / 1000}_v2_dest-9_acme_prod`);
  });
  it('omits the date for overwrite mode', () => {
    expect(baseFileName(opts({ dateTime: 'none' }), ctx)).toBe('Acme_S3_seg-1');
  });
  it('numbers split files from the second on', () => {
    expect(splitFileName('a', ['csv', 'gz'], 1)).toBe('a.csv.gz');
    expect(splitFileName('a', ['csv', 'gz'], 2)).toBe('a_2.csv.gz');
  });
  it('refuses names over 255 characters', () => {
    expect(() => splitFileName('x'.repeat(252), ['csv'], 1)).toThrow(ExportError);
    expect(splitFileName('x'.repeat(251), ['csv'], 1)).toHaveLength(255);
  });
});

describe('confine', () => {
  it.each(['/abs', 'a/../b', 'a//b', 'a/./b', 'a\\b', '..'])('refuses %s', (key) => {
    expect(() => confine(key)).toThrow(/escape/);
  });
  it('accepts plain keys', () => {
    expect(confine('a/b c/d+e.csv')).toBe('a/b c/d+e.csv');
  });
});
